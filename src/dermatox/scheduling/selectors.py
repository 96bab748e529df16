"""Every read the calendar and recall pages need, scoped to the actor's clinic and audited as a list (with
the ids of the patients shown). A fixed number of queries, however many appointments there are."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from django.db.models import Min, Q
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from dermatox.accounts.roles import Perm
from dermatox.audit.actions import action as audit_action
from dermatox.audit.services import audit_record
from dermatox.common.context import Actor
from dermatox.common.errors import NotFound, PermissionDenied
from dermatox.patients.selectors import patients_in_scope
from dermatox.scheduling import hours
from dermatox.scheduling.models import Appointment, Reminder
from dermatox.scheduling.services import clinical_members
from dermatox.treatments.models import FollowUp
from dermatox.treatments.selectors import FollowUpShown, appointment_reason_shown, follow_up_shown

GRID_START = hours.GRID_FROM.hour * 60 + hours.GRID_FROM.minute
GRID_END = hours.GRID_TO.hour * 60 + hours.GRID_TO.minute
GRID_SPAN = GRID_END - GRID_START
RECALL_PAGE_SIZE = 50  # rows of one group on one page: a list staff can read, and a page that stays fast
# A group's total is counted exactly up to this many; above it the heading says "more than 1,000" and the
# pager goes on without a last page. Counting stays bounded (a clinic ten times larger counted ten times
# the rows: the worklist grew 1.95× from 10,000 to 100,000 patients), and every row stays reachable.
RECALL_COUNT_CAP = 1000
RECALL_GROUPS = ("overdue", "due", "upcoming", "booked")


def appointments_in_scope(actor: Actor):
    """The only way to appointments: those of the actor's current clinic, for a role that may see them."""
    if not actor.can(Perm.VIEW_APPOINTMENTS):
        raise PermissionDenied(_("Your role does not give access to appointments."))
    if actor.clinic is None:
        return Appointment.objects.none()
    return Appointment.objects.current().filter(
        clinic_id=actor.clinic.pk, patient__entered_in_error_at__isnull=True
    )


def _follow_ups_in_scope(actor: Actor):
    """Current follow-ups of the clinic's current patients (one marked entered in error has none)."""
    return FollowUp.objects.current().filter(
        patient__in=patients_in_scope(actor), patient__entered_in_error_at__isnull=True
    )


# --- calendar ---------------------------------------------------------------------------------------


@dataclass
class Block:
    """One appointment placed on the grid: top and height in percent of 07:00-21:00; lanes side by side
    when appointments in one column overlap."""

    appointment: Appointment
    start: dt.datetime  # clinic-local
    end: dt.datetime
    top: float = 0.0
    height: float = 0.0
    lane: int = 0
    lanes: int = 1

    @property
    def left(self) -> float:
        return round(100 * self.lane / self.lanes, 3)

    @property
    def width(self) -> float:
        return round(100 / self.lanes, 3)


@dataclass
class Slot:
    start: dt.datetime  # clinic-local
    param: str  # YYYY-MM-DDTHH:MM, for the booking form
    top: float  # percent of the grid
    height: float


@dataclass
class Column:
    title: str
    day: dt.date
    practitioner_id: int | None
    blocks: list[Block] = field(default_factory=list)
    slots: list[Slot] = field(default_factory=list)
    is_today: bool = False


@dataclass
class Practitioner:
    id: int
    name: str
    role: str


@dataclass
class Calendar:
    view: str  # day | week
    first_day: dt.date
    last_day: dt.date
    today: dt.date
    columns: list[Column]
    practitioners: list[Practitioner]
    practitioner: Practitioner | None
    cancelled: list[Appointment]
    hours: list[str]
    prev_day: dt.date
    next_day: dt.date
    count: int = 0


def _minutes(moment: dt.datetime) -> int:
    return moment.hour * 60 + moment.minute


