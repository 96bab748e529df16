"""An emergency grant (break-the-glass) opens a patient's chart pages in the browser only: REST, FHIR and the
patient lists behind bulk export stay scoped to the token's clinic (docs/security/emergency-access.md)."""

import pytest

from dermatox.accounts.models import Membership
from dermatox.common.context import Actor
from dermatox.patients.emergency_access import emergency_access_begin

pytestmark = pytest.mark.django_db


def test_a_running_grant_gives_the_apis_nothing(staff, clinics, patient, api, token):
    doctor_b = staff["physician_b"]
    membership = Membership.objects.get(user=doctor_b)
    emergency_access_begin(
        actor=Actor(user=doctor_b, clinic=membership.clinic, role=membership.role),
        patient_ref=patient.mrn,
        reason="Allergy check before an emergency injection",
    )
    auth = token(scopes=("read", "write", "export"), user_key="physician_b", clinic_index=1)
    for path in (f"/api/patients/{patient.pk}", f"/api/patients/{patient.pk}/allergies"):
        response = api("get", path, auth=auth)
        assert response.status_code in (403, 404), (path, response.status_code)
        assert patient.given_name not in response.content.decode()
    listed = api("get", f"/api/patients?identifier={patient.mrn}", auth=auth)
    assert patient.mrn not in listed.content.decode()
    fhir = api("get", f"/fhir/Patient/{patient.pk}", auth=auth)
    assert fhir.status_code in (403, 404) and patient.given_name not in fhir.content.decode()
    search = api("get", "/fhir/Patient?identifier=12345678901", auth=auth)
    assert patient.given_name not in search.content.decode()
