"""Break-the-glass in the browser: found from the patient search, asked with a reason, opens the chart read-only
with a banner, every write refused, gone when the grant ends; managers see it listed."""

import datetime as dt
import re

import pytest
from django.utils import timezone

from dermatox.accounts.models import Chain, Clinic
from dermatox.accounts.roles import Role
from dermatox.audit.models import AuditEntry
from dermatox.patients.models import EmergencyAccess, Note
from tests.conftest import make_user
from tests.web.fixtures import full_record
from tests.web.test_isolation import concrete_urls

pytestmark = pytest.mark.django_db

REASON = "Unconscious after toxin session, checking allergies and last dose"
URL = "/patients/emergency-access/"
# The pages a grant opens (reads only); every other patient URL stays closed.
READ_PAGES = ("/", "/timeline/", "/versions/", "/outcomes/")


@pytest.fixture
def as_doctor_b(staff, login):
    return login(staff["physician_b"])


def open_grant(client, patient, reason=REASON, minutes=30):
    return client.post(URL, {"patient_ref": patient.mrn, "reason": reason, "minutes": minutes})


def test_a_number_not_found_here_offers_emergency_access_by_that_number(as_doctor_b, patient):
    page = as_doctor_b.get("/patients/", {"identifier": patient.mrn}).content.decode()
    assert "No patient matches." in page and patient.given_name not in page
    assert f'href="{URL}?ref={patient.mrn}"' in page
    form = as_doctor_b.get(URL, {"ref": patient.mrn}).content.decode()
    assert f'value="{patient.mrn}"' in form


def test_no_offer_for_a_nurse_or_a_clinic_without_sister_clinics(staff, login, patient, clinics):
    nurse_b = make_user("nurse_b", clinics[1], Role.NURSE)
    page = login(nurse_b).get("/patients/", {"identifier": patient.mrn}).content.decode()
    assert URL not in page
    solo = make_user("solo_doc", Clinic.objects.create(name="Solo", code="solo"), Role.PHYSICIAN)
    page = login(solo).get("/patients/", {"identifier": patient.mrn}).content.decode()
    assert URL not in page


def test_with_a_reason_the_chart_opens_read_only_with_a_banner_and_is_audited(as_doctor_b, patient):
    assert as_doctor_b.get(f"/patients/{patient.pk}/").status_code == 404
    response = open_grant(as_doctor_b, patient)
    assert response.status_code == 302 and response["Location"] == f"/patients/{patient.pk}/"

    chart = as_doctor_b.get(f"/patients/{patient.pk}/")
    assert chart.status_code == 200
    page = chart.content.decode()
    assert 'id="emergency-banner"' in page and REASON in page and "Clinic A" in page and "left" in page
    assert "/add/" not in page and "/error/" not in page and "/edit/" not in page, "no write control offered"
    grant = EmergencyAccess.objects.get()
    assert AuditEntry.objects.get(action="patient.emergency_access").detail["reason"] == REASON
    read = AuditEntry.objects.filter(action="patient.view", actor_username="physician_b").latest("seq")
    assert read.detail["emergency_access_id"] == grant.pk
    for suffix in READ_PAGES[1:]:
        assert as_doctor_b.get(f"/patients/{patient.pk}{suffix}").status_code == 200, suffix
    assert 'id="emergency-banner"' in as_doctor_b.get(f"/patients/{patient.pk}/versions/").content.decode()


def test_the_banner_speaks_turkish_to_a_turkish_physician(staff, as_doctor_b, patient):
    staff["physician_b"].language = "tr"
    staff["physician_b"].save()
    open_grant(as_doctor_b, patient)
    page = as_doctor_b.get(f"/patients/{patient.pk}/").content.decode()
    assert "Acil erişim" in page and "salt okunur" in page and REASON in page


def test_without_a_reason_it_is_refused_naming_the_field(as_doctor_b, patient):
    response = open_grant(as_doctor_b, patient, reason="")
    assert response.status_code == 200
    assert "Reason: State why you need this record, in at least 10 characters." in response.content.decode()
    assert not EmergencyAccess.objects.exists()
    response = open_grant(as_doctor_b, patient, minutes=1000)
    assert "Duration (minutes): Between 1 and 240 minutes." in response.content.decode()
    assert as_doctor_b.get(f"/patients/{patient.pk}/").status_code == 404


def test_an_unknown_number_says_so_next_to_the_field(as_doctor_b, patient):
    response = as_doctor_b.post(URL, {"patient_ref": "nope-1", "reason": REASON, "minutes": 30})
    assert response.status_code == 200
    assert "No patient with this record number or national ID" in response.content.decode()


