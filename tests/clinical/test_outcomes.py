"""Change from baseline and cohort medians (pure). Outcome measures per protocol follow the studies:
clinical.md §3.1 (hair counts and shedding for scalp toxin), §6.1 (sebum for intradermal toxin);
sebum is compared per site with the patient's own baseline (§5.4)."""

import datetime as dt
from decimal import Decimal as D

from dermatox.clinical.outcomes import (
    PER_SITE,
    PROTOCOL_OUTCOMES,
    before_and_after,
    change_from_baseline,
    cohort_changes,
)

day = dt.date


def test_change_is_latest_minus_first_with_percent():
    change = change_from_baseline(
        [(day(2026, 1, 1), D(200)), (day(2026, 2, 1), D(150)), (day(2026, 4, 1), D(120))]
    )
    assert (change.baseline, change.latest, change.delta, change.percent) == (
        D(200),
        D(120),
        D(-80),
        D("-40.0"),
    )


def test_one_point_is_only_a_baseline_and_a_zero_baseline_has_no_percent():
    assert change_from_baseline([(day(2026, 1, 1), D(3))]) is None
    assert change_from_baseline([(day(2026, 1, 1), D(0)), (day(2026, 2, 1), D(2))]).percent is None


def test_baseline_is_the_last_value_up_to_the_session_within_90_days():
    points = [
        (day(2025, 6, 1), D(300)),
        (day(2026, 1, 1), D(200)),
        (day(2026, 1, 10), D(190)),
        (day(2026, 4, 10), D(120)),
    ]
    (base_on, base), (after_on, after) = before_and_after(points, day(2026, 1, 10))
    assert (base_on, base, after_on, after) == (day(2026, 1, 10), D(190), day(2026, 4, 10), D(120))
    assert before_and_after(points, day(2026, 5, 1)) is None  # nothing after
    assert before_and_after([(day(2025, 6, 1), D(300)), (day(2026, 4, 10), D(1))], day(2026, 1, 10)) is None


def test_cohort_median_of_changes_with_n():
    pairs = [
        ((day(2026, 1, 1), D(200)), (day(2026, 4, 1), D(100))),  # -100, -50 %
        ((day(2026, 1, 1), D(100)), (day(2026, 4, 1), D(90))),  # -10, -10 %
        ((day(2026, 1, 1), D(150)), (day(2026, 4, 1), D(120))),  # -30, -20 %
    ]
    cohort = cohort_changes("hair_scalp_im", "daily_shedding", pairs)
    assert (cohort.n, cohort.median_delta, cohort.median_percent) == (3, D("-30.0"), D("-20.0"))


def test_outcome_measures_per_protocol():
    assert PROTOCOL_OUTCOMES["hair_scalp_im"][0] == "daily_shedding"
    assert PROTOCOL_OUTCOMES["sebum_forehead_id"] == ("sebum_casual",) and "sebum_casual" in PER_SITE
