"""Front desk and managers see what booking needs (who, when, which kind of visit), never a follow-up's
clinical reason, the protocol or pathway it came from, nor an audit entry's protocols, points or doses —
on every reader: the recall list, the chart, the appointment page, REST, FHIR and the audit view.
Physicians and nurses keep seeing everything."""

import datetime as dt
import json

import pytest
from django.utils import timezone

from dermatox.accounts.roles import Role
from dermatox.accounts.tokens import api_token_create
from dermatox.audit.models import AuditEntry
from dermatox.common.context import Actor
from dermatox.scheduling import services as sched
from dermatox.scheduling.models import Appointment
from dermatox.treatments.services import follow_up_create, session_create

pytestmark = pytest.mark.django_db

REASON = "Review hair count after 12 weeks of minoxidil"
SOURCE = "pathway:botulinum_scalp"
CLINICAL = (REASON, "botulinum", "Botulinum", "minoxidil", "Pathway:")
NON_CLINICAL = (Role.FRONT_DESK, Role.MANAGER)


def leaks(text: str) -> list[str]:
    return [word for word in CLINICAL if word in text]


@pytest.fixture
def item(physician, patient):
    """A follow-up from the hair pathway, as signing an assessment makes it."""
    record = follow_up_create(
        actor=physician,
        patient=patient,
        data={"due_date": timezone.localdate() + dt.timedelta(days=3), "reason": REASON, "source": SOURCE},
    )
    return record


@pytest.fixture
def booked(physician, item):
    """The follow-up booked from the recall list, with the reason an older booking copied onto it."""
    appointment = sched.follow_up_book(actor=physician, follow_up=item)
    Appointment.objects.filter(pk=appointment.pk).update(reason=item.reason)
    return appointment


def bearer(clinics, user, role) -> dict:
    _token, secret = api_token_create(
        actor=Actor.system(clinic=clinics[0]),
        clinic=clinics[0],
        user=user,
        name="t",
        role=role,
        scopes=["read"],
    )
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


# --- web pages ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", NON_CLINICAL)
def test_recall_list_and_chart_show_the_visit_kind_not_the_reason(login, staff, item, patient, role):
    client = login(staff[role])
    for url in ("/recall/", f"/patients/{patient.pk}/"):
        page = client.get(url).content.decode()
        assert "Treatment progress review" in page, url
        assert leaks(page) == [], url


@pytest.mark.parametrize("role", [Role.PHYSICIAN, Role.NURSE])
def test_clinicians_still_see_the_reason_and_its_source(login, staff, item, patient, role):
    client = login(staff[role])
    for url in ("/recall/", f"/patients/{patient.pk}/"):
        page = client.get(url).content.decode()
        assert REASON in page and "Pathway: Botulinum toxin to the scalp muscles" in page, url
        assert SOURCE not in page, url  # the label, not the raw id


@pytest.mark.parametrize("role", NON_CLINICAL)
def test_the_appointment_page_and_booked_list_hide_a_copied_reason(login, staff, booked, role):
    client = login(staff[role])
    for url in (f"/schedule/appointments/{booked.pk}/", "/recall/"):
        page = client.get(url).content.decode()
        assert "Treatment progress review" in page and leaks(page) == [], url


def test_the_appointment_page_shows_the_reason_to_a_physician(login, staff, booked):
    page = login(staff[Role.PHYSICIAN]).get(f"/schedule/appointments/{booked.pk}/").content.decode()
    assert REASON in page


def test_booking_from_the_recall_list_no_longer_copies_the_reason(physician, item):
    appointment = sched.follow_up_book(actor=physician, follow_up=item)
    assert appointment.reason == "" and appointment.follow_up_id == item.pk


# --- REST and FHIR --------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", NON_CLINICAL)
def test_a_front_desk_or_manager_token_reads_follow_ups_without_the_reason(
    client, clinics, staff, booked, role
):
    auth = bearer(clinics, staff[role], role)
    patient_id = booked.patient_id
    response = client.get(f"/api/patients/{patient_id}/follow-ups", **auth)
    assert response.status_code == 200
    item = response.json()["items"][0]
    assert item["reason"] is None and item["source"] is None and item["visit"] == "Treatment progress review"
    listed = client.get(f"/api/patients/{patient_id}/appointments", **auth)
    assert listed.json()["items"][0]["reason"] == "Treatment progress review"
    assert leaks(listed.content.decode()) == []
    fhir = client.get(f"/fhir/Appointment?patient={patient_id}", **auth)
    assert fhir.status_code == 200 and leaks(fhir.content.decode()) == []


def test_a_physician_token_reads_the_reason(client, clinics, staff, booked):
    auth = bearer(clinics, staff[Role.PHYSICIAN], "physician")
    item = client.get(f"/api/patients/{booked.patient_id}/follow-ups", **auth).json()["items"][0]
    assert (item["reason"], item["source"]) == (REASON, SOURCE)
    listed = client.get(f"/api/patients/{booked.patient_id}/appointments", **auth).json()["items"][0]
    assert listed["reason"] == REASON


# --- the audit view -------------------------------------------------------------------------------------


def test_the_managers_audit_view_shows_no_protocol_points_or_source(login, staff, nurse, patient, item):
    session_create(actor=nurse, patient=patient, protocol="glabellar_lines")
    page = login(staff[Role.MANAGER]).get("/audit/").content.decode()
    assert "session.create" in page and "follow_up.create" in page  # who did what stays visible
    assert "glabellar_lines" not in page and "points:" not in page and SOURCE not in page
    assert "not shown for your role" in page
    assert json.dumps(item.reason) not in page


def test_the_visit_kind_is_in_the_readers_language(login, staff, item):
    staff[Role.FRONT_DESK].language = "tr"
    staff[Role.FRONT_DESK].save()
    page = login(staff[Role.FRONT_DESK]).get("/recall/").content.decode()
    assert "Tedavi gidişatı kontrolü" in page and leaks(page) == []


def test_chart_audit_names_the_sections_each_role_saw(login, staff, patient, client):
    login(staff[Role.FRONT_DESK]).get(f"/patients/{patient.pk}/")
    sections = AuditEntry.objects.filter(action="patient.view").latest("seq").detail["sections"]
    assert "consents" in sections and "notes" not in sections
