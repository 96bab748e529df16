"""Booking rules, rescheduling, cancelling, statuses and one-click recall booking."""

import datetime as dt
from types import SimpleNamespace

import pytest
from django_tasks_db.models import DBTaskResult

from dermatox.accounts.roles import Role
from dermatox.audit.models import AuditEntry
from dermatox.common.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from dermatox.scheduling import services as sched
from dermatox.scheduling.models import Appointment
from dermatox.treatments.models import FollowUp
from dermatox.treatments.services import follow_ups_from_assessment
from tests.scheduling.helpers import at, book, days, follow_up

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]


def test_booking_is_versioned_audited_and_queues_a_deferred_reminder(physician, patient):
    appointment = book(physician, patient, at(days(2), 10))
    assert appointment.status == "booked" and appointment.clinic_id == patient.clinic_id
    assert appointment.history.count() == 1
    entry = AuditEntry.objects.get(action="appointment.book")
    assert entry.patient_id == patient.pk and entry.detail["minutes"] == 30
    task = DBTaskResult.objects.get()
    assert task.task_path == "dermatox.scheduling.tasks.appointment_reminder_send"
    assert task.run_after == at(days(1), 10)  # 24 h before


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"end": at(days(2), 9, 30)}, "end"),  # before the start
        ({"end": at(days(2), 10, 3)}, "end"),  # 3 minutes
        ({"end": at(days(2), 18, 30)}, "end"),  # 8 h 30
        ({"start": at(days(-1), 10), "end": at(days(-1), 10, 30)}, "start"),  # yesterday
        ({"start": None}, "start"),
        ({"start": "tomorrow"}, "start"),
        ({"kind": "surgery"}, "kind"),
        ({"reason": "x" * 201}, "reason"),
        ({"clinic": 2}, "clinic"),
    ],
)
def test_each_bad_input_names_its_field_and_writes_nothing(physician, patient, change, field):
    data = {
        "start": at(days(2), 10),
        "end": at(days(2), 10, 30),
        "kind": "consultation",
        "practitioner": physician.user,
        **change,
    }
    with pytest.raises(InvalidInput) as caught:
        sched.appointment_book(actor=physician, patient=patient, data=data)
    assert set(caught.value.fields) == {field}, caught.value.fields
    assert Appointment.objects.count() == 0 and DBTaskResult.objects.count() == 0


@pytest.mark.parametrize("who", [Role.FRONT_DESK, Role.MANAGER, "physician_b"])
def test_practitioner_must_be_a_physician_or_nurse_of_the_clinic(physician, patient, staff, who):
    with pytest.raises(InvalidInput) as caught:
        book(physician, patient, at(days(2), 10), practitioner=staff[who])
    assert set(caught.value.fields) == {"practitioner"}


def test_earlier_today_is_allowed_and_no_practitioner_is_allowed(physician, nurse, patient):
    assert book(physician, patient, at(days(0), 7)).start == at(days(0), 7)
    assert book(nurse, patient, at(days(0), 7), practitioner="").practitioner is None


def test_a_practitioner_cannot_be_double_booked(physician, nurse, patient, mailed_patient):
    first = book(physician, patient, at(days(2), 10))
    with pytest.raises(InvalidInput) as caught:
        book(physician, mailed_patient, at(days(2), 10, 15))
    assert set(caught.value.fields) == {"start"}
    assert "10:00" in caught.value.fields["start"][0] and "10:30" in caught.value.fields["start"][0]
    book(physician, mailed_patient, at(days(2), 10, 30))  # back to back is fine
    book(physician, mailed_patient, at(days(2), 10), practitioner=nurse.user)  # someone else is free
    sched.appointment_cancel(actor=physician, appointment=first, reason="Patient called")
    book(physician, mailed_patient, at(days(2), 10, 0), minutes=15)  # a cancelled slot is free again


def test_another_clinics_patient_does_not_exist_and_roles_are_enforced(
    physician, other_clinic, front_desk, manager, sysadmin, patient
):
    with pytest.raises(NotFound):
        book(other_clinic, patient, at(days(2), 10))
    assert book(front_desk, patient, at(days(2), 11), practitioner=physician.user).pk
    for actor in (manager, sysadmin):
        with pytest.raises(PermissionDenied):
            book(actor, patient, at(days(2), 12), practitioner=physician.user)


