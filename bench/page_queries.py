"""SQL queries per main page, for a patient with 10 and with 500 visits (and a clinic with both).

Not a timing: it counts queries per request (Django's CaptureQueriesContext), including the session,
user, clinic membership and the audit entry each page writes. Run: `make bench`, or with DATABASE_URL.
"""

from __future__ import annotations

import sys

from patient_page import setup_django


def main() -> int:
    setup_django()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from dermatox.accounts.models import Clinic, Membership, User
    from dermatox.chart.signing import assessment_sign
    from dermatox.common.context import Actor
    from dermatox.demo.long_history import patient_with_long_history

    clinic = Clinic.objects.create(name="Bench", code="bench")
    user = User.objects.create_user("bench", password="Bench-password-1")
    Membership.objects.create(user=user, clinic=clinic, role="physician")
    actor = Actor(user=user, clinic=clinic, role="physician")
    patients = {n: patient_with_long_history(actor=actor, visits=n) for n in (10, 500)}
    for patient in patients.values():
        assessment_sign(actor=actor, patient=patient, as_of=timezone.localdate())
    client = Client()
    client.force_login(user)
    session = client.session
    session["clinic_id"] = clinic.pk
    session.save()

    pages = {
        "patient page": "/patients/{p}/",
        "outcome plots": "/patients/{p}/outcomes/",
        "assessment": "/patients/{p}/assessment/",
        "hair examination": "/patients/{p}/examination/hair/",
        "skin examination": "/patients/{p}/examination/skin/",
        "lab entry": "/patients/{p}/labs/",
        "treatment plan PDF": "/patients/{p}/plan.pdf",
        "patient list": "/patients/",
        "schedule (day)": "/schedule/",
        "schedule (week)": "/schedule/week/",
        "recall worklist": "/recall/",
        "clinic outcomes": "/outcomes/",
    }
    print(f"{'page':24} {'10 visits':>10} {'500 visits':>11}")
    for name, path in pages.items():
        counts = []
        for patient in patients.values():
            with CaptureQueriesContext(connection) as queries:
                response = client.get(path.format(p=patient.pk))
            assert response.status_code == 200, (path, response.status_code)
            counts.append(len(queries))
        print(f"{name:24} {counts[0]:>10} {counts[1]:>11}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
