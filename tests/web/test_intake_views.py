"""The intake pages: the patient's link (no login), errors in the patient's language, staff review."""

import re

import pytest
from django.test import Client

from dermatox.accounts.roles import Role
from dermatox.intake.models import IntakeForm
from tests.intake.answers import valid_answers

pytestmark = pytest.mark.django_db


def start_link(client, patient) -> str:
    page = client.post(f"/patients/{patient.pk}/intake/start/").content.decode()
    return re.search(r'href="http://testserver(/intake/[^"]+/)" id="open-intake"', page).group(1)


def test_front_desk_starts_and_the_patient_fills_in_without_logging_in(staff, login, patient):
    link = start_link(login(staff[Role.FRONT_DESK]), patient)
    tablet = Client()
    page = tablet.get(link).content.decode()
    assert 'lang="tr"' in page and "Sağlık" in page  # the patient's preferred language (tr)
    assert "/patients/" not in page  # nothing of the staff system is reachable from it
    response = tablet.post(link, valid_answers())
    assert response.status_code == 200 and b"hand the tablet back" not in response.content  # Turkish
    assert IntakeForm.objects.get().status == "submitted"
    assert tablet.get(link).status_code == 404  # used once


def test_errors_are_shown_next_to_the_question_in_the_patients_language(staff, login, patient):
    link = start_link(login(staff[Role.FRONT_DESK]), patient)
    tablet = Client()
    data = valid_answers()
    del data["q_toxin_allergy"]
    page = tablet.post(link + "?lang=en", {**data, "lang": "en"}).content.decode()
    assert "Please answer this question." in page and 'href="#f-q_toxin_allergy"' in page
    assert IntakeForm.objects.get().status == "open"


def test_nurse_reviews_and_confirms(staff, login, patient, client):
    link = start_link(login(staff[Role.FRONT_DESK]), patient)
    Client().post(link, valid_answers(q_milk_allergy="yes"))
    nurse = login(staff[Role.NURSE])
    intake = IntakeForm.objects.get()
    page = nurse.get(f"/patients/{patient.pk}/intake/{intake.pk}/").content.decode()
    assert "Confirm into the record" in page
    pdf = nurse.get(f"/patients/{patient.pk}/intake/{intake.pk}/pdf/")
    assert pdf["Content-Type"] == "application/pdf"
    assert nurse.post(f"/patients/{patient.pk}/intake/{intake.pk}/", {"action": "confirm"}).status_code == 302
    assert patient.allergies.get().code == "cow_milk_protein"


def test_front_desk_cannot_see_the_answers(staff, login, patient):
    link = start_link(login(staff[Role.FRONT_DESK]), patient)
    Client().post(link, valid_answers())
    intake = IntakeForm.objects.get()
    desk = login(staff[Role.FRONT_DESK])
    assert desk.get(f"/patients/{patient.pk}/intake/{intake.pk}/").status_code == 403