def _place(blocks: list[Block]) -> None:
    """Geometry: clamp to the grid, then give overlapping blocks separate lanes (greedy, per cluster)."""
    for block in blocks:
        start = _minutes(block.start)
        end = start + max(5, int((block.end - block.start).total_seconds() // 60))
        start = min(max(start, GRID_START), GRID_END - 15)
        end = min(max(end, start + 15), GRID_END)
        block.top = round(100 * (start - GRID_START) / GRID_SPAN, 3)
        block.height = round(100 * (end - start) / GRID_SPAN, 3)
    blocks.sort(key=lambda b: (b.start, b.end))
    cluster: list[Block] = []
    cluster_end = None
    lane_ends: list[dt.datetime] = []

    def close() -> None:
        for member in cluster:
            member.lanes = len(lane_ends)

    for block in blocks:
        if cluster and block.start >= cluster_end:
            close()
            cluster, lane_ends = [], []
        for lane, lane_end in enumerate(lane_ends):
            if lane_end <= block.start:
                block.lane, lane_ends[lane] = lane, block.end
                break
        else:
            block.lane = len(lane_ends)
            lane_ends.append(block.end)
        cluster.append(block)
        cluster_end = max(cluster_end, block.end) if cluster_end else block.end
    if cluster:
        close()


def _slots(day: dt.date, tz, today: dt.date) -> list[Slot]:
    if day < today:
        return []
    out = []
    minute = GRID_START
    while minute < GRID_END:
        start = hours.at(day, dt.time(minute // 60, minute % 60), tz)
        out.append(
            Slot(
                start=start,
                param=start.strftime("%Y-%m-%dT%H:%M"),
                top=round(100 * (minute - GRID_START) / GRID_SPAN, 3),
                height=round(100 * hours.SLOT_MINUTES / GRID_SPAN, 3),
            )
        )
        minute += hours.SLOT_MINUTES
    return out


def _calendar(*, actor: Actor, view: str, first_day: dt.date, days: int, practitioner=None) -> Calendar:
    scope = appointments_in_scope(actor)
    tz = hours.clinic_tz(actor.clinic)
    today = timezone.localdate(timezone=tz)
    members = [Practitioner(m.user_id, str(m.user), m.role) for m in clinical_members(actor.clinic.pk)]
    chosen = None
    if practitioner not in (None, ""):
        chosen = next((p for p in members if str(p.id) == str(practitioner)), None)
    last_day = first_day + dt.timedelta(days=days - 1)
    qs = scope.filter(
        start__lt=hours.at(last_day + dt.timedelta(days=1), dt.time(0), tz),
        end__gt=hours.at(first_day, dt.time(0), tz),
    )
    if chosen is not None:
        qs = qs.filter(practitioner_id=chosen.id)
    appointments = list(qs.select_related("patient", "practitioner").order_by("start", "pk"))
    active = [a for a in appointments if a.status != Appointment.Status.CANCELLED]
    cancelled = [a for a in appointments if a.status == Appointment.Status.CANCELLED]

    columns: dict[tuple, Column] = {}
    if view == "week":
        for offset in range(days):
            day = first_day + dt.timedelta(days=offset)
            columns[(day,)] = Column(
                title=day.isoformat(),
                day=day,
                practitioner_id=chosen.id if chosen else None,
                slots=_slots(day, tz, today),
                is_today=day == today,
            )
    else:
        shown = [chosen] if chosen else members
        for member in shown:
            columns[(member.id,)] = Column(
                title=member.name,
                day=first_day,
                practitioner_id=member.id,
                slots=_slots(first_day, tz, today),
            )
    for appointment in active:
        start, end = appointment.start.astimezone(tz), appointment.end.astimezone(tz)
        if view == "week":
            key = (start.date(),)
        else:
            key = (appointment.practitioner_id,)
            if key not in columns:  # no practitioner, or one who no longer works here
                columns[key] = Column(
                    title=str(appointment.practitioner) if appointment.practitioner else _("No practitioner"),
                    day=first_day,
                    practitioner_id=appointment.practitioner_id,
                )
        if key in columns:
            columns[key].blocks.append(Block(appointment=appointment, start=start, end=end))
    for column in columns.values():
        _place(column.blocks)
        column.is_today = column.day == today

    step = dt.timedelta(days=days)
    audit_record(
        actor=actor,
        action=audit_action("appointment.calendar_{0}", view),
        detail={
            "from": first_day.isoformat(),
            "days": days,
            "practitioner": chosen.id if chosen else None,
            "results": len(appointments),
            "patient_ids": sorted({str(a.patient_id) for a in appointments}),
        },
    )
    return Calendar(
        view=view,
        first_day=first_day,
        last_day=last_day,
        today=today,
        columns=list(columns.values()),
        practitioners=members,
        practitioner=chosen,
        cancelled=cancelled,
        hours=[f"{h:02d}:00" for h in range(hours.GRID_FROM.hour, hours.GRID_TO.hour)],
        prev_day=first_day - step,
        next_day=first_day + step,
        count=len(active),
    )


def calendar_day(*, actor: Actor, day: dt.date, practitioner=None) -> Calendar:
    """One day, a column per physician and nurse of the clinic (or only the one chosen)."""
    return _calendar(actor=actor, view="day", first_day=day, days=1, practitioner=practitioner)


def calendar_week(*, actor: Actor, day: dt.date, practitioner=None) -> Calendar:
    """Monday to Sunday of the week holding `day`, a column per day."""
    monday = day - dt.timedelta(days=day.weekday())
    return _calendar(actor=actor, view="week", first_day=monday, days=7, practitioner=practitioner)


# --- one appointment ------------------------------------------------------------------------------------


@dataclass
class AppointmentView:
    appointment: Appointment
    versions: list
    reminders: list[Reminder]
    reason: str = ""  # as this reader may see it (appointment_reason_shown)
    follow_up: FollowUpShown | None = None


def appointment_get(
    *, actor: Actor, appointment_id, audit_as: str | None = "appointment.view"
) -> Appointment:
    """One appointment of the actor's clinic, or NotFound (also for another clinic's)."""
    try:
        pk = int(appointment_id)
    except (TypeError, ValueError) as exc:
        raise NotFound("No such appointment") from exc
    appointment = (
        appointments_in_scope(actor)
        .select_related("patient", "practitioner", "clinic", "follow_up", "created_by")
        .filter(pk=pk)
        .first()
    )
    if appointment is None:
        raise NotFound("No such appointment")
    if audit_as:
        audit_record(actor=actor, action=audit_as, obj=appointment)
    return appointment


def appointment_page(*, actor: Actor, appointment_id) -> AppointmentView:
    appointment = appointment_get(actor=actor, appointment_id=appointment_id)
    versions = list(
        appointment.history.select_related("history_user", "practitioner").order_by(
            "-history_date", "-history_id"
        )[:20]
    )
    reminders = list(appointment.reminders.order_by("-sent_at")[:20])
    follow_up = follow_up_shown(actor, appointment.follow_up) if appointment.follow_up_id else None
    return AppointmentView(
        appointment, versions, reminders, appointment_reason_shown(actor, appointment), follow_up
    )


def patient_upcoming(*, actor: Actor, patient, limit: int = 5) -> list[Appointment]:
    """The patient's next appointments (booked or arrived, from the start of today)."""
    if not actor.can(Perm.VIEW_APPOINTMENTS):
        return []
    tz = hours.clinic_tz(actor.clinic)
    since = hours.at(timezone.localdate(timezone=tz), dt.time(0), tz)
    return list(
        Appointment.objects.current()
        .filter(patient=patient, clinic_id=patient.clinic_id, status__in=Appointment.ACTIVE, start__gte=since)
        .select_related("practitioner")
        .order_by("start")[:limit]
    )


# --- recall worklist --------------------------------------------------------------------------------------


@dataclass
class RecallRow:
    """One line of the recall list. `shown` is what the reader may see of the follow-up (no clinical reason
    or source for front desk and managers); `follow_up` is for its id and patient only."""

    follow_up: FollowUp
    shown: FollowUpShown
    days_overdue: int
    appointment: Appointment | None = None

    @property
    def source_label(self) -> str | None:
        return self.shown.source_label


@dataclass
class RecallGroup:
    """One group of the recall list, one page of it: `total` counts the whole group; it and `pages` are None
    when the group holds more than RECALL_COUNT_CAP rows and this is not its last page."""

    name: str
    rows: list[RecallRow]
    total: int | None
    page: int
    pages: int | None
    has_next: bool = False
    query: str = ""  # the page's other parameters, for the pager's links (set by the view)

    @property
    def previous_page(self) -> int | None:
        return self.page - 1 if self.page > 1 else None

    @property
    def next_page(self) -> int | None:
        return self.page + 1 if self.has_next else None

    @property
    def total_shown(self) -> str:
        """The heading's count: the number, or "more than 1,000"."""
        if self.total is not None:
            return formats.number_format(self.total, force_grouping=True)
        return _("more than %(count)s") % {
            "count": formats.number_format(RECALL_COUNT_CAP, force_grouping=True)
        }


def _page_number(value) -> int:
    """A page number from the address: 1 when it is not one; at most a million (an OFFSET the database can
    take; a larger one is past the end of any group anyway)."""
    try:
        return min(max(1, int(value)), 10**6)
    except (TypeError, ValueError):
        return 1


def _recall_group(name: str, qs, requested, shown) -> RecallGroup:
    """One page of one group: a count bounded by RECALL_COUNT_CAP and the page's rows (one more, to know
    whether a next page exists). A number that is not one is the first page; past the end, the last."""
    size = RECALL_PAGE_SIZE

    def last_page(total: int) -> int:
        return max(1, -(-total // size))

    counted = qs.order_by()[: RECALL_COUNT_CAP + 1].count()
    total = counted if counted <= RECALL_COUNT_CAP else None
    number = _page_number(requested)
    if total is not None:
        number = min(number, last_page(total))
    found = list(qs[(number - 1) * size : number * size + 1]) if counted else []
    if not found and number > 1:  # past the end of a group too large to have counted: count it this once
        total = qs.count()
        number = last_page(total)
        found = list(qs[(number - 1) * size : number * size + 1])
    has_next = len(found) > size
    if total is None and not has_next:  # a large group's last page: now its size is known
        total = (number - 1) * size + len(found)
    pages = last_page(total) if total is not None else None
    return RecallGroup(name, [shown(f) for f in found[:size]], total, number, pages, has_next)


@dataclass
class RecallList:
    today: dt.date
    horizon: dt.date
    groups: dict[str, RecallGroup]

    overdue = property(lambda self: self.groups["overdue"].rows)
    due = property(lambda self: self.groups["due"].rows)
    upcoming = property(lambda self: self.groups["upcoming"].rows)
    booked = property(lambda self: self.groups["booked"].rows)


def recall_worklist(
    *, actor: Actor, today: dt.date | None = None, horizon_days: int = 16 * 7, pages: Mapping | None = None
) -> RecallList:
    """Open follow-ups of the clinic: overdue, due within a week, upcoming to the horizon; and those booked,
    with their next appointment. Each group a page of RECALL_PAGE_SIZE (`pages`: group name → page number;
    a missing or unusable number is the first page, one past the end the last) with its total (counted up to
    RECALL_COUNT_CAP); the same number of queries whatever the history."""
    if not actor.can(Perm.VIEW_APPOINTMENTS):
        raise PermissionDenied(_("Your role does not give access to appointments."))
    pages = pages or {}
    tz = hours.clinic_tz(actor.clinic)
    today = today or timezone.localdate(timezone=tz)
    week = today + dt.timedelta(days=7)
    horizon = today + dt.timedelta(days=horizon_days)
    since = hours.at(today, dt.time(0), tz)
    base = _follow_ups_in_scope(actor).select_related("patient")
    open_ = base.filter(status=FollowUp.Status.OPEN).order_by("due_date", "pk")
    upcoming_visit = Q(
        appointments__status__in=Appointment.ACTIVE,
        appointments__start__gte=since,
        appointments__entered_in_error_at__isnull=True,
    )
    booked = (
        base.filter(status=FollowUp.Status.BOOKED)
        .annotate(next_start=Min("appointments__start", filter=upcoming_visit))
        .filter(next_start__isnull=False)
        .order_by("next_start", "pk")
    )
    chosen = {
        "overdue": open_.filter(due_date__lt=today),
        "due": open_.filter(due_date__gte=today, due_date__lte=week),
        "upcoming": open_.filter(due_date__gt=week, due_date__lte=horizon),
        "booked": booked,
    }

    def shown(f: FollowUp) -> RecallRow:
        return RecallRow(f, follow_up_shown(actor, f), max(0, (today - f.due_date).days))

    groups = {name: _recall_group(name, qs, pages.get(name), shown) for name, qs in chosen.items()}
    booked_rows = groups["booked"].rows
    if booked_rows:
        next_visit: dict[int, Appointment] = {}
        for appointment in (
            Appointment.objects.current()
            .filter(
                follow_up_id__in=[r.follow_up.pk for r in booked_rows],
                status__in=Appointment.ACTIVE,
                start__gte=since,
            )
            .select_related("practitioner")
            .order_by("start", "pk")
        ):
            next_visit.setdefault(appointment.follow_up_id, appointment)
        for row in booked_rows:
            row.appointment = next_visit.get(row.follow_up.pk)
    shown = [r.follow_up.patient_id for group in groups.values() for r in group.rows]
    audit_record(
        actor=actor,
        action="recall.list",
        detail={
            "today": today.isoformat(),
            "results": len(shown),
            "patient_ids": sorted({str(pid) for pid in shown}),
        },
    )
    return RecallList(today, horizon, groups)


def follow_up_get(*, actor: Actor, follow_up_id) -> FollowUp:
    """A follow-up of the actor's clinic (for booking it), or NotFound (also for another clinic's)."""
    if not actor.can(Perm.VIEW_APPOINTMENTS):
        raise PermissionDenied(_("Your role does not give access to appointments."))
    try:
        pk = int(follow_up_id)
    except (TypeError, ValueError) as exc:
        raise NotFound("No such follow-up") from exc
    follow_up = _follow_ups_in_scope(actor).select_related("patient").filter(pk=pk).first()
    if follow_up is None:
        raise NotFound("No such follow-up")
    return follow_up


def review_appointments(session) -> list[Appointment]:
    """Appointments still booked or arrived for the reviews a toxin session scheduled: a withdrawn
    session's page lists them, for front desk to cancel (the session is already read in scope)."""
    return list(
        Appointment.objects.current()
        .filter(follow_up__session=session, status__in=Appointment.ACTIVE)
        .select_related("practitioner")
        .order_by("start")
    )