def test_reschedule_keeps_history_raises_sequence_and_queues_a_new_reminder(physician, nurse, patient):
    appointment = book(physician, patient, at(days(2), 10))
    moved = sched.appointment_reschedule(
        actor=physician,
        appointment=appointment,
        data={"start": at(days(3), 11), "end": at(days(3), 11, 45), "practitioner": nurse.user},
    )
    assert (moved.start, moved.duration_minutes, moved.practitioner) == (at(days(3), 11), 45, nurse.user)
    assert moved.sequence == 1
    assert [h.start for h in moved.history.order_by("history_id")] == [at(days(2), 10), at(days(3), 11)]
    detail = AuditEntry.objects.get(action="appointment.reschedule").detail
    assert dt.datetime.fromisoformat(detail["from"]) == at(days(2), 10)
    assert DBTaskResult.objects.count() == 2
    # A move that overlaps only its own old slot is fine; nothing changed writes nothing.
    sched.appointment_reschedule(
        actor=physician, appointment=moved, data={"start": at(days(3), 11, 15), "end": at(days(3), 12)}
    )
    same = sched.appointment_reschedule(
        actor=physician, appointment=moved, data={"start": at(days(3), 11, 15), "end": at(days(3), 12)}
    )
    assert same.sequence == 2 and same.history.count() == 3


def test_reschedule_rules(physician, patient, mailed_patient):
    taken = book(physician, mailed_patient, at(days(3), 9))
    appointment = book(physician, patient, at(days(2), 10))
    with pytest.raises(InvalidInput) as caught:
        sched.appointment_reschedule(
            actor=physician,
            appointment=appointment,
            data={"start": at(days(3), 9), "end": at(days(3), 9, 30)},
        )
    assert set(caught.value.fields) == {"start"}
    with pytest.raises(InvalidInput) as caught:
        sched.appointment_reschedule(
            actor=physician,
            appointment=appointment,
            data={"start": at(days(-2), 9), "end": at(days(-2), 9, 30)},
        )
    assert set(caught.value.fields) == {"start"}
    sched.appointment_cancel(actor=physician, appointment=taken, reason="Rebooked")
    with pytest.raises(Conflict):
        sched.appointment_reschedule(
            actor=physician, appointment=taken, data={"start": at(days(4), 9), "end": at(days(4), 9, 30)}
        )


def test_cancel_needs_a_reason_and_reopens_the_follow_up(physician, patient):
    item = follow_up(patient, days(3))
    appointment = sched.follow_up_book(actor=physician, follow_up=item)
    item.refresh_from_db()
    assert item.status == "booked"
    with pytest.raises(InvalidInput) as caught:
        sched.appointment_cancel(actor=physician, appointment=appointment, reason="  ")
    assert set(caught.value.fields) == {"reason"}
    cancelled = sched.appointment_cancel(actor=physician, appointment=appointment, reason="Patient unwell")
    assert (cancelled.status, cancelled.cancel_reason, cancelled.sequence) == (
        "cancelled",
        "Patient unwell",
        1,
    )
    item.refresh_from_db()
    assert item.status == "open"
    entry = AuditEntry.objects.get(action="appointment.cancel")
    assert "unwell" not in str(entry.detail)  # free text stays on the record, not in the trail
    with pytest.raises(Conflict):
        sched.appointment_cancel(actor=physician, appointment=cancelled, reason="again")


def test_statuses_follow_the_day_and_move_the_follow_up(physician, patient, clock):
    item = follow_up(patient, days(0))
    appointment = sched.follow_up_book(actor=physician, follow_up=item)  # today 09:00
    assert appointment.start == at(days(0), 9)
    sched.appointment_set_status(actor=physician, appointment=appointment, status="no_show")
    item.refresh_from_db()
    assert item.status == "open"
    sched.appointment_set_status(actor=physician, appointment=appointment, status="arrived")
    item.refresh_from_db()
    assert item.status == "booked"
    sched.appointment_set_status(actor=physician, appointment=appointment, status="fulfilled")
    item.refresh_from_db()
    assert item.status == "done"
    with pytest.raises(Conflict):
        sched.appointment_set_status(actor=physician, appointment=appointment, status="arrived")
    later = book(physician, patient, at(days(1), 9))
    with pytest.raises(InvalidInput) as caught:
        sched.appointment_set_status(actor=physician, appointment=later, status="arrived")
    assert set(caught.value.fields) == {"status"}
    with pytest.raises(InvalidInput):
        sched.appointment_set_status(actor=physician, appointment=later, status="cancelled")


