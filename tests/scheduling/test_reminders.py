"""Reminder emails (locmem backend): sent once, in the patient's language, .ics attached, skipped without an
email, retried after a failure; the deferred task and the sweep run through the real database worker."""

import datetime as dt
from unittest import mock

import pytest
from django.core import mail
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult
from icalendar import Calendar

from dermatox.patients.services import patient_update
from dermatox.scheduling import services as sched
from dermatox.scheduling.models import Reminder
from dermatox.scheduling.reminders import MAX_ATTEMPTS, sweep
from dermatox.scheduling.tasks import reminders_send
from tests.scheduling.helpers import at, book, days, follow_up

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]


def run_worker() -> None:
    """The real `db_worker` in batch mode. It closes the connection between tasks, as in production, so the
    tests that use it run outside a wrapping transaction."""
    call_command("db_worker", batch=True, reload=False, startup_delay=False, interval=0, verbosity=0)


def test_an_appointment_reminder_goes_out_once_with_the_invite(physician, mailed_patient):
    appointment = book(physician, mailed_patient, at(days(1), 10), reason="Botox review, left brow ptosis")
    book(physician, mailed_patient, at(days(3), 10))  # outside the 24 h window
    assert sweep(at(days(0), 11)) == {"appointment_sent": 1}
    (message,) = mail.outbox
    assert message.to == ["anna@example.org"]
    assert message.subject == "Reminder: your appointment at Clinic A on March 10, 2026 at 10:00"
    assert "Tuesday, March 10, 2026 at 10:00" in message.body
    for private in ("Botox", "ptosis", "Consultation", "Physician_A"):  # when and where, nothing clinical
        assert private not in message.body and private not in message.subject
    (name, content, mimetype) = message.attachments[0]
    assert name.endswith(".ics") and mimetype == "text/calendar"
    event = Calendar.from_ical(content).walk("VEVENT")[0]
    assert event.get("dtstart").dt == appointment.start and str(event.get("status")) == "CONFIRMED"
    reminder = Reminder.objects.get()
    assert (reminder.status, reminder.kind, reminder.language, reminder.for_start) == (
        "sent",
        "appointment",
        "en",
        appointment.start,
    )
    assert sweep(at(days(0), 11, 15)) == {}  # a second sweep sends nothing
    assert len(mail.outbox) == 1 and Reminder.objects.count() == 1


def test_the_email_is_in_the_patients_language(physician, patient):
    patient_update(actor=physician, patient=patient, data={"email": "ipek@example.org"})
    book(physician, patient, at(days(1), 10))
    sweep(at(days(0), 12))
    (message,) = mail.outbox
    # Django's own Turkish formats: month and weekday names come from translation.override("tr").
    assert "10 Mart 2026" in message.subject and "Salı" in message.body
    assert Reminder.objects.get().language == "tr"


def test_no_email_is_recorded_as_skipped(physician, patient):
    book(physician, patient, at(days(1), 10))
    assert sweep(at(days(0), 12)) == {"appointment_skipped_no_email": 1}
    assert mail.outbox == [] and Reminder.objects.get().status == "skipped_no_email"
    assert sweep(at(days(0), 13)) == {}


def test_a_rescheduled_appointment_is_reminded_again_for_its_new_start(physician, mailed_patient):
    appointment = book(physician, mailed_patient, at(days(1), 10))
    sweep(at(days(0), 11))
    sched.appointment_reschedule(
        actor=physician, appointment=appointment, data={"start": at(days(1), 15), "end": at(days(1), 15, 30)}
    )
    assert sweep(at(days(0), 16)) == {"appointment_sent": 1}
    assert [r.for_start for r in Reminder.objects.order_by("pk")] == [at(days(1), 10), at(days(1), 15)]
    invite = Calendar.from_ical(mail.outbox[1].attachments[0][1]).walk("VEVENT")[0]
    assert invite.get("sequence") == 1


def test_cancelled_and_past_appointments_are_not_reminded(physician, mailed_patient):
    appointment = book(physician, mailed_patient, at(days(1), 10))
    sched.appointment_cancel(actor=physician, appointment=appointment, reason="Patient called")
    assert sweep(at(days(0), 11)) == {}
    assert mail.outbox == []


