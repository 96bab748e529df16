from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dermatox.clinical.observations import ObservationValueError, check_observation_value


@pytest.mark.parametrize(
    ("code", "raw", "number", "text"),
    [
        ("daily_shedding", "120", Decimal(120), ""),  # §1.1 daily hair count
        ("pull_test_hairs", 2, Decimal(2), ""),  # §1.1 McDonald 2017: normal <= 2
        ("gags", "44", Decimal(44), ""),  # §5.1 maximum global score
        ("hair_density", "175,5", Decimal("175.5"), ""),  # decimal comma accepted
        ("norwood", "III-vertex", None, "III-vertex"),  # §1.2
    ],
)
def test_valid_values(code, raw, number, text):
    checked = check_observation_value(code, raw)
    assert checked.number == number
    assert checked.code == text


@pytest.mark.parametrize(
    ("code", "raw", "unit", "field", "rule"),
    [
        ("gags", "45", None, "value", "must be <= 44"),  # §5.1
        ("iga", "5", None, "value", "must be <= 4"),  # §5.2
        ("goodman_baron", "0", None, "value", "must be >= 1"),  # §5.6
        ("pull_test_hairs", "61", None, "value", "must be <= 60"),  # one ~60-hair pull
        ("daily_shedding", "12.5", None, "value", "must be a whole number"),
        ("daily_shedding", "many", None, "value", "must be a number"),
        ("daily_shedding", "NaN", None, "value", "must be a number"),
        ("norwood", "VIII", None, "value", "must be one of"),
        ("hair_density", "150", "/mm2", "unit", "must be '/cm2'"),  # units never converted silently
        ("weight", "70", None, "code", "unknown measurement"),
    ],
)
def test_invalid_values_name_field_and_rule(code, raw, unit, field, rule):
    with pytest.raises(ObservationValueError) as info:
        check_observation_value(code, raw, unit)
    assert info.value.field == field
    assert rule in info.value.rule


@given(st.integers(min_value=0, max_value=44))
def test_every_gags_score_in_range_is_accepted(score):
    assert check_observation_value("gags", score).number == score


@given(st.integers().filter(lambda n: n < 0 or n > 44))
def test_every_gags_score_out_of_range_is_rejected(score):
    with pytest.raises(ObservationValueError):
        check_observation_value("gags", score)
