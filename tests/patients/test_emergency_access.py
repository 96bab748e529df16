"""Break-the-glass: a physician of clinic B reads a patient of clinic A (same chain) with a reason, for a while,
read-only, audited as such. Everyone else, and every other path, still gets "not found"."""

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from dermatox.accounts.models import Chain, Clinic, Membership
from dermatox.accounts.roles import Role
from dermatox.audit.models import AuditEntry
from dermatox.chart.audit_trail import audit_entries
from dermatox.chart.selectors import chart_get
from dermatox.common.errors import InvalidInput, NotFound, PermissionDenied
from dermatox.patients.emergency_access import emergency_access_begin, emergency_access_end
from dermatox.patients.models import EmergencyAccess
from dermatox.patients.selectors import (
    emergency_accesses_for_clinic,
    patient_get,
    patient_search,
    patients_in_scope,
)
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

REASON = "Patient collapsed after injection in our clinic; need allergies"


@pytest.fixture
def doctor_b(staff, actor_for):
    """A physician of clinic B, the sister clinic of the patient's clinic A."""
    return actor_for(staff["physician_b"])


def begin(actor, patient, **kwargs):
    return emergency_access_begin(
        actor=actor, patient_ref=kwargs.pop("ref", patient.mrn), reason=kwargs.pop("reason", REASON), **kwargs
    )


def test_a_physician_of_a_sister_clinic_reads_the_patient_with_a_reason_and_it_is_audited(doctor_b, patient):
    with pytest.raises(NotFound):  # the default stays: another clinic's patient is not found
        patient_get(actor=doctor_b, patient_id=patient.pk, emergency_read=True)

    grant = begin(doctor_b, patient, minutes=30)

    assert grant.patient == patient and grant.from_clinic == doctor_b.clinic and grant.reason == REASON
    assert grant.ends_at - grant.started_at == dt.timedelta(minutes=30)
    opened = AuditEntry.objects.get(action="patient.emergency_access")
    assert opened.patient_id == patient.pk and opened.clinic_id == doctor_b.clinic.pk
    assert opened.detail["reason"] == REASON and opened.detail["patient_clinic_id"] == patient.clinic_id

    chart = chart_get(actor=doctor_b, patient_id=patient.pk)
    assert chart.patient == patient and chart.patient.emergency_access == grant
    read = AuditEntry.objects.filter(action="patient.view").latest("seq")
    assert read.detail["emergency_access_id"] == grant.pk, "the read is flagged as an emergency read"
    assert read.patient_id == patient.pk


def test_the_national_id_works_too_but_only_exactly(doctor_b, patient):
    for partial in ("1234567890", patient.mrn[:-1], "İpek", "Şahin"):
        with pytest.raises(NotFound):
            begin(doctor_b, patient, ref=partial)
    assert begin(doctor_b, patient, ref="12345678901").patient == patient
    assert begin(doctor_b, patient, ref=patient.mrn.lower()).patient == patient


def test_the_grant_widens_no_list_or_search(doctor_b, patient):
    begin(doctor_b, patient)
    assert not patients_in_scope(doctor_b).filter(pk=patient.pk).exists()
    assert patient_search(actor=doctor_b, identifier="12345678901") == []


@pytest.mark.parametrize(
    ("reason", "minutes", "field"),
    [
        ("", None, "reason"),
        ("   \x00\x1b  ", None, "reason"),
        ("too short", None, "reason"),
        (REASON, 0, "minutes"),
        (REASON, 241, "minutes"),
        (REASON, "soon", "minutes"),
    ],
)
def test_a_missing_reason_or_a_bad_duration_is_refused_naming_the_field(
    doctor_b, patient, reason, minutes, field
):
    with pytest.raises(InvalidInput) as caught:
        begin(doctor_b, patient, reason=reason, minutes=minutes)
    assert list(caught.value.fields) == [field]
    assert caught.value.message.startswith(f"{field}:")
    assert not EmergencyAccess.objects.exists()


def test_control_characters_are_stripped_from_the_reason(doctor_b, patient):
    grant = begin(doctor_b, patient, reason="Anaphylaxis\r\n@page{}\x00 \u202eallergy check")
    assert grant.reason == "Anaphylaxis @page{} allergy check"


@pytest.mark.parametrize("role", [Role.NURSE, Role.FRONT_DESK, Role.MANAGER, Role.SYSADMIN])
def test_only_a_physician_may_break_the_glass(clinics, actor_for, patient, role):
    user = make_user(f"{role}_b", clinics[1], role)
    with pytest.raises(PermissionDenied):
        begin(actor_for(user), patient)
    assert not EmergencyAccess.objects.exists()


