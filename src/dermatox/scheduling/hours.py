"""Clinic hours and free-slot finding (no database: the busy times are an argument).

Assumption until clinics can set their own: open Monday to Saturday, 09:00-18:00 in the clinic's time
zone, booked in 30-minute slots. The calendar grid shows 07:00-21:00 so early and late bookings fit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings

OPENS = dt.time(9, 0)
CLOSES = dt.time(18, 0)
WORKDAYS = frozenset({0, 1, 2, 3, 4, 5})  # Monday .. Saturday
SLOT_MINUTES = 30
GRID_FROM = dt.time(7, 0)
GRID_TO = dt.time(21, 0)
SEARCH_DAYS = 60


def clinic_tz(clinic) -> ZoneInfo:
    try:
        return ZoneInfo(getattr(clinic, "timezone", "") or settings.TIME_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(settings.TIME_ZONE)


def at(day: dt.date, time: dt.time, tz: ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, time, tzinfo=tz)


def overlaps(start: dt.datetime, end: dt.datetime, busy: Iterable[tuple[dt.datetime, dt.datetime]]) -> bool:
    return any(b_start < end and b_end > start for b_start, b_end in busy)


def next_free_slot(
    *,
    earliest: dt.datetime,
    busy: list[tuple[dt.datetime, dt.datetime]],
    tz: ZoneInfo,
    minutes: int = SLOT_MINUTES,
    days: int = SEARCH_DAYS,
) -> dt.datetime | None:
    """The first slot on the 30-minute grid within clinic hours, at or after `earliest`, that does not
    overlap a busy interval; None if there is none within `days`."""
    first_day = earliest.astimezone(tz).date()
    length = dt.timedelta(minutes=minutes)
    step = dt.timedelta(minutes=SLOT_MINUTES)
    for offset in range(days + 1):
        day = first_day + dt.timedelta(days=offset)
        if day.weekday() not in WORKDAYS:
            continue
        candidate, closes = at(day, OPENS, tz), at(day, CLOSES, tz)
        while candidate + length <= closes:
            if candidate >= earliest and not overlaps(candidate, candidate + length, busy):
                return candidate
            candidate += step
    return None
