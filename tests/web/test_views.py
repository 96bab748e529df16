import datetime as dt

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dermatox.accounts.roles import Role
from dermatox.assessments.models import Observation
from dermatox.audit.models import AuditEntry
from dermatox.demo.long_history import patient_with_long_history
from dermatox.patients.models import Encounter, Note, Patient
from tests.conftest import PASSWORD
from tests.web.fixtures import full_record

pytestmark = pytest.mark.django_db


def test_passwords_are_hashed_with_argon2(staff):
    assert settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    from dermatox.settings import base

    assert base.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    assert staff[Role.NURSE].password.startswith("argon2$argon2id$")


def test_login_required_everywhere(client, patient):
    for url in ["/patients/", f"/patients/{patient.pk}/", "/audit/"]:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_lockout_after_five_failures(client, staff):
    user = staff[Role.NURSE]
    for _ in range(4):
        assert (
            client.post("/login/", {"username": user.username, "password": "wrong-password"}).status_code
            == 200
        )
    assert (
        client.post("/login/", {"username": user.username, "password": "wrong-password"}).status_code == 429
    )
    locked = client.post("/login/", {"username": user.username, "password": PASSWORD})
    assert locked.status_code == 429 and b"locked" in locked.content
    assert AuditEntry.objects.filter(action="auth.login_failed").count() >= 5


def test_session_expires_after_inactivity(login, staff, client):
    login(staff[Role.NURSE])
    assert client.get("/patients/").status_code == 200
    idle = settings.SESSION_COOKIE_AGE
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=idle - 60)):
        assert client.get("/patients/").status_code == 200  # activity pushes the expiry forward
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=2 * idle)):
        response = client.get("/patients/")
        assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_front_desk_sees_demographics_and_visits_but_no_clinical_content(
    login, staff, physician, patient, client
):
    full_record(physician, patient)
    login(staff[Role.FRONT_DESK])
    page = client.get(f"/patients/{patient.pk}/").content.decode()
    assert "İpek" in page and "Consultation" in page
    assert "Secret clinical note" not in page and "Acne vulgaris" not in page and "Lidocaine" not in page
    assert client.get(f"/patients/{patient.pk}/add/note/").status_code == 403
    physician_view = login(staff[Role.PHYSICIAN]).get(f"/patients/{patient.pk}/").content.decode()
    assert "Secret clinical note" in physician_view and "Lidocaine" in physician_view


def test_create_patient_shows_messages_next_to_fields_and_keeps_input(login, staff, client):
    login(staff[Role.FRONT_DESK])
    future = (timezone.localdate() + dt.timedelta(days=3)).isoformat()
    response = client.post(
        "/patients/new/",
        {
            "given_name": "Zeynep",
            "family_name": "",
            "sex_at_birth": "q",
            "birth_date": future,
            "preferred_language": "tr",
        },
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "Family name: This field is required." in page
    assert "Sex at birth: Select a valid choice." in page
    assert "Date of birth: Date of birth must not be in the future." in page
    assert 'value="Zeynep"' in page
    assert Patient.objects.count() == 0


def test_script_in_a_name_is_shown_as_text(login, staff, client):
    login(staff[Role.FRONT_DESK])
    response = client.post(
        "/patients/new/",
        {
            "given_name": "<script>alert('x')</script>",
            "family_name": "Kaya",
            "sex_at_birth": "female",
            "birth_date": "1990-01-01",
            "preferred_language": "en",
        },
    )
    page = client.get(response["Location"]).content.decode()
    assert "<script>alert" not in page and "&lt;script&gt;alert" in page


def test_note_form_rejects_over_long_text(login, staff, patient, client):
    login(staff[Role.NURSE])
    response = client.post(f"/patients/{patient.pk}/add/note/", {"kind": "progress", "text": "x" * 10001})
    assert "Note: Ensure this value has at most 10000 characters" in response.content.decode()
    assert not Note.objects.exists()


def test_observation_form_names_field_and_rule(login, staff, patient, client):
    login(staff[Role.NURSE])
    response = client.post(
        f"/patients/{patient.pk}/add/observation/",
        {"code": "gags", "value": "50", "effective_at": "2026-01-01T10:00"},
    )
    assert "Value: must be &lt;= 44" in response.content.decode()
    assert not Observation.objects.exists()


def test_entered_in_error_hides_record_but_keeps_it(login, staff, physician, patient, client):
    ids = full_record(physician, patient)
    login(staff[Role.PHYSICIAN])
    response = client.post(f"/patients/{patient.pk}/error/note/{ids['note']}/", {"reason": "Wrong patient"})
    assert response.status_code == 302
    assert "Secret clinical note" not in client.get(f"/patients/{patient.pk}/").content.decode()
    assert Note.objects.get(pk=ids["note"]).entered_in_error_reason == "Wrong patient"


def test_audit_view_is_for_managers_and_scoped_to_the_clinic(login, staff, physician, patient, client):
    login(staff[Role.PHYSICIAN]).get(f"/patients/{patient.pk}/")
    assert client.get("/audit/").status_code == 403
    page = login(staff[Role.MANAGER]).get(f"/audit/?patient={patient.mrn}").content.decode()
    assert "patient.view" in page and "physician_a" in page
    page = client.get("/audit/?sort=actor_username&user=physician_a").content.decode()
    assert "patient.view" in page


def test_patient_page_queries_do_not_grow_with_history(login, staff, physician, client):
    short = patient_with_long_history(actor=physician, visits=10)
    long = patient_with_long_history(actor=physician, visits=500)
    login(staff[Role.PHYSICIAN])
    counts = []
    for patient in (short, long):
        client.get(f"/patients/{patient.pk}/")  # warm the session
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"/patients/{patient.pk}/")
        assert response.status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
    assert counts[1] <= 30


def test_timeline_pages_through_long_history_without_gaps(login, staff, physician, client):
    patient = patient_with_long_history(actor=physician, visits=45)
    login(staff[Role.PHYSICIAN])
    page = client.get(f"/patients/{patient.pk}/").content.decode()
    seen = page.count('class="visit')
    cursor_marker = "?cursor="
    while cursor_marker in page:
        cursor = page.split(cursor_marker, 1)[1].split('"', 1)[0]
        page = client.get(f"/patients/{patient.pk}/timeline/?cursor={cursor}").content.decode()
        seen += page.count('class="visit')
    assert seen == 45


@pytest.mark.parametrize(
    ("role", "path"),
    [
        (Role.MANAGER, "/patients/new/"),
        (Role.MANAGER, "/patients/{pid}/edit/"),
        (Role.MANAGER, "/patients/{pid}/add/encounter/"),
        (Role.FRONT_DESK, "/patients/{pid}/add/observation/"),
        (Role.FRONT_DESK, "/patients/{pid}/error/note/{note}/"),
        (Role.MANAGER, "/patients/{pid}/error/patient/0/"),
    ],
)
def test_forms_a_role_may_not_use_are_refused_before_they_are_shown(
    login, staff, physician, patient, client, role, path
):
    ids = full_record(physician, patient)
    login(staff[role])
    response = client.get(path.format(pid=patient.pk, note=ids["note"]))
    assert response.status_code == 403
    assert b"Secret clinical note" not in response.content


def test_a_note_can_be_linked_to_one_of_the_patients_visits(login, staff, physician, patient, client):
    ids = full_record(physician, patient)
    login(staff[Role.NURSE])
    response = client.post(
        f"/patients/{patient.pk}/add/note/",
        {"encounter": ids["encounter"], "kind": "progress", "text": "Linked."},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Note.objects.get(text="Linked.").encounter_id == ids["encounter"]


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
