"""The lab limits as data (data/lab_limits.toml, clinical.md §12.6): well-formed rows, one limit per bound for
every patient, and the property that a value beyond its documented limit is never called normal."""

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dermatox.clinical.messages import LANGS, catalogue, placeholders, render
from dermatox.clinical.pathways import lab_limits
from dermatox.clinical.pathways.lab_limits import ACTIONS, Patient, _limit, limits, population_words
from dermatox.clinical.pathways.lab_units import lab_tests, to_canonical
from dermatox.clinical.pathways.labs import read
from dermatox.clinical.reference import ReferenceDataError, load

ROWS = load("lab_limits.toml")
SELECTORS = ("sex", "age_min", "age_max", "pregnant", "trimester")


# Every age where a band starts or ends, one either side, and the ends of life: all distinct populations.
AGES = sorted(
    {0, 110} | {r[k] + d for r in ROWS for k in ("age_min", "age_max") if k in r for d in (-1, 0, 1)}
)


def patients():
    for sex, age in itertools.product(("female", "male", "unknown"), (None, *AGES)):
        yield Patient(sex, age)
        if sex == "female":
            for trimester in (None, 1, 2, 3):
                yield Patient(sex, age, True, trimester)


def documented(test: str, bound: str, p: Patient) -> dict | None:
    """The oracle, straight from the raw rows: the matching row with the most selecting keys."""

    def matches(r):
        return (
            r.get("sex", p.sex) == p.sex
            and r.get("pregnant", p.pregnant) == p.pregnant
            and r.get("trimester", p.trimester) == p.trimester
            and ("age_min" not in r or (p.age is not None and p.age >= r["age_min"]))
            and ("age_max" not in r or (p.age is not None and p.age <= r["age_max"]))
        )

    rows = [r for r in ROWS if r["item"] == test and r["bound"] == bound and matches(r)]
    if not rows:
        return None
    return max(rows, key=lambda r: sum(k in r for k in SELECTORS))


def canonical(row: dict) -> float:
    return to_canonical(lab_tests()[row["item"]], row["value"], row["unit"])


def test_every_row_loads_with_known_test_bound_action_unit_and_messages():
    loaded = [limit for rows in limits().values() for limit in rows]
    assert len(loaded) == len(ROWS) >= 60
    assert {limit.action for limit in loaded} <= set(ACTIONS)
    assert all(limit.confidence in "CSUX" for limit in loaded)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"item": "cortisol"}, "unknown lab test"),
        ({"bound": "above"}, "bound"),
        ({"action": "phone_a_friend"}, "action"),
        ({"unit": "mg"}, "unknown unit"),
        ({"meaning": "no_such_text"}, "no message"),
        ({"trimester": 2}, "trimester"),  # a trimester without pregnant = true
        ({"sex": "other"}, "sex"),
    ],
)
def test_a_bad_row_is_rejected_naming_the_key(change, message):
    row = dict(next(r for r in ROWS if r["id"] == "prolactin_male_upper"))
    with pytest.raises(ReferenceDataError, match=message):
        _limit({**row, **change})


def test_one_lower_and_one_upper_limit_per_patient_and_lower_below_upper():
    """No two rows of the same specificity select the same patient (the data would be ambiguous)."""
    for test, rows in limits().items():
        for p in patients():
            chosen = {}
            for bound in ("lower", "upper"):
                matching = [r for r in rows if r.bound == bound and r.applies(p)]
                if matching:
                    best = max(r.specificity() for r in matching)
                    tied = [r.id for r in matching if r.specificity() == best]
                    assert len(tied) == 1, (test, p, tied)
                    chosen[bound] = lab_limits.select(test, bound, p)
            if len(chosen) == 2:
                assert chosen["lower"].value < chosen["upper"].value, (test, p)


def test_tumour_and_urgent_cut_offs_lie_above_the_upper_limits():
    for rows in limits().values():
        for cut in (r for r in rows if r.bound == "cutoff"):
            for upper in (r for r in rows if r.bound == "upper"):
                if upper.sex in (None, cut.sex) or cut.sex is None:
                    assert cut.value > upper.value, (cut.id, upper.id)


def test_the_test_confidence_is_the_weakest_of_its_limits():
    for test_id, rows in limits().items():
        if rows:
            assert lab_tests()[test_id]["threshold_confidence"] == lab_limits.weakest_row(*rows).confidence