def test_one_click_booking_takes_the_next_free_slot_on_or_after_the_due_date(
    physician, nurse, front_desk, patient, mailed_patient
):
    book(physician, mailed_patient, at(days(2), 9), minutes=60)  # Wednesday 09:00-10:00 taken
    item = follow_up(patient, days(2))
    appointment = sched.follow_up_book(actor=physician, follow_up=item)
    assert (appointment.start, appointment.end) == (at(days(2), 10), at(days(2), 10, 30))
    assert (appointment.kind, appointment.follow_up_id, appointment.practitioner) == (
        "follow_up",
        item.pk,
        physician.user,
    )
    item.refresh_from_db()
    assert item.status == "booked"
    with pytest.raises(Conflict):
        sched.follow_up_book(actor=physician, follow_up=item)
    # Due on a Sunday: Monday 09:00. Booked by the front desk: the clinic's physician by default.
    sunday = follow_up(patient, days(6))
    assert sched.follow_up_book(actor=front_desk, follow_up=sunday).start == at(days(7), 9)
    # Overdue: the next slot from now (Monday 08:00), with the nurse chosen.
    overdue = follow_up(patient, days(-10))
    booked = sched.follow_up_book(actor=front_desk, follow_up=overdue, practitioner=nurse.user.pk)
    assert (booked.start, booked.practitioner) == (at(days(0), 9), nurse.user)


def test_one_click_booking_of_another_clinics_follow_up_is_not_found(other_clinic, patient):
    item = follow_up(patient, days(2))
    with pytest.raises(NotFound):
        sched.follow_up_book(actor=other_clinic, follow_up=item)
    item.refresh_from_db()
    assert item.status == "open" and Appointment.objects.count() == 0


def test_pathway_follow_ups_from_a_signed_assessment(physician, patient):
    long_text = "Reconsider retreatment. " * 12
    snapshot = SimpleNamespace(
        pk=7,
        patient=patient,
        as_of=days(0),
        result={
            "follow_up": [
                {"treatment": "botulinum_intradermal", "review_after_weeks": [2, 4], "text": "Review sebum."},
                {"treatment": "botulinum_intradermal", "review_after_weeks": [12, 24], "text": long_text},
                {"treatment": "botulinum_scalp", "review_after_weeks": [12, 12], "text": "Review hair."},
                {"treatment": "botulinum_scalp", "review_after_weeks": [12, 12], "text": "Duplicate."},
            ]
        },
    )
    created = follow_ups_from_assessment(actor=physician, snapshot=snapshot)
    assert sorted((f.source, f.due_date) for f in created) == [
        ("pathway:botulinum_intradermal", days(14)),
        ("pathway:botulinum_intradermal", days(84)),
        ("pathway:botulinum_scalp", days(84)),
    ]
    assert all(len(f.reason) <= 200 for f in created) and created[0].reason == "Review sebum."
    assert follow_ups_from_assessment(actor=physician, snapshot=snapshot) == []
    assert FollowUp.objects.count() == 3


def test_only_clinical_roles_create_pathway_follow_ups(front_desk, patient):
    snapshot = SimpleNamespace(pk=1, patient=patient, as_of=days(0), result={"follow_up": []})
    with pytest.raises(PermissionDenied):
        follow_ups_from_assessment(actor=front_desk, snapshot=snapshot)


def test_appointments_are_never_deleted(physician, patient):
    appointment = book(physician, patient, at(days(2), 10))
    with pytest.raises(Conflict):
        appointment.delete()
    with pytest.raises(Conflict):
        Appointment.objects.all().delete()


def test_naive_times_are_read_as_clinic_time(physician, patient):
    naive = dt.datetime(2026, 3, 11, 10, 0)
    appointment = sched.appointment_book(
        actor=physician,
        patient=patient,
        data={"start": naive, "end": naive + dt.timedelta(minutes=20), "kind": "lab"},
    )
    assert appointment.start == at(days(2), 10)
