"""The calendar: a day or a week of appointments, per practitioner, placed on the grid, with the free slots."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.translation import gettext as _

from dermatox.audit.actions import action as audit_action
from dermatox.audit.services import audit_record
from dermatox.common.context import Actor
from dermatox.scheduling import hours
from dermatox.scheduling.models import Appointment
from dermatox.scheduling.selectors.scope import appointments_in_scope
from dermatox.scheduling.services import clinical_members

GRID_START = hours.GRID_FROM.hour * 60 + hours.GRID_FROM.minute
GRID_END = hours.GRID_TO.hour * 60 + hours.GRID_TO.minute
GRID_SPAN = GRID_END - GRID_START


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
