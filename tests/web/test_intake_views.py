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


def test_the_new_safety_medicines_are_asked_and_a_reported_dose_reads_in_words(staff, login, patient):
    """clinical.md §12.3-§12.4: the patient's tablet asks about the medicines the safety rules read (in
    Turkish); the nurse's review and the signed PDF give an outside toxin dose by area and product name,
    never as ids."""
    import datetime as dt

    from django.utils import timezone

    from tests.pdf import pdf_text

    link = start_link(login(staff[Role.FRONT_DESK]), patient)
    tablet = Client()
    form = tablet.get(link).content.decode()
    assert "Tiyokolşikosid, tizanidin, baklofen veya siklobenzaprin" in form  # muscle relaxant (§12.4)
    assert "Tazaroten (topikal retinoid)" in form  # a `which` choice of the retinoid question (§12.3)
    given = (timezone.localdate() - dt.timedelta(days=40)).isoformat()
    tablet.post(
        link,
        valid_answers(
            q_dutasteride="yes",
            toxin_before="yes",
            toxin_last_date=given,
            toxin_last_area="face",
            toxin_last_product="abobotulinumtoxinA",
        ),
    )
    user = staff[Role.NURSE]
    user.language = "tr"
    user.save()
    nurse = login(user)
    intake = IntakeForm.objects.get()
    page = nurse.get(f"/patients/{patient.pk}/intake/{intake.pk}/").content.decode()
    assert "Yüz · abobotulinumtoksinA (Dysport, Azzalure)" in page and "· face ·" not in page
    response = nurse.get(f"/patients/{patient.pk}/intake/{intake.pk}/pdf/")
    pdf = " ".join(pdf_text(b"".join(response.streaming_content)).split())
    assert "Yüz · abobotulinumtoksinA" in pdf and "abobotulinumtoxinA" not in pdf
    nurse.post(f"/patients/{patient.pk}/intake/{intake.pk}/", {"action": "confirm"})
    assert patient.medications.get().code == "dutasteride"