def test_recall_reminders_for_open_follow_ups_due_soon(physician, mailed_patient):
    item = follow_up(mailed_patient, days(5), reason="Review after glabellar toxin")
    follow_up(mailed_patient, days(10))  # beyond the 7-day lead
    booked = follow_up(mailed_patient, days(2))
    sched.follow_up_book(actor=physician, follow_up=booked)
    assert sweep(at(days(0), 8)) == {"recall_sent": 1}
    (message,) = mail.outbox
    assert message.subject == "Time to book your follow-up visit at Clinic A"
    assert "March 14, 2026" in message.body and "glabellar" not in message.body
    assert Reminder.objects.get().follow_up_id == item.pk
    assert sweep(at(days(0), 9)) == {}


def test_a_failed_send_is_recorded_and_retried_a_few_times(physician, mailed_patient):
    book(physician, mailed_patient, at(days(1), 10))
    with mock.patch("django.core.mail.EmailMessage.send", side_effect=OSError("connection refused")):
        for minute in range(MAX_ATTEMPTS + 2):
            sweep(at(days(0), 11, minute))
    failed = Reminder.objects.filter(status="failed")
    assert failed.count() == MAX_ATTEMPTS and "connection refused" in failed.first().detail
    assert mail.outbox == []


def test_reminders_are_append_only(physician, patient):
    book(physician, patient, at(days(1), 10))
    sweep(at(days(0), 12))
    reminder = Reminder.objects.get()
    reminder.status = "sent"
    with pytest.raises(Exception, match="append-only"):
        reminder.save()
    with pytest.raises(Exception, match="append-only"):
        Reminder.objects.all().delete()


@pytest.mark.django_db(transaction=True)
def test_the_deferred_task_is_queued_in_the_database_and_the_worker_sends_it(
    physician, mailed_patient, clock
):
    appointment = book(physician, mailed_patient, at(days(2), 10))
    task = DBTaskResult.objects.get()
    assert task.status == "READY" and task.run_after == at(days(1), 10)
    run_worker()  # not due yet
    assert mail.outbox == [] and DBTaskResult.objects.get().status == "READY"
    clock.move_to(at(days(1), 10, 1))
    run_worker()
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"
    (message,) = mail.outbox
    assert "March 11, 2026" in message.subject
    assert Reminder.objects.get().appointment_id == appointment.pk


@pytest.mark.django_db(transaction=True)
def test_the_deferred_task_of_a_moved_or_cancelled_appointment(physician, mailed_patient, clock):
    moved = book(physician, mailed_patient, at(days(2), 10))
    sched.appointment_reschedule(
        actor=physician, appointment=moved, data={"start": at(days(2), 16), "end": at(days(2), 16, 30)}
    )
    cancelled = book(physician, mailed_patient, at(days(2), 12))
    sched.appointment_cancel(actor=physician, appointment=cancelled, reason="Patient called")
    clock.move_to(at(days(1), 17))
    run_worker()
    assert set(DBTaskResult.objects.values_list("status", flat=True)) == {"SUCCESSFUL"}
    rows = {(r.appointment_id, r.status) for r in Reminder.objects.all()}
    assert rows == {(moved.pk, "sent"), (cancelled.pk, "skipped_cancelled")}
    (message,) = mail.outbox
    assert "16:00" in message.subject  # only the new start was reminded


@pytest.mark.django_db(transaction=True)
def test_the_sweep_task_runs_in_the_worker(physician, mailed_patient, clock):
    book(physician, mailed_patient, at(days(1), 10))
    DBTaskResult.objects.all().delete()  # only the sweep this time
    result = reminders_send.enqueue(at(days(0), 11).isoformat())
    run_worker()
    result.refresh()
    assert result.status == "SUCCESSFUL" and result.return_value == {"appointment_sent": 1}
    assert len(mail.outbox) == 1


def test_sweep_uses_now_when_not_told(physician, mailed_patient, clock):
    book(physician, mailed_patient, at(days(0), 20))
    assert sweep() == {"appointment_sent": 1}
    assert isinstance(Reminder.objects.get().sent_at, dt.datetime)
