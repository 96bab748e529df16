"""Calendar and recall reads: clinic scoping, geometry, groups on fixed dates, audit, bounded queries."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dermatox.audit.models import AuditEntry
from dermatox.common.errors import NotFound, PermissionDenied
from dermatox.patients.models import Patient
from dermatox.scheduling import services as sched
from dermatox.scheduling.models import Appointment
from dermatox.scheduling.selectors import (
    RECALL_PAGE_SIZE,
    calendar_day,
    calendar_week,
    follow_up_get,
    patient_upcoming,
    recall_worklist,
)
from dermatox.treatments.models import FollowUp
from tests.scheduling.helpers import at, book, days, follow_up

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]


def many(actor, patient, count: int, day: dt.date) -> None:
    """`count` appointments spread over the grid (10-minute slots, so 50 fit in one day)."""
    for i in range(count):
        start = at(day, 8) + dt.timedelta(minutes=10 * i)
        book(actor, patient, start, minutes=10)


def test_day_view_has_a_column_per_clinician_with_blocks_placed_on_the_grid(physician, nurse, patient):
    book(physician, patient, at(days(1), 9))
    book(nurse, patient, at(days(1), 9), minutes=60)
    cancelled = book(physician, patient, at(days(1), 12))
    sched.appointment_cancel(actor=physician, appointment=cancelled, reason="Patient called")
    cal = calendar_day(actor=physician, day=days(1))
    assert [c.title for c in cal.columns] == ["Nurse_A", "Physician_A"]
    nurse_col, physician_col = cal.columns
    (block,) = physician_col.blocks
    assert (block.top, block.height) == (round(100 * 120 / 840, 3), round(100 * 30 / 840, 3))
    assert nurse_col.blocks[0].height == round(100 * 60 / 840, 3)
    assert [a.pk for a in cal.cancelled] == [cancelled.pk] and cal.count == 2
    assert len(physician_col.slots) == 28 and physician_col.slots[4].param == "2026-03-10T09:00"
    only = calendar_day(actor=physician, day=days(1), practitioner=str(nurse.user.pk))
    assert [c.title for c in only.columns] == ["Nurse_A"] and only.practitioner.id == nurse.user.pk
    assert calendar_day(actor=physician, day=days(-1)).columns[0].slots == []  # no booking in the past


def test_week_view_puts_overlapping_appointments_side_by_side(physician, nurse, patient, mailed_patient):
    book(physician, patient, at(days(2), 10))
    book(nurse, mailed_patient, at(days(2), 10, 15))
    book(nurse, patient, at(days(4), 15))
    cal = calendar_week(actor=physician, day=days(3))
    assert (cal.first_day, cal.last_day, len(cal.columns)) == (days(0), days(6), 7)
    wednesday = cal.columns[2]
    assert sorted((b.lane, b.lanes) for b in wednesday.blocks) == [(0, 2), (1, 2)]
    assert [(b.lane, b.lanes) for b in cal.columns[4].blocks] == [(0, 1)]
    assert cal.prev_day == days(-7) and cal.next_day == days(7)


def test_calendar_is_scoped_to_the_clinic_and_audited_with_the_patients_shown(
    physician, other_clinic, manager, sysadmin, patient
):
    book(physician, patient, at(days(1), 9))
    assert calendar_day(actor=other_clinic, day=days(1)).count == 0
    cal = calendar_day(actor=manager, day=days(1))  # managers see the schedule
    assert cal.count == 1
    entry = AuditEntry.objects.filter(action="appointment.calendar_day").order_by("-seq").first()
    assert entry.detail["patient_ids"] == [str(patient.pk)] and entry.actor_username == "manager_a"
    with pytest.raises(PermissionDenied):
        calendar_day(actor=sysadmin, day=days(1))


@pytest.mark.parametrize("select", [calendar_day, calendar_week])
def test_calendar_queries_do_not_grow_with_the_number_of_appointments(physician, nurse, patient, select):
    counts = []
    for day, count in ((days(1), 3), (days(8), 50)):
        many(physician if count == 3 else nurse, patient, count, day)
        with CaptureQueriesContext(connection) as queries:
            cal = select(actor=physician, day=day)
        assert cal.count == count
        counts.append(len(queries))
    # Practitioners, appointments, and the audit entry (head lock, insert, head update, in a savepoint).
    assert counts[0] == counts[1] and counts[1] <= 7, counts


def test_recall_groups_on_fixed_dates(physician, other_clinic, patient, mailed_patient, clock):
    overdue = follow_up(patient, days(-8), source="protocol:glabellar_lines")
    today = follow_up(patient, days(0), source="pathway:botulinum_scalp")
    week_end = follow_up(mailed_patient, days(7), source="")
    upcoming = follow_up(mailed_patient, days(8))
    horizon = follow_up(patient, days(28))
    follow_up(patient, days(29))  # beyond the horizon
    follow_up(patient, days(1), status="done")
    follow_up(patient, days(1), status="cancelled")
    gone = follow_up(patient, days(1))
    FollowUp.objects.filter(pk=gone.pk).update(entered_in_error_at=at(days(0), 7))
    to_book = follow_up(mailed_patient, days(3))
    appointment = sched.follow_up_book(actor=physician, follow_up=to_book)

    worklist = recall_worklist(actor=physician, horizon_days=28)
    assert [r.follow_up.pk for r in worklist.overdue] == [overdue.pk]
    assert worklist.overdue[0].days_overdue == 8
    assert worklist.overdue[0].source_label == "Protocol: Glabellar lines (label)"
    assert [r.follow_up.pk for r in worklist.due] == [today.pk, week_end.pk]
    assert worklist.due[0].source_label == "Pathway: Botulinum toxin to the scalp muscles"
    assert worklist.due[1].source_label == "Added by hand"
    assert [r.follow_up.pk for r in worklist.upcoming] == [upcoming.pk, horizon.pk]
    assert [(r.follow_up.pk, r.appointment.pk) for r in worklist.booked] == [(to_book.pk, appointment.pk)]
    entry = AuditEntry.objects.filter(action="recall.list").order_by("-seq").first()
    assert set(entry.detail["patient_ids"]) == {str(patient.pk), str(mailed_patient.pk)}
    assert recall_worklist(actor=other_clinic).overdue == []
    # The same list seen a week later: what was due is overdue now.
    later = recall_worklist(actor=physician, today=days(7), horizon_days=28)
    assert [r.follow_up.pk for r in later.overdue] == [overdue.pk, today.pk]


def test_recall_queries_are_bounded(physician, patient):
    counts = []
    for n in (40, 160):  # every group has rows in both rounds (an empty group skips its page query)
        items = [follow_up(patient, days(-10 + i % 30)) for i in range(n)]
        for item in items[::2]:
            sched.follow_up_book(actor=physician, follow_up=item)
        with CaptureQueriesContext(connection) as queries:
            worklist = recall_worklist(actor=physician)
        counts.append(len(queries))
    # Four groups (a count and a page each), the booked ones' appointments, and the audit entry (five
    # queries with its savepoint).
    assert counts[0] == counts[1] and counts[1] <= 14, counts
    assert worklist.groups["booked"].total == 100 and len(worklist.booked) == RECALL_PAGE_SIZE


def test_recall_groups_page_by_page_with_their_totals(physician, patient):
    overdue = [follow_up(patient, days(-60 + i)) for i in range(RECALL_PAGE_SIZE + 3)]
    for i in range(5):
        follow_up(patient, days(10 + i))
    booked = [follow_up(patient, days(3)) for _ in range(RECALL_PAGE_SIZE + 1)]
    visits = [sched.follow_up_book(actor=physician, follow_up=f) for f in booked]

    first = recall_worklist(actor=physician)
    group = first.groups["overdue"]
    assert (group.total, group.page, group.pages, group.previous_page, group.next_page) == (
        RECALL_PAGE_SIZE + 3,
        1,
        2,
        None,
        2,
    )
    assert [r.follow_up.pk for r in first.overdue] == [f.pk for f in overdue[:RECALL_PAGE_SIZE]]
    second = recall_worklist(actor=physician, pages={"overdue": "2", "booked": 2})
    assert [r.follow_up.pk for r in second.overdue] == [f.pk for f in overdue[RECALL_PAGE_SIZE:]]
    assert second.groups["overdue"].next_page is None and second.groups["overdue"].previous_page == 1
    assert len(second.upcoming) == 5 and second.groups["upcoming"].page == 1  # each group its own page
    # Booked in the order of their appointments, across pages, each row with its own appointment.
    shown = [(r.follow_up.pk, r.appointment.pk) for r in first.booked + second.booked]
    by_start = sorted(zip(booked, visits, strict=True), key=lambda fv: (fv[1].start, fv[0].pk))
    assert shown == [(f.pk, v.pk) for f, v in by_start]
    # A page number that is not one, or past the end: the first page, or the last.
    assert recall_worklist(actor=physician, pages={"overdue": "x"}).groups["overdue"].page == 1
    assert recall_worklist(actor=physician, pages={"overdue": "99"}).groups["overdue"].page == 2
    # The audit counts the rows of the pages shown (the last call: overdue page 2, upcoming, booked page 1).
    entry = AuditEntry.objects.filter(action="recall.list").order_by("-seq").first()
    assert entry.detail["results"] == 3 + 5 + RECALL_PAGE_SIZE


def test_a_group_larger_than_the_count_cap_says_more_than_and_pages_on_to_its_end(
    physician, patient, monkeypatch
):
    import dermatox.scheduling.selectors.recall as selectors

    monkeypatch.setattr(selectors, "RECALL_COUNT_CAP", 5)
    monkeypatch.setattr(selectors, "RECALL_PAGE_SIZE", 2)
    overdue = [follow_up(patient, days(-30 + i)) for i in range(9)]
    follow_up(patient, days(3))  # due this week: a group under the cap keeps its exact count

    first = recall_worklist(actor=physician)
    group = first.groups["overdue"]
    assert (group.total, group.pages, group.page, group.next_page) == (None, None, 1, 2)
    assert group.total_shown == "more than 5"
    assert first.groups["due"].total == 1 and first.groups["due"].total_shown == "1"
    # Page on: rows in order, no last page known until it is reached (9 rows, 2 a page: page 5 has one).
    fourth = recall_worklist(actor=physician, pages={"overdue": 4}).groups["overdue"]
    assert [r.follow_up.pk for r in fourth.rows] == [f.pk for f in overdue[6:8]]
    assert (fourth.pages, fourth.next_page, fourth.previous_page) == (None, 5, 3)
    last = recall_worklist(actor=physician, pages={"overdue": 5}).groups["overdue"]
    assert [r.follow_up.pk for r in last.rows] == [overdue[8].pk]
    assert (last.pages, last.next_page, last.total, last.total_shown) == (
        5,
        None,
        9,
        "9",
    )  # known once reached
    # Past the end of a group too large to count: the group is counted once and its last page shown.
    past = recall_worklist(actor=physician, pages={"overdue": 40}).groups["overdue"]
    assert (past.page, past.pages, past.total, [r.follow_up.pk for r in past.rows]) == (
        5,
        5,
        9,
        [overdue[8].pk],
    )
    huge = recall_worklist(actor=physician, pages={"overdue": "9" * 40}).groups["overdue"]
    assert (huge.page, huge.pages) == (5, 5)
    # The count is bounded: it reads at most RECALL_COUNT_CAP + 1 rows (a LIMIT in its SQL).
    with CaptureQueriesContext(connection) as queries:
        recall_worklist(actor=physician)
    counts = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    assert len(counts) == 4 and all("LIMIT 6" in sql for sql in counts), counts


def test_patient_upcoming_lists_booked_from_today(physician, front_desk, patient):
    earlier = book(physician, patient, at(days(0), 7))
    later = book(physician, patient, at(days(3), 9))
    cancelled = book(physician, patient, at(days(2), 9))
    sched.appointment_cancel(actor=physician, appointment=cancelled, reason="x")
    assert [a.pk for a in patient_upcoming(actor=front_desk, patient=patient)] == [earlier.pk, later.pk]
    assert Appointment.objects.count() == 3


def test_a_follow_up_is_found_only_in_its_clinic_and_for_a_current_patient(physician, other_clinic, patient):
    due = follow_up(patient, days(3))
    assert follow_up_get(actor=physician, follow_up_id=due.pk) == due
    with pytest.raises(NotFound):
        follow_up_get(actor=other_clinic, follow_up_id=due.pk)
    Patient.objects.filter(pk=patient.pk).update(entered_in_error_at=at(days(0), 7))
    with pytest.raises(NotFound):  # booking it would book an appointment for a record that is void
        follow_up_get(actor=physician, follow_up_id=due.pk)
