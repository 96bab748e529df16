"""The recall worklist: follow-ups grouped overdue / due / upcoming / booked, paged and counted up to a cap,
and one follow-up to book."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from django.db.models import Min, Q
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from dermatox.accounts.roles import Perm
from dermatox.audit.services import audit_record
from dermatox.common.context import Actor
from dermatox.common.errors import NotFound, PermissionDenied
from dermatox.scheduling import hours
from dermatox.scheduling.models import Appointment
from dermatox.scheduling.selectors.scope import _follow_ups_in_scope
from dermatox.treatments.models import FollowUp
from dermatox.treatments.selectors import FollowUpShown, follow_up_shown

RECALL_PAGE_SIZE = 50  # rows of one group on one page: a list staff can read, and a page that stays fast
# A group's total is counted exactly up to this many; above it the heading says "more than 1,000" and the
# pager goes on without a last page. Counting stays bounded (a clinic ten times larger counted ten times
# the rows: the worklist grew 1.95× from 10,000 to 100,000 patients), and every row stays reachable.
RECALL_COUNT_CAP = 1000
RECALL_GROUPS = ("overdue", "due", "upcoming", "booked")


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