def test_another_chain_or_no_chain_is_refused_without_telling_whether_the_patient_exists(actor_for, patient):
    elsewhere = Clinic.objects.create(
        name="Rival", code="riv", chain=Chain.objects.create(name="Rival chain")
    )
    Clinic.objects.create(name="Rival 2", code="riv2", chain=elsewhere.chain)
    rival = actor_for(make_user("rival_doc", elsewhere, Role.PHYSICIAN))
    with pytest.raises(NotFound) as existing:
        begin(rival, patient)
    with pytest.raises(NotFound) as missing:
        begin(rival, patient, ref="aaa-999999")
    assert existing.value.message == missing.value.message
    assert AuditEntry.objects.filter(action="patient.emergency_access_refused").count() == 2

    alone = actor_for(make_user("alone_doc", Clinic.objects.create(name="Solo", code="solo"), Role.PHYSICIAN))
    with pytest.raises(PermissionDenied):
        begin(alone, patient)
    assert not EmergencyAccess.objects.exists()
    with pytest.raises(NotFound):
        patient_get(actor=rival, patient_id=patient.pk, emergency_read=True)


def test_access_ends_when_the_grant_runs_out(doctor_b, patient):
    begin(doctor_b, patient, minutes=60)
    assert patient_get(actor=doctor_b, patient_id=patient.pk, emergency_read=True) == patient
    later = timezone.now() + dt.timedelta(minutes=61)
    with time_machine.travel(later, tick=False), pytest.raises(NotFound):
        patient_get(actor=doctor_b, patient_id=patient.pk, emergency_read=True)


def test_a_grant_created_already_over_gives_nothing(doctor_b, patient):
    now = timezone.now()
    EmergencyAccess.objects.create(
        user=doctor_b.user,
        from_clinic=doctor_b.clinic,
        patient=patient,
        reason=REASON,
        started_at=now - dt.timedelta(hours=2),
        ends_at=now - dt.timedelta(hours=1),
    )
    with pytest.raises(NotFound):
        patient_get(actor=doctor_b, patient_id=patient.pk, emergency_read=True)


def test_the_physician_can_end_it_early_and_it_is_audited(doctor_b, patient):
    grant = begin(doctor_b, patient)
    emergency_access_end(actor=doctor_b, access_id=grant.pk)
    grant.refresh_from_db()
    assert grant.ended_at is not None and not grant.running
    assert AuditEntry.objects.filter(action="patient.emergency_access_end", patient_id=patient.pk).exists()
    with pytest.raises(NotFound):
        patient_get(actor=doctor_b, patient_id=patient.pk, emergency_read=True)


def test_someone_elses_grant_cannot_be_ended_or_used(staff, doctor_b, actor_for, patient, clinics):
    grant = begin(doctor_b, patient)
    colleague = actor_for(make_user("physician_b2", clinics[1], Role.PHYSICIAN))
    with pytest.raises(NotFound):
        emergency_access_end(actor=colleague, access_id=grant.pk)
    with pytest.raises(NotFound):
        patient_get(actor=colleague, patient_id=patient.pk, emergency_read=True)


def test_the_grant_is_read_only_every_other_caller_is_refused(doctor_b, patient):
    begin(doctor_b, patient)
    with pytest.raises(PermissionDenied):  # the write views and the REST/FHIR reads call it like this
        patient_get(actor=doctor_b, patient_id=patient.pk, audit_as=None)


def test_the_grant_works_only_from_the_clinic_it_was_asked_in(clinics, staff, doctor_b, actor_for, patient):
    begin(doctor_b, patient)
    third = Clinic.objects.create(name="Clinic C", code="ccc", chain=clinics[0].chain)
    Membership.objects.create(user=staff["physician_b"], clinic=third, role=Role.PHYSICIAN)
    with pytest.raises(NotFound):
        patient_get(actor=actor_for(staff["physician_b"], third), patient_id=patient.pk, emergency_read=True)


def test_the_managers_of_both_clinics_see_it_and_an_unrelated_manager_does_not(
    clinics, staff, doctor_b, actor_for, patient
):
    grant = begin(doctor_b, patient)
    manager_a = actor_for(staff[Role.MANAGER])  # the patient's clinic
    manager_b = actor_for(make_user("manager_b", clinics[1], Role.MANAGER))  # the physician's clinic
    third = Clinic.objects.create(name="Clinic C", code="ccc", chain=clinics[0].chain)
    manager_c = actor_for(make_user("manager_c", third, Role.MANAGER))

    assert emergency_accesses_for_clinic(actor=manager_a) == [grant]
    assert emergency_accesses_for_clinic(actor=manager_b) == [grant]
    assert emergency_accesses_for_clinic(actor=manager_c) == []
    with pytest.raises(PermissionDenied):
        emergency_accesses_for_clinic(actor=doctor_b)

    # The audit trail of the patient's clinic shows the grant with its reason, and the emergency reads.
    chart_get(actor=doctor_b, patient_id=patient.pk)
    seen_by_a = {e.action: e for e in audit_entries(actor=manager_a).filter(actor_username="physician_b")}
    assert seen_by_a["patient.emergency_access"].detail["reason"] == REASON
    assert "patient.view" in seen_by_a
    assert not audit_entries(actor=manager_c).filter(actor_username="physician_b").exists()
