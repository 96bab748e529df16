"""Cases found in review: each would fail if its fix were undone."""

import datetime as dt

import pytest
from django.test import override_settings
from django.utils import timezone

from dermatox.accounts.roles import Role
from dermatox.audit.models import AuditEntry
from dermatox.common.errors import InvalidInput
from dermatox.patients import services as ps
from dermatox.patients.models import Condition, Encounter, Note, Patient
from tests.web.fixtures import full_record

pytestmark = pytest.mark.django_db


def test_a_note_can_be_linked_to_one_of_the_patients_visits(login, staff, physician, patient, client):
    ids = full_record(physician, patient)
    login(staff[Role.NURSE])
    response = client.post(
        f"/patients/{patient.pk}/add/note/",
        {"encounter": ids["encounter"], "kind": "progress", "text": "Linked."},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Note.objects.get(text="Linked.").encounter_id == ids["encounter"]


def test_services_refuse_fields_they_do_not_take(physician, patient):
    now = timezone.now()
    with pytest.raises(InvalidInput, match="unknown field"):
        ps.encounter_create(
            actor=physician,
            patient=patient,
            data={"kind": "consultation", "start": now, "entered_in_error_at": now},
        )
    with pytest.raises(InvalidInput, match="unknown field"):
        ps.condition_add(
            actor=physician, patient=patient, data={"category": "history", "text": "x", "patient": patient}
        )


def test_records_cannot_hang_on_another_clinics_visit(staff, actor_for, physician, patient):
    other = actor_for(staff["physician_b"])
    foreign = ps.patient_create(
        actor=other,
        data={"given_name": "B", "family_name": "B", "sex_at_birth": "male", "birth_date": "1980-01-01"},
    )
    visit = ps.encounter_create(
        actor=other, patient=foreign, data={"kind": "consultation", "start": timezone.now()}
    )
    with pytest.raises(InvalidInput) as info:
        ps.condition_add(
            actor=physician,
            patient=patient,
            data={"category": "diagnosis", "text": "Acne", "encounter": visit},
        )
    assert "encounter" in info.value.fields
    assert not Condition.objects.exists()
    with pytest.raises(InvalidInput) as info:
        ps.encounter_create(
            actor=physician,
            patient=patient,
            data={"kind": "consultation", "start": timezone.now(), "practitioner": staff["physician_b"]},
        )
    assert "practitioner" in info.value.fields


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (
            lambda a, p: ps.condition_add(
                actor=a,
                patient=p,
                data={"category": "history", "text": "x", "onset_date": dt.date(9999, 1, 1)},
            ),
            "onset_date",
        ),
        (
            lambda a, p: ps.pregnancy_status_record(
                actor=a,
                patient=p,
                data={"pregnant": "no", "breastfeeding": "no", "recorded_on": dt.date(1950, 1, 1)},
            ),
            "recorded_on",
        ),
        (
            lambda a, p: ps.encounter_create(
                actor=a,
                patient=p,
                data={"kind": "consultation", "start": dt.datetime(1, 1, 1, 0, 30, tzinfo=dt.UTC)},
            ),
            "start",
        ),
        (
            lambda a, p: ps.medication_add(
                actor=a,
                patient=p,
                data={"name": "Finasteride", "start_date": timezone.localdate() + dt.timedelta(days=30)},
            ),
            "start_date",
        ),
    ],
)
def test_implausible_clinical_dates_are_refused(physician, patient, call, field):
    with pytest.raises(InvalidInput) as info:
        call(physician, patient)
    assert field in info.value.fields


def test_web_form_with_year_one_names_the_field(login, staff, patient, client):
    login(staff[Role.FRONT_DESK])
    response = client.post(
        f"/patients/{patient.pk}/add/encounter/",
        {"kind": "consultation", "status": "planned", "start": "0001-01-01T00:30"},
    )
    assert response.status_code == 200
    assert "Start: must be between 1900 and 2100" in response.content.decode()
    assert not Encounter.objects.exists()


def test_measurement_with_too_many_decimals_names_the_value(login, staff, patient, client):
    login(staff[Role.NURSE])
    response = client.post(
        f"/patients/{patient.pk}/add/observation/",
        {"code": "hair_density", "value": "150.123456", "effective_at": "2026-01-01T10:00"},
    )
    assert "Value: must have at most 4 decimal places" in response.content.decode()


