"""Issue 12 §1.2: a name that breaks out of the CSS of a PDF's page footer must not make the server fetch
a URL or embed a local file. The names come in as an attacker sends them (REST create and update, the
intake tablet); every kind of PDF is then printed, with a listener that must see no connection."""

import pytest
from django.test import Client
from django.utils import timezone

from dermatox.accounts.roles import Role
from dermatox.assessments.services import observation_record
from dermatox.chart.signing import assessment_sign
from dermatox.intake.models import IntakeForm
from dermatox.patients.models import Patient
from dermatox.patients.services import encounter_create
from dermatox.treatments.services import session_create
from tests.documents.conftest import SECRET, breakout
from tests.intake.answers import valid_answers
from tests.pdf import pdf_text
from tests.signing import sign
from tests.web.test_intake_views import start_link

pytestmark = pytest.mark.django_db


def print_every_document(client, patient, *, physician, nurse, vial) -> dict[str, bytes]:
    """Records that give the patient each printed document, then each PDF as the clinic downloads it."""
    visit = encounter_create(
        actor=physician, patient=patient, data={"kind": "consultation", "start": timezone.now()}
    )
    observation_record(actor=physician, patient=patient, code="daily_shedding", value=120, encounter=visit)
    assessment_sign(actor=physician, patient=patient, as_of=timezone.localdate())
    session = sign(
        nurse, session_create(actor=nurse, patient=patient, protocol="hair_scalp_im", vial_id=vial.pk)
    )
    urls = {
        "plan": f"/patients/{patient.pk}/plan.pdf",
        "aftercare": f"/patients/{patient.pk}/sessions/{session.pk}/aftercare.pdf",
        "visit": f"/patients/{patient.pk}/visits/{visit.pk}/summary.pdf",
    }
    for intake in IntakeForm.objects.filter(patient=patient).exclude(consent_pdf=""):
        urls["intake consent"] = f"/patients/{patient.pk}/intake/{intake.pk}/pdf/"
    pdfs = {}
    for kind, url in urls.items():
        response = client.get(url)
        assert response.status_code == 200, (kind, response.content[:300])
        pdfs[kind] = b"".join(response) if response.streaming else response.content
    return pdfs


def assert_nothing_fetched(pdfs: dict[str, bytes], arrived: list[bytes]):
    assert arrived == [], f"the PDF renderer connected to the listener: {arrived[:1]}"
    for kind, pdf in pdfs.items():
        text = pdf_text(pdf)
        assert SECRET not in text, f"{kind}: a local file was embedded"
        assert "Ayla" in text, kind  # the name is still printed, as text


def test_names_sent_through_rest_cannot_make_a_pdf_fetch(
    api, staff, login, physician, nurse, receive_and_open, listener, secret_file
):
    port, arrived = listener
    given, family = breakout(port, "rest-create", secret_file)
    created = api(
        "post",
        "/api/patients",
        {"given_name": given, "family_name": family, "sex_at_birth": "male", "birth_date": "1980-01-02"},
    )
    assert created.status_code == 201, created.json()
    patient = Patient.objects.get(pk=created.json()["id"])
    assert "\r" not in patient.given_name  # stripped at the service boundary

    other = Patient.objects.get(
        pk=api(
            "post",
            "/api/patients",
            {"given_name": "Deniz", "family_name": "Ak", "sex_at_birth": "male", "birth_date": "1981-03-04"},
        ).json()["id"]
    )
    given, family = breakout(port, "rest-update", secret_file, end="\f")
    updated = api("patch", f"/api/patients/{other.pk}", {"given_name": given, "family_name": family})
    assert updated.status_code == 200, updated.json()

    client = login(staff[Role.PHYSICIAN])
    pdfs = {}
    for number, target in enumerate((patient, other)):
        vial = receive_and_open(f"SSRF-REST-{number}")
        printed = print_every_document(client, target, physician=physician, nurse=nurse, vial=vial)
        pdfs.update({f"{target.pk} {kind}": pdf for kind, pdf in printed.items()})
    assert len(pdfs) == 6
    assert_nothing_fetched(pdfs, arrived)


def test_names_typed_on_the_intake_tablet_cannot_make_a_pdf_fetch(
    staff, login, patient, physician, nurse, receive_and_open, listener, secret_file
):
    """The tablet needs no login: the patient's own answers reach the consent PDF at once and, once a
    nurse confirms them, every later document."""
    port, arrived = listener
    link = start_link(login(staff[Role.FRONT_DESK]), patient)
    given, family = breakout(port, "intake", secret_file)
    sent = Client().post(link, valid_answers(given_name=given, family_name=family, signer_name=given))
    assert sent.status_code == 200
    intake = IntakeForm.objects.get()
    assert intake.status == "submitted", sent.content[:500]
    assert "\r" not in intake.answers["demographics"]["given_name"]

    client = login(staff[Role.NURSE])
    assert (
        client.post(f"/patients/{patient.pk}/intake/{intake.pk}/", {"action": "confirm"}).status_code == 302
    )
    patient.refresh_from_db()
    assert patient.given_name.startswith("Ayla ") and "\r" not in patient.given_name

    client = login(staff[Role.PHYSICIAN])
    pdfs = print_every_document(
        client, patient, physician=physician, nurse=nurse, vial=receive_and_open("SSRF-INTAKE")
    )
    assert set(pdfs) == {"plan", "aftercare", "visit", "intake consent"}
    assert_nothing_fetched(pdfs, arrived)
