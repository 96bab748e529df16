"""The toxin threshold rows (toxin_label_doses, toxin_limits, toxin_conversions) match clinical.md §12 and
bad rows are refused."""

import pytest

from dermatox.clinical.reference import ReferenceDataError, by_id, load
from dermatox.clinical.toxin import limits
from dermatox.clinical.toxin_safety import RETREATMENT_DAYS

FILES = ("toxin_label_doses.toml", "toxin_limits.toml", "toxin_conversions.toml")


@pytest.mark.parametrize("file_name", FILES)
def test_every_threshold_cites_its_source_and_confidence(file_name):
    for row in load(file_name):
        assert "clinical.md §" in row["source"] or row["confidence"] == "U", row["id"]
        assert row["confidence"] in {"C", "S", "U", "X"}


def test_label_doses_match_section_12_1():
    """§12.1: GL per product; ona LCL 24, axilla 50 U per side; Azzalure LCL 60 U is unconfirmed."""
    gl = {p: limits.label_dose(p, "glabellar_lines").value for p in by_id("toxin_products.toml")}
    assert gl == {
        "onabotulinumtoxinA": 20,
        "abobotulinumtoxinA": 50,
        "incobotulinumtoxinA": 20,
        "prabotulinumtoxinA": 20,
        "letibotulinumtoxinA": 20,
        "daxibotulinumtoxinA": 40,
        "relabotulinumtoxinA": 50,
    }
    assert limits.label_dose("onabotulinumtoxinA", "lateral_canthal_lines").value == 24
    assert limits.label_dose("onabotulinumtoxinA", "axillary_hyperhidrosis").value == 100
    assert limits.label_dose("abobotulinumtoxinA", "lateral_canthal_lines").unconfirmed
    assert limits.label_dose("daxibotulinumtoxinA", "forehead_lines") is None  # "—" in §12.1


def test_maxima_and_ages_match_section_12_1b():
    ona = {m.id: (m.value, m.scope, m.window_days) for m in limits.maxima("onabotulinumtoxinA")}
    assert ona == {"ona_max_90_days": (400, "window", 90), "ona_max_upper_face": (64, "session", None)}
    assert [m.value for m in limits.maxima("abobotulinumtoxinA")] == [1000]
    assert limits.maxima("prabotulinumtoxinA") == ()  # none stated beyond the 20 U label dose
    leti = [a for a in limits.ages("letibotulinumtoxinA") if a.bound == "below"]
    assert [(a.value, a.action) for a in leti] == [(75, "block")]
    assert RETREATMENT_DAYS == 84 and limits.setting("other_product_window").value == 120


def test_conversions_have_a_direction():
    """§12.2: abo U = ona U x 2.5-3.0; ona U = abo U / 2.5-3.0; daxi and rela are never converted."""
    forward = limits.conversion("onabotulinumtoxinA", "abobotulinumtoxinA")
    back = limits.conversion("abobotulinumtoxinA", "onabotulinumtoxinA")
    assert (forward.value, forward.value_max) == (2.5, 3.0)
    assert back.value == pytest.approx(1 / 3) and back.value_max == pytest.approx(1 / 2.5)
    assert limits.conversion("onabotulinumtoxinA", "daxibotulinumtoxinA").action == "block"
    assert limits.conversion("incobotulinumtoxinA", "abobotulinumtoxinA") is None  # no §12.2 row


@pytest.mark.parametrize(
    ("file_name", "change", "problem"),
    [
        ("toxin_limits.toml", {"action": "maybe"}, "action"),
        ("toxin_limits.toml", {"product": "botox"}, "unknown product"),
        ("toxin_limits.toml", {"scope": "session"}, "window_days"),
        ("toxin_conversions.toml", {"value": 4.0}, "value <= value_max"),
    ],
)
def test_bad_rows_are_refused(file_name, change, problem):
    row = {**load(file_name)[0], **change}
    with pytest.raises(ReferenceDataError, match=problem):
        limits._check(file_name, row)