def test_very_long_folded_names_still_save(physician):
    patient = ps.patient_create(
        actor=physician,
        data={
            "given_name": "ﷺ" * 100,
            "family_name": "X",
            "sex_at_birth": "male",
            "birth_date": "1980-01-01",
        },
    )
    assert len(patient.search_name) <= 210


def test_forms_and_correction_pages_are_audited_as_reads(login, staff, physician, patient, client):
    ids = full_record(physician, patient)
    login(staff[Role.NURSE])
    client.get(f"/patients/{patient.pk}/add/note/")
    client.post(
        f"/patients/{patient.pk}/error/allergy/{ids['allergy']}/", {"reason": ""}
    )  # invalid: re-shown
    actions = set(AuditEntry.objects.filter(actor_username="nurse_a").values_list("action", flat=True))
    assert {"patient.view_for_note", "allergy.view_for_correction"} <= actions


def test_edit_that_changes_nothing_writes_nothing_and_real_edits_name_their_fields(
    login, staff, patient, client
):
    login(staff[Role.FRONT_DESK])
    data = {
        "given_name": "İpek",
        "family_name": "Şahin",
        "sex_at_birth": "female",
        "birth_date": "1990-04-02",
        "preferred_language": "tr",
        "phone": "",
        "email": "",
        "address": "",
    }
    client.post(f"/patients/{patient.pk}/edit/", data)
    assert not AuditEntry.objects.filter(action="patient.update").exists()
    assert patient.history.count() == 1
    client.post(f"/patients/{patient.pk}/edit/", {**data, "phone": "+90 532 111 22 33"})
    assert AuditEntry.objects.get(action="patient.update").detail == {"changed": ["phone"]}


def test_list_and_search_audit_name_the_patients_shown(login, staff, patient, client):
    login(staff[Role.FRONT_DESK])
    client.get("/patients/")
    client.get("/patients/?q=ipek")
    for action in ("patient.list", "patient.search"):
        assert AuditEntry.objects.filter(action=action).latest("seq").detail["patient_ids"] == [
            str(patient.pk)
        ]


def test_chart_audit_names_the_sections_each_role_saw(login, staff, patient, client):
    login(staff[Role.FRONT_DESK]).get(f"/patients/{patient.pk}/")
    sections = AuditEntry.objects.filter(action="patient.view").latest("seq").detail["sections"]
    assert "consents" in sections and "notes" not in sections


@override_settings(TRUST_X_FORWARDED_FOR=True)
def test_behind_a_proxy_the_address_is_the_one_the_proxy_added(login, staff, patient, client):
    login(staff[Role.NURSE])
    client.get(f"/patients/{patient.pk}/", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9")
    assert AuditEntry.objects.filter(action="patient.view").latest("seq").ip == "203.0.113.9"


def test_bad_sort_is_ignored_not_an_error(login, staff, client):
    login(staff[Role.MANAGER])
    assert client.get("/audit/?sort=--seq").status_code == 200


def test_sysadmin_reads_the_trail_without_patient_details(login, staff, patient, client):
    login(staff[Role.FRONT_DESK]).get("/patients/?q=ipek")
    page = login(staff[Role.SYSADMIN]).get("/audit/").content.decode()
    assert "patient.search" in page and "text: ipek" not in page
    page = login(staff[Role.MANAGER]).get("/audit/").content.decode()
    assert "text: ipek" in page


def test_managers_see_failed_sign_ins_of_their_staff(login, staff, client):
    client.post("/login/", {"username": "nurse_a", "password": "wrong-password"})
    client.post("/login/", {"username": "physician_b", "password": "wrong-password"})
    page = login(staff[Role.MANAGER]).get("/audit/?action=auth.login_failed").content.decode()
    assert "username: nurse_a" in page
    assert "physician_b" not in page  # another clinic's staff


def test_patient_marked_in_error_leaves_the_list(login, staff, patient, client):
    login(staff[Role.FRONT_DESK])
    client.post(f"/patients/{patient.pk}/error/patient/0/", {"reason": "Duplicate registration"})
    assert Patient.objects.get().is_entered_in_error
    assert "Şahin" not in client.get("/patients/").content.decode()
