import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from dermatox.accounts.roles import Role
from dermatox.assessments.services import observation_record
from dermatox.audit.models import AuditEntry
from dermatox.common.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from dermatox.patients import services as ps
from dermatox.patients.models import Condition, Note, Patient
from dermatox.patients.services import (
    allergy_add,
    condition_add,
    consent_record,
    medication_add,
    note_add,
    patient_create,
    patient_update,
    record_mark_entered_in_error,
)
from dermatox.treatments.services import (
    adverse_event_record,
    external_toxin_dose_record,
    treatment_course_record,
)
from tests.dates import TODAY

pytestmark = pytest.mark.django_db

VALID = {"given_name": "Ali", "family_name": "Veli", "sex_at_birth": "male", "birth_date": "1985-01-31"}


def test_create_assigns_clinic_record_numbers_in_sequence(physician):
    first = patient_create(actor=physician, data=VALID)
    second = patient_create(actor=physician, data={**VALID, "given_name": "Ayşe", "sex_at_birth": "female"})
    assert (first.mrn, second.mrn) == ("AAA-000001", "AAA-000002")
    assert first.clinic == physician.clinic
    entry = AuditEntry.objects.filter(action="patient.create").first()
    assert entry.patient_id == second.pk and entry.actor_username == "physician_a" and entry.ip == "127.0.0.1"


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"birth_date": (TODAY + dt.timedelta(days=1)).isoformat()}, "birth_date", "future"),
        ({"birth_date": "1880-01-01"}, "birth_date", "over 130"),
        ({"birth_date": "31/01/1985"}, "birth_date", "valid date"),
        ({"sex_at_birth": "x"}, "sex_at_birth", "not a valid choice"),
        ({"given_name": "A" * 101}, "given_name", "at most 100"),
        ({"given_name": "   "}, "given_name", "cannot be blank"),
        ({"family_name": "1234"}, "family_name", "letter"),
        ({"phone": "call me"}, "phone", "digits"),
        ({"email": "not-an-email"}, "email", "valid email"),
        ({"preferred_language": "de"}, "preferred_language", "not a valid choice"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(physician, change, field, words):
    with pytest.raises(InvalidInput) as info:
        patient_create(actor=physician, data={**VALID, **change})
    assert field in info.value.fields
    assert words in " ".join(info.value.fields[field])
    assert Patient.objects.count() == 0
    assert not AuditEntry.objects.filter(action="patient.create").exists()
    physician.clinic.refresh_from_db()
    assert physician.clinic.next_patient_number == 1  # the number was not consumed


def test_unknown_field_is_an_error(physician):
    with pytest.raises(InvalidInput, match="unknown field"):
        patient_create(actor=physician, data={**VALID, "ssn": "1"})


def test_script_is_stored_as_text(physician):
    patient = patient_create(actor=physician, data={**VALID, "given_name": "<script>alert(1)</script>Ali"})
    assert patient.given_name == "<script>alert(1)</script>Ali"


def test_update_keeps_every_version(physician, patient):
    patient_update(actor=physician, patient=patient, data={"phone": "+90 532 000 00 00"})
    patient_update(actor=physician, patient=patient, data={"family_name": "Şahin-Kaya"})
    versions = list(patient.history.order_by("history_date"))
    assert [v.history_type for v in versions] == ["+", "~", "~"]
    assert versions[0].phone == "" and versions[1].phone == "+90 532 000 00 00"
    assert versions[-1].history_user == physician.user
    changed = (
        AuditEntry.objects.filter(action="patient.update").order_by("seq").values_list("detail", flat=True)
    )
    assert list(changed) == [{"changed": ["phone"]}, {"changed": ["family_name"]}]


def test_clinical_records_are_never_deleted(physician, patient):
    note = note_add(actor=physician, patient=patient, data={"text": "Wrong patient"})
    with pytest.raises(Conflict):
        note.delete()
    with pytest.raises(Conflict):
        Note.objects.filter(pk=note.pk).delete()
    marked = record_mark_entered_in_error(actor=physician, record=note, reason="Charted on the wrong patient")
    assert marked.entered_in_error_by == physician.user and marked.entered_in_error_reason
    assert Note.objects.filter(pk=note.pk).exists()
    assert not Note.objects.current().filter(pk=note.pk).exists()
    assert AuditEntry.objects.filter(action="note.entered_in_error", patient_id=patient.pk).exists()


def test_entered_in_error_needs_a_reason(physician, patient):
    note = note_add(actor=physician, patient=patient, data={"text": "x"})
    with pytest.raises(InvalidInput) as info:
        record_mark_entered_in_error(actor=physician, record=note, reason="  ")
    assert "reason" in info.value.fields


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (Role.PHYSICIAN, True),
        (Role.NURSE, True),
        (Role.FRONT_DESK, False),
        (Role.MANAGER, False),
        (Role.SYSADMIN, False),
    ],
)
def test_who_may_write_clinical_notes(staff, actor_for, patient, role, allowed):
    actor = actor_for(staff[role])
    if allowed:
        assert note_add(actor=actor, patient=patient, data={"text": "Seen."}).pk
    else:
        with pytest.raises(PermissionDenied):
            note_add(actor=actor, patient=patient, data={"text": "Seen."})


