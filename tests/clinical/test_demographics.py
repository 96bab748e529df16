import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from dermatox.clinical.demographics import age_on, birth_date_problem

TODAY = dt.date(2026, 11, 21)


def test_age_counts_birthdays():
    assert age_on(dt.date(2000, 11, 21), TODAY) == 26
    assert age_on(dt.date(2000, 11, 22), TODAY) == 25
    assert age_on(dt.date(2004, 2, 29), dt.date(2026, 2, 28)) == 21


def test_birth_date_rules():
    assert birth_date_problem(TODAY, TODAY) is None
    assert birth_date_problem(TODAY + dt.timedelta(days=1), TODAY) == "must not be in the future"
    assert "over 130" in birth_date_problem(dt.date(1890, 1, 1), TODAY)


@given(st.dates(min_value=dt.date(1900, 1, 1), max_value=TODAY))
def test_age_is_never_negative_and_grows_by_one_a_year(birth):
    age = age_on(birth, TODAY)
    assert age >= 0
    assert age_on(birth, TODAY.replace(year=TODAY.year + 1)) == age + 1