@pytest.mark.parametrize("role", [Role.NURSE, Role.FRONT_DESK, Role.MANAGER])
def test_other_roles_are_refused(clinics, login, patient, role):
    client = login(make_user(f"{role}_b", clinics[1], role))
    assert client.get(URL).status_code == 403
    assert open_grant(client, patient).status_code == 403
    assert not EmergencyAccess.objects.exists()
    assert client.get(f"/patients/{patient.pk}/").status_code == 404


def test_another_chain_is_refused_like_a_missing_patient(login, patient):
    rival = Clinic.objects.create(name="Rival", code="riv", chain=Chain.objects.create(name="Rival chain"))
    Clinic.objects.create(name="Rival 2", code="riv2", chain=rival.chain)
    client = login(make_user("rival_doc", rival, Role.PHYSICIAN))
    existing = open_grant(client, patient).content.decode()
    missing = client.post(
        URL, {"patient_ref": "aaa-424242", "reason": REASON, "minutes": 30}
    ).content.decode()
    assert "No patient with this record number or national ID" in existing

    def answer(page, ref):  # the page without what differs by design: the number typed, the CSRF token
        return re.sub(r'(csrfmiddlewaretoken" value=|X-CSRFToken": )"[^"]+"', "", page).replace(ref, "REF")

    assert answer(existing, patient.mrn) == answer(missing, "aaa-424242")
    assert client.get(f"/patients/{patient.pk}/").status_code == 404


def test_every_write_is_refused_under_the_grant(staff, physician, patient, as_doctor_b):
    record_ids = full_record(physician, patient)
    open_grant(as_doctor_b, patient)
    readable = {f"/patients/{patient.pk}{suffix}" for suffix in READ_PAGES}
    tried = 0
    for url in concrete_urls(patient, record_ids):
        if url in readable:
            continue
        for method in (as_doctor_b.get, as_doctor_b.post):
            response = method(url, {"reason": "probe", "text": "probe", "given_name": "X"})
            assert response.status_code in (403, 404, 405), (
                f"{method.__name__} {url} -> {response.status_code}"
            )
            tried += 1
    assert tried >= 60
    patient.refresh_from_db()
    assert patient.given_name == "İpek" and not patient.is_entered_in_error
    assert not Note.objects.filter(text="probe").exists()


def test_once_the_grant_is_over_the_chart_is_404_again(as_doctor_b, patient):
    open_grant(as_doctor_b, patient)
    assert as_doctor_b.get(f"/patients/{patient.pk}/").status_code == 200
    now = timezone.now()
    EmergencyAccess.objects.update(
        started_at=now - dt.timedelta(hours=1), ends_at=now - dt.timedelta(seconds=1)
    )
    assert as_doctor_b.get(f"/patients/{patient.pk}/").status_code == 404


def test_ending_it_early_closes_the_chart(as_doctor_b, patient):
    open_grant(as_doctor_b, patient)
    grant = EmergencyAccess.objects.get()
    listed = as_doctor_b.get(URL).content.decode()
    assert f"/patients/emergency-access/{grant.pk}/end/" in listed and REASON in listed
    assert as_doctor_b.post(f"/patients/emergency-access/{grant.pk}/end/").status_code == 302
    assert as_doctor_b.get(f"/patients/{patient.pk}/").status_code == 404


def test_managers_see_the_list_and_an_unrelated_manager_does_not(clinics, staff, login, as_doctor_b, patient):
    open_grant(as_doctor_b, patient)
    manager_a = login(staff[Role.MANAGER])  # the patient's clinic
    home = manager_a.get("/clinic/emergency-access/")
    assert home.status_code == 200
    page = home.content.decode()
    assert "Physician_B" in page and REASON in page and patient.mrn in page and "Clinic B" in page
    assert 'href="/clinic/emergency-access/"' in page, "the managers' navigation links to it"
    audit = manager_a.get("/audit/", {"action": "patient.emergency_access"}).content.decode()
    assert REASON in audit

    third = Clinic.objects.create(name="Clinic C", code="ccc", chain=clinics[0].chain)
    manager_c = login(make_user("manager_c", third, Role.MANAGER))
    page = manager_c.get("/clinic/emergency-access/").content.decode()
    assert REASON not in page and "No emergency access so far." in page
    assert REASON not in manager_c.get("/audit/").content.decode()

    assert login(staff["physician_b"]).get("/clinic/emergency-access/").status_code == 403
