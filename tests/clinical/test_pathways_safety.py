"""Toxin safety (both botulinum treatments): clinical.md §8.3 and §8.1; precedence of statuses."""

import pytest

from dermatox.clinical.pathways import assess
from tests.clinical.pathway_helpers import case, rec, status

FAILED = [{"treatment": "topical_first_line", "weeks": 12, "outcome": "inadequate"}]


def both(**extra):
    """A man who is a candidate for both toxin treatments (minoxidil tried first: scalp toxin is an adjunct
    at most, clinical.md §12.8c)."""
    return case(
        hair={
            "norwood": "IV",
            "prior_treatments": [{"treatment": "minoxidil_topical", "weeks": 24, "outcome": "partial"}],
        },
        skin={"acne": {"gags": 10}, "seborrhea": "marked", "prior_treatments": FAILED},
        **extra,
    )


def test_baseline_candidate_gets_both_options():
    result = assess(both())
    assert status(result, "botulinum_scalp") == "option"
    assert status(result, "botulinum_intradermal") == "option"


@pytest.mark.parametrize(
    "history",
    [
        {"conditions": ["myasthenia_gravis"]},  # §8.3 neuromuscular disorders
        {"conditions": ["lambert_eaton"]},
        {"conditions": ["als"]},
        {"allergies": ["botulinum_toxin"]},  # §8.3 label: hypersensitivity
    ],
)
def test_contraindications_for_both_toxin_treatments(history):
    result = assess(both(history=history))
    assert status(result, "botulinum_scalp") == "contraindicated"
    assert status(result, "botulinum_intradermal") == "contraindicated"
    assert result["safety"]["contraindications"]


def test_pregnancy_and_breastfeeding_contraindicate_toxin():
    """§8.3: no adequate human data; aesthetic use deferred."""
    for flag in ("pregnant", "breastfeeding"):
        result = assess(
            case(
                sex="female",
                skin={"acne": {"gags": 10}, "seborrhea": "marked", "prior_treatments": FAILED},
                **{flag: True},
            )
        )
        assert status(result, "botulinum_intradermal") == "contraindicated"


def test_infection_counts_only_at_the_injection_area():
    """§8.3 label: infection at the injection site."""
    scalp = assess(both(history={"conditions": ["active_infection_scalp"]}))
    assert status(scalp, "botulinum_scalp") == "contraindicated"
    assert status(scalp, "botulinum_intradermal") == "option"
    face = assess(both(history={"conditions": ["active_infection_face"]}))
    assert status(face, "botulinum_scalp") == "option"
    assert status(face, "botulinum_intradermal") == "contraindicated"


@pytest.mark.parametrize(
    ("history", "caution"),
    [
        ({"medications": ["aminoglycoside"]}, "aminoglycoside"),  # §8.3 interactions
        ({"medications": ["anticoagulant"]}, "anticoagulant"),  # §8.3: precaution (X)
        ({"medications": ["antiplatelet"]}, "antiplatelet"),
        ({"allergies": ["cow_milk_protein"]}, "allergy_cow_milk_protein"),  # §8.1 abobotulinumtoxinA
        ({"allergies": ["human_albumin"]}, "allergy_human_albumin"),  # §12.1b R-BoNT-3: daxi is albumin-free
    ],
)
def test_cautions_do_not_block(history, caution):
    result = assess(both(history=history))
    assert caution in {c["id"] for c in result["safety"]["cautions"]}
    assert status(result, "botulinum_scalp") == "option"
    assert any(caution.split("_")[-1].lower() in r.lower() for r in rec(result, "botulinum_scalp")["reasons"])


def dose(date):
    return {
        "toxin_history": [
            {"date": date, "product": "onabotulinumtoxinA", "units": 20, "indication": "glabellar_lines"}
        ]
    }


def test_last_dose_less_than_12_weeks_ago_defers_both():
    """§8.3: dosing more often than every 3 months not evaluated; no sooner than every 12 weeks."""
    result = assess(both(history=dose("2026-10-01")))
    for treatment in ("botulinum_scalp", "botulinum_intradermal"):
        entry = rec(result, treatment)
        assert entry["status"] == "defer" and entry["not_before"] == "2026-12-24"  # + 84 days
    assert result["safety"]["toxin_not_before"] == "2026-12-24"


def test_twelve_weeks_is_enough():
    result = assess(both(history=dose("2026-08-29")))  # exactly 84 days before as_of
    assert status(result, "botulinum_scalp") == "option"
    assert result["safety"]["toxin_not_before"] is None


def test_precedence_contraindicated_over_defer_over_not_yet():
    history = {**dose("2026-10-01"), "conditions": ["myasthenia_gravis"]}
    assert status(assess(both(history=history)), "botulinum_scalp") == "contraindicated"
    not_yet = case(skin={"acne": {"gags": 20}, "seborrhea": "marked"}, history=dose("2026-10-01"))
    assert status(assess(not_yet), "botulinum_intradermal") == "defer"


def test_not_indicated_stays_not_indicated():
    """Issue: a treatment that is not_indicated stays so, whatever else applies."""
    result = assess(case(sex="female", pregnant=True, hair={"ludwig": "II"}, history=dose("2026-10-01")))
    assert status(result, "botulinum_scalp") == "not_indicated"


def test_scalp_toxin_follow_up_at_12_and_24_weeks():
    result = assess(both())
    weeks = [f["review_after_weeks"] for f in result["follow_up"] if f["treatment"] == "botulinum_scalp"]
    assert weeks == [[12, 12], [24, 24]]


def test_scalp_toxin_reasons_use_the_issue_words():
    text = " ".join(rec(assess(both()), "botulinum_scalp")["reasons"])
    assert (
        "off-label" in text
        and "uncontrolled studies were positive" in text
        and "placebo-controlled ones were negative" in text
    )
