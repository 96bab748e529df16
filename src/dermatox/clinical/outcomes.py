"""Outcome measures over time: which measures are repeated, change from baseline, and cohort medians.

Pure: values and dates in, numbers out. What counts as each protocol's outcome follows the studies the
protocols come from (clinical.md §3.1: hair counts / shedding for scalp toxin; §6.1: sebum for
intradermal toxin). Differences are "after minus baseline", so a fall in shedding or sebum is negative.
"""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass
from decimal import Decimal

# Measures plotted on the patient page, in this order (numeric observation types of observation_types.toml).
REPEATED_MEASURES = (
    "daily_shedding",
    "pull_test_hairs",
    "hair_density",
    "hair_shaft_diameter",
    "gags",
    "iga",
    "inflammatory_lesions",
    "noninflammatory_lesions",
    "nodules",
    "sebum_casual",
)
# Measures compared per site: a forehead reading is not a baseline for a cheek reading (clinical.md §5.4).
PER_SITE = {"sebum_casual", "hair_density", "hair_shaft_diameter"}
PROTOCOL_OUTCOMES = {
    "hair_scalp_im": ("daily_shedding", "hair_density"),
    "sebum_forehead_id": ("sebum_casual",),
    "sebum_cheeks_id": ("sebum_casual",),
}
BASELINE_WINDOW_DAYS = 90  # a baseline must be measured within 90 days before the first session


@dataclass(frozen=True)
class Change:
    baseline: Decimal
    baseline_on: dt.date
    latest: Decimal
    latest_on: dt.date
    delta: Decimal
    percent: Decimal | None  # None when the baseline is 0


def change_from_baseline(points: list[tuple[dt.date, Decimal]]) -> Change | None:
    """First point = baseline, last point = latest (points in time order). None with fewer than two."""
    if len(points) < 2:
        return None
    (first_on, first), (last_on, last) = points[0], points[-1]
    delta = last - first
    percent = (delta / first * 100).quantize(Decimal("0.1")) if first else None
    return Change(first, first_on, last, last_on, delta, percent)


def before_and_after(
    points: list[tuple[dt.date, Decimal]], session_on: dt.date
) -> tuple[tuple[dt.date, Decimal], tuple[dt.date, Decimal]] | None:
    """The baseline (the last value on or before the session day, at most 90 days before) and the latest
    value after it. None when either is missing."""
    before = [p for p in points if session_on - dt.timedelta(days=BASELINE_WINDOW_DAYS) <= p[0] <= session_on]
    after = [p for p in points if p[0] > session_on]
    if not before or not after:
        return None
    return before[-1], after[-1]


@dataclass(frozen=True)
class CohortChange:
    protocol: str
    measure: str
    n: int
    median_delta: Decimal | None
    median_percent: Decimal | None


def cohort_changes(
    protocol: str, measure: str, per_patient: list[tuple[tuple[dt.date, Decimal], tuple[dt.date, Decimal]]]
) -> CohortChange:
    """Median change (absolute and %) across patients, each contributing one baseline/after pair."""
    deltas = [after[1] - base[1] for base, after in per_patient]
    percents = [(after[1] - base[1]) / base[1] * 100 for base, after in per_patient if base[1]]
    return CohortChange(
        protocol,
        measure,
        len(deltas),
        Decimal(statistics.median(deltas)).quantize(Decimal("0.1")) if deltas else None,
        Decimal(statistics.median(percents)).quantize(Decimal("0.1")) if percents else None,
    )