def test_every_meaning_says_what_it_was_read_against():
    """Unconfirmed (U) and conflicting (X) defaults must say "clinic-editable" wherever they are shown: every
    meaning a limit or a test names carries the {basis} that says it (except 'no interval')."""
    used = {r["meaning"] for r in ROWS}
    for test in lab_tests().values():
        used |= {test["meaning_low"], test["meaning_normal"], test["meaning_high"]}
    for key in used:
        row = catalogue()[f"lab.{key}"]
        assert "basis" in placeholders(row["en"]), key
        assert placeholders(row["en"]) <= {"test", "value", "unit", "limit", "limit_text", "basis"}, key


@pytest.mark.parametrize("lang", LANGS)
def test_every_population_and_reason_renders(lang):
    for rows in limits().values():
        for limit in rows:
            words = population_words(limit)
            assert render(words["id"], words["params"], lang).strip()
            params = {
                "test": limit.test,
                "value": limit.value + 1,
                "unit": "u",
                "limit": limit.value,
                "limit_text": limit.text("u"),
                "basis": lab_limits.basis(limit),
            }
            text = render(f"lab.{limit.reason_id}", params, lang)
            editable = {"en": "clinic-editable", "tr": "klinik tarafından değiştirilebilir"}[lang]
            if limit.reason_id in ("reason_high", "reason_low"):
                assert (editable in text) is (limit.confidence in ("U", "X")), limit.id


TESTS_WITH_LIMITS = sorted(t for t, rows in limits().items() if rows)


@st.composite
def patient_st(draw):
    sex = draw(st.sampled_from(["female", "male", "unknown"]))
    age = draw(st.one_of(st.none(), st.integers(0, 110)))
    pregnant = sex == "female" and draw(st.booleans())
    trimester = draw(st.sampled_from([None, 1, 2, 3])) if pregnant else None
    return Patient(sex, age, pregnant, trimester)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    test=st.sampled_from(TESTS_WITH_LIMITS),
    patient=patient_st(),
    excess=st.floats(min_value=0.001, max_value=10.0),
)
def test_beyond_the_documented_limit_is_never_normal(test, patient, excess):
    """For any analyte and any population: a value above its documented upper limit is "high", below its
    lower limit "low" (never "normal"); past an urgent cut-off it is "high" and urgent when the row says so."""
    upper = documented(test, "upper", patient)
    if upper is not None:
        above = canonical(upper) * (1 + excess) + 0.001
        reading = read(test, above, patient)
        assert reading.flag == "high", (upper["id"], above)
    lower = documented(test, "lower", patient)
    if lower is not None:
        below = canonical(lower) / (1 + excess) - 0.0001
        if below >= 0:
            assert read(test, below, patient).flag == "low", (lower["id"], below)
    for cut in (r for r in ROWS if r["item"] == test and r["bound"] == "cutoff"):
        if cut.get("sex", patient.sex) == patient.sex:
            reading = read(test, canonical(cut) * (1 + excess) + 0.001, patient)
            assert reading.flag == "high" and reading.urgent is cut.get("urgent", False), cut["id"]


def expected_flag(test: str, patient: Patient, value: float) -> str | None:
    """The flag the raw rows give, cut-offs first."""
    value = round(value, 4)
    for cut in (r for r in ROWS if r["item"] == test and r["bound"] == "cutoff"):
        if cut.get("sex", patient.sex) == patient.sex and value > round(canonical(cut), 4):
            return "high"
    upper, lower = documented(test, "upper", patient), documented(test, "lower", patient)
    if upper is None and lower is None:
        return None
    if lower is not None and value < round(canonical(lower), 4):
        return "low"
    if upper is not None:
        limit = round(canonical(upper), 4)
        if value > limit or (upper.get("inclusive") and value == limit):
            return "high"
    return "normal"


def test_every_reading_gives_the_flag_its_documented_limits_give():
    """Neither laxer nor stricter than the data: for every test, every population (sex, each age band's edges
    or unknown age, pregnancy and trimester) and values on and around each limit, the flag is the one the raw
    rows give."""
    checked = 0
    for test in lab_tests():
        near = {0.0, 5000.0}
        for r in (r for r in ROWS if r["item"] == test):
            near |= {canonical(r) * f for f in (0.999, 1.0, 1.001)}
        for patient in patients():
            for value in near:
                reading = read(test, value, patient)
                assert reading.flag == expected_flag(test, patient, value), (test, patient, value)
                if reading.flag == "normal":
                    assert reading.urgent is False and reading.refer is None and reading.action is None
                checked += 1
    assert checked > 20_000