def test_front_desk_records_consent_but_not_observations(staff, actor_for, patient):
    desk = actor_for(staff[Role.FRONT_DESK])
    consent = consent_record(
        actor=desk,
        patient=patient,
        data={
            "kind": "photography",
            "decision": "granted",
            "signer_name": "İpek Şahin",
            "signed_at": timezone.now(),
        },
    )
    assert consent.pk
    with pytest.raises(PermissionDenied):
        observation_record(actor=desk, patient=patient, code="daily_shedding", value=120)


def test_another_clinics_patient_does_not_exist_for_services(staff, actor_for, patient):
    other = actor_for(staff["physician_b"])
    with pytest.raises(NotFound):
        note_add(actor=other, patient=patient, data={"text": "x"})
    with pytest.raises(NotFound):
        patient_update(actor=other, patient=patient, data={"phone": "+90 1234567"})


def test_observation_is_typed_and_validated(physician, patient):
    obs = observation_record(
        actor=physician, patient=patient, code="hair_density", value="182.5", method="TrichoScan"
    )
    obs.refresh_from_db()
    assert obs.unit == "/cm2" and obs.value_number == Decimal("182.5") and obs.recorded_by == physician.user
    with pytest.raises(InvalidInput) as info:
        observation_record(actor=physician, patient=patient, code="iga", value="7")
    assert info.value.fields == {"value": ["must be <= 4"]}
    with pytest.raises(InvalidInput) as info:
        observation_record(
            actor=physician,
            patient=patient,
            code="iga",
            value="2",
            effective_at=timezone.now() + dt.timedelta(days=2),
        )
    assert "effective_at" in info.value.fields


def test_follow_up_due_date_rule_holds_outside_the_form(physician, patient):
    from dermatox.treatments.services import follow_up_create

    with pytest.raises(InvalidInput) as info:
        follow_up_create(
            actor=physician,
            patient=patient,
            data={"due_date": timezone.localdate() - dt.timedelta(days=400), "reason": "Review"},
        )
    assert "due_date" in info.value.fields


@pytest.mark.parametrize(
    ("add", "data", "known"),
    [
        (condition_add, {"category": "history", "text": "Myasthenia"}, "myasthenia_gravis"),
        (medication_add, {"name": "Warfarin"}, "anticoagulant"),
        (allergy_add, {"substance": "Albumin"}, "human_albumin"),
    ],
)
def test_a_coded_entry_takes_only_the_reference_datas_codes(physician, patient, add, data, known):
    """The toxin safety rules read these codes: one they do not know would silently never match."""
    with pytest.raises(InvalidInput) as err:
        add(actor=physician, patient=patient, data={**data, "code": "banana"})
    assert known in err.value.fields["code"][0]
    assert add(actor=physician, patient=patient, data={**data, "code": known}).code == known
    assert add(actor=physician, patient=patient, data=data).code == ""  # uncoded free text stays allowed


def test_no_record_of_a_patient_is_dated_before_their_birth(physician, patient):
    """One check for every app's records (child_record_save): measurements, doses given elsewhere, courses,
    adverse events."""
    before = patient.birth_date - dt.timedelta(days=1)
    writes = {
        "effective_at": lambda: observation_record(
            actor=physician,
            patient=patient,
            code="daily_shedding",
            value=100,
            effective_at=timezone.make_aware(dt.datetime.combine(before, dt.time(12))),
        ),
        "given_on": lambda: external_toxin_dose_record(
            actor=physician,
            patient=patient,
            data={"given_on": before, "area": "face", "product": "unknown"},
        ),
        "ended_on": lambda: treatment_course_record(
            actor=physician,
            patient=patient,
            data={"treatment": "isotretinoin", "weeks": 20, "outcome": "cleared", "ended_on": before},
        ),
    }
    writes["onset"] = lambda: adverse_event_record(
        actor=physician, patient=patient, data={"kind": "headache", "severity": "mild", "onset": before}
    )
    for field, write in writes.items():
        with pytest.raises(InvalidInput) as err:
            write()
        assert err.value.fields == {field: ["must not be before the date of birth"]}


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
