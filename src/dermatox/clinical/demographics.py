"""Plausibility rules for demographics. The date is an argument: no clock here."""

from __future__ import annotations

import datetime as dt

MAX_AGE_YEARS = 130


def age_on(birth_date: dt.date, on: dt.date) -> int:
    years = on.year - birth_date.year
    if (on.month, on.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years


def birth_date_problem(birth_date: dt.date, today: dt.date) -> str | None:
    """Why a birth date cannot be right, or None."""
    if birth_date > today:
        return "must not be in the future"
    if age_on(birth_date, today) > MAX_AGE_YEARS:
        return f"gives an age over {MAX_AGE_YEARS} years"
    return None
