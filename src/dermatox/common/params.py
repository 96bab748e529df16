"""Whole-number request parameters (`_count`, `_offset`, page numbers, ids in a query), bounded: a
40-digit value overflowed SQLite's integers and PostgreSQL's LIMIT/OFFSET. Digits only, at most
MAX_DIGITS of them, and no more than MAX_PARAM_INT; otherwise an InvalidInput naming the parameter."""

from __future__ import annotations

from dermatox.common.errors import InvalidInput

MAX_PARAM_INT = 2**31 - 1  # the largest PostgreSQL `integer`: every id and count we store fits
MAX_DIGITS = 10


def as_bounded_int(raw: str) -> int | None:
    """The value of a plain whole number within [0, MAX_PARAM_INT]; None for anything else."""
    text = raw.strip()
    if not text.isascii() or not text.isdigit() or len(text) > MAX_DIGITS:
        return None
    value = int(text)
    return value if value <= MAX_PARAM_INT else None


def whole_number(raw: str | None, name: str, *, default: int, high: int = MAX_PARAM_INT) -> int:
    """`raw` (a query parameter) as a whole number in [0, high], or `default` when it is absent."""
    if raw is None or raw == "":
        return default
    value = as_bounded_int(raw)
    if value is None or value > high:
        raise InvalidInput(
            f"{name}: must be a whole number from 0 to {high}",
            fields={name: [f"must be a whole number from 0 to {high}"]},
        )
    return value
