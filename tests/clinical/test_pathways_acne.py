"""Acne, oily skin and scar cases; each cites clinical.md (and the issue's rule)."""

import pytest

from dermatox.clinical.pathways import assess
from tests.clinical.pathway_helpers import case, finding_ids, rec, status


def acne_case(sex="female", gags=None, iga=None, prior=(), seborrhea=None, scars=None, **extra):
    acne = {}
    if gags is not None:
        acne["gags"] = gags
    if iga is not None:
        acne["iga"] = iga
    acne.update(extra.pop("acne", {}))
    skin = {
        "acne": acne,
        "prior_treatments": [dict(zip(("treatment", "weeks", "outcome"), p, strict=True)) for p in prior],
    }
    if seborrhea:
        skin["seborrhea"] = seborrhea
    if scars:
        skin["scars"] = scars
    return case(sex=sex, skin=skin, **extra)


def severity_text(result):
    return next(f["text"] for f in result["findings"] if f["id"] == "acne_severity")


@pytest.mark.parametrize(
    ("gags", "band"),
    [
        (0, "clear"),
        (1, "mild"),
        (18, "mild"),
        (19, "moderate"),
        (30, "moderate"),
        (31, "severe"),
        (38, "severe"),
        (39, "very severe"),
        (44, "very severe"),
    ],
)
def test_gags_bands(gags, band):
    """§5.1 (Doshi 1997): 1-18 mild, 19-30 moderate, 31-38 severe, >= 39 very severe."""
    assert f"Acne severity: {band} (" in severity_text(assess(acne_case(gags=gags)))


def test_gags_is_computed_from_regions():
    """§5.1: factors forehead 2, cheeks 2+2, nose 1, chin 1, chest/back 3; times the worst lesion grade."""
    regions = {"forehead": 2, "right_cheek": 3, "left_cheek": 3, "nose": 1, "chin": 2, "chest_back": 1}
    result = assess(acne_case(acne={"gags_regions": regions}))
    assert "gags_computed" in finding_ids(result)
    assert "GAGS 22" in severity_text(result)  # 4 + 6 + 6 + 1 + 2 + 3


def test_gags_that_contradicts_its_regions_is_an_error():
    from dermatox.clinical.pathways import CaseError

    with pytest.raises(CaseError, match="does not match gags_regions"):
        assess(acne_case(acne={"gags": 10, "gags_regions": {"forehead": 4}}))


@pytest.mark.parametrize(
    ("iga", "band"), [(0, "clear"), (1, "mild"), (2, "mild"), (3, "moderate"), (4, "severe")]
)
def test_iga_when_no_gags(iga, band):
    """§5.2: IGA 0 clear, 1 almost clear, 2 mild, 3 moderate, 4 severe."""
    assert f"Acne severity: {band} (IGA {iga})" in severity_text(assess(acne_case(iga=iga)))


def test_nodules_or_scarring_make_acne_at_least_severe():
    assert "severe (" in severity_text(assess(acne_case(gags=10, acne={"nodules": 2})))
    assert "severe (" in severity_text(assess(acne_case(iga=2, acne={"scarring": True})))


def test_topical_first_line_whenever_acne_is_present():
    """§5.7 AAD 2024: retinoid + BPO strong, first line."""
    assert status(assess(acne_case(gags=5)), "topical_first_line") == "recommended"
    assert status(assess(acne_case(gags=0)), "topical_first_line") == "not_indicated"


@pytest.mark.parametrize(
    ("gags", "prior", "expected"),
    [
        (10, (), "not_indicated"),  # mild: topical only
        (20, (), "recommended"),  # §5.7 AAD 2024: oral doxycycline strong for moderate-severe
        (20, (("oral_antibiotic", 10, "inadequate"),), "not_indicated"),  # already failed
        (20, (("oral_antibiotic", 16, "good"),), "not_indicated"),  # §5.7: limit 3-4 months
        (20, (("oral_antibiotic", 8, "good"), ("oral_antibiotic", 8, "good")), "not_indicated"),
        (20, (("oral_antibiotic", 6, "inadequate"),), "recommended"),  # < 8 weeks is not a failure
    ],
)
def test_oral_antibiotic(gags, prior, expected):
    assert status(assess(acne_case(gags=gags, prior=prior)), "oral_antibiotic") == expected


def test_oral_antibiotic_hormonal_and_isotretinoin_contraindicated_in_pregnancy():
    result = assess(acne_case(gags=35, pregnant=True))
    assert status(result, "oral_antibiotic") == "contraindicated"
    assert status(result, "hormonal_therapy_acne") == "contraindicated"
    assert status(result, "isotretinoin") == "contraindicated"
    assert {"oral_antibiotic", "isotretinoin"} <= {
        t for c in result["safety"]["contraindications"] for t in c["treatments"]
    }


def test_isotretinoin_contraindicated_when_breastfeeding():
    assert status(assess(acne_case(gags=35, breastfeeding=True)), "isotretinoin") == "contraindicated"


def test_hormonal_therapy_for_acne():
    """§5.7 AAD 2024: combined oral contraceptives and spironolactone, conditional, in females."""
    assert status(assess(acne_case(gags=20)), "hormonal_therapy_acne") == "option"
    assert status(assess(acne_case(gags=10)), "hormonal_therapy_acne") == "not_indicated"
    signs = acne_case(gags=10)
    signs["hair"] = {"hyperandrogenism_signs": True}
    assert status(assess(signs), "hormonal_therapy_acne") == "option"
    assert status(assess(acne_case(sex="male", gags=25)), "hormonal_therapy_acne") == "not_indicated"


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"gags": 31}, "recommended"),  # §5.7: severe acne
        ({"gags": 10, "acne": {"nodules": 1}}, "recommended"),
        ({"gags": 10, "acne": {"scarring": True}}, "recommended"),  # AAD 2024: scarring
        ({"gags": 20, "prior": (("oral_antibiotic", 12, "partial"),)}, "recommended"),  # failing therapy
        ({"gags": 20}, "not_indicated"),
        ({"gags": 10}, "not_indicated"),
    ],
)
def test_isotretinoin(kwargs, expected):
    assert status(assess(acne_case(**kwargs)), "isotretinoin") == expected


def test_intradermal_toxin_needs_marked_seborrhea():
    """Seed B + §6/§11 #33: botox only for acne with uncontrollable oiliness; sebum cut-offs are not validated."""
    assert status(assess(acne_case(gags=20, seborrhea="mild")), "botulinum_intradermal") == "not_indicated"


def test_intradermal_toxin_waits_for_conventional_treatment_to_fail():
    """§5.7 operational definition of failure (>= 8 weeks inadequate/partial, or not tolerated)."""
    moderate = rec(assess(acne_case(gags=20, seborrhea="marked")), "botulinum_intradermal")
    assert moderate["status"] == "not_yet" and moderate["after"] == ["topical_first_line", "oral_antibiotic"]
    mild = rec(assess(acne_case(gags=10, seborrhea="marked")), "botulinum_intradermal")
    assert mild["after"] == ["topical_first_line"]
    half = rec(
        assess(acne_case(gags=20, seborrhea="marked", prior=[("topical_first_line", 12, "inadequate")])),
        "botulinum_intradermal",
    )
    assert half["status"] == "not_yet" and half["after"] == ["oral_antibiotic"]
    short = rec(
        assess(acne_case(gags=10, seborrhea="marked", prior=[("topical_first_line", 6, "inadequate")])),
        "botulinum_intradermal",
    )
    assert short["status"] == "not_yet"  # 6 weeks is not a failure
    intolerant = rec(
        assess(acne_case(gags=10, seborrhea="marked", prior=[("topical_first_line", 1, "not_tolerated")])),
        "botulinum_intradermal",
    )
    assert intolerant["status"] == "option"


def test_intradermal_toxin_after_failures_is_an_honest_option():
    result = assess(
        acne_case(
            gags=20,
            seborrhea="marked",
            prior=[("topical_first_line", 12, "inadequate"), ("oral_antibiotic", 12, "partial")],
        )
    )
    botox = rec(result, "botulinum_intradermal")
    assert botox["status"] == "option"
    text = " ".join(botox["reasons"]).lower()
    assert "off-label" in text and "guidelines" in text and "small studies" in text
    assert [
        f["review_after_weeks"] for f in result["follow_up"] if f["treatment"] == "botulinum_intradermal"
    ] == [[2, 4], [12, 24]]


@pytest.mark.parametrize(
    ("grade", "gags", "expected"),
    [
        (1, 10, "not_indicated"),  # §5.6 Goodman-Baron 1: colour, not contour
        (2, 0, "option"),  # §7: microneedling RCT, MFR series
        (2, 10, "not_yet"),  # §12.9 expert review: active acne, mild too, contraindicates microneedling
        (4, 0, "option"),
        (3, 20, "not_yet"),  # §7: active acne contraindicates microneedling
    ],
)
def test_scar_treatments(grade, gags, expected):
    result = assess(acne_case(gags=gags, scars={"goodman_baron": grade}))
    assert status(result, "scar_microneedling") == expected
    assert status(result, "scar_microneedling_rf") == expected


def test_scar_cautions():
    """§7: herpes simplex (antiviral prophylaxis) is a caution. §12.9: keloid tendency and current
    isotretinoin are contraindications now (they were cautions)."""
    result = assess(
        acne_case(
            gags=5,
            scars={"goodman_baron": 3},
            history={"conditions": ["keloid_tendency", "herpes_simplex"], "medications": ["isotretinoin"]},
        )
    )
    ids = {c["id"] for c in result["safety"]["cautions"]}
    assert "herpes_simplex" in ids
    assert status(result, "scar_microneedling") == "contraindicated"
    assert status(result, "scar_microneedling_rf") == "contraindicated"
    reasons = rec(result, "scar_microneedling")["reason_ids"]
    assert {"keloid_microneedling", "isotretinoin_microneedling"} <= set(reasons)


def test_scar_sessions_continue_while_sebum_is_lower():
    """Seed B (clinic practice, §7: timing unstudied): scar treatment continues in the low-sebum window."""
    result = assess(
        acne_case(
            gags=10,
            seborrhea="marked",
            scars={"goodman_baron": 3, "treatment_ongoing": True},
            prior=[("topical_first_line", 10, "inadequate")],
        )
    )
    assert status(result, "botulinum_intradermal") == "option"
    assert any(
        "scar" in f["text"].lower() for f in result["follow_up"] if f["treatment"] == "botulinum_intradermal"
    )


def test_hormonal_therapy_for_a_woman_with_hyperandrogenism_signs_even_without_acne_grading():
    """Issue rule: option for women with moderate or worse acne or hyperandrogenism signs."""
    result = assess(case(sex="female", hair={"hyperandrogenism_signs": True, "ludwig": "I"}))
    assert status(result, "hormonal_therapy_acne") == "option"
    assert status(result, "topical_first_line") == "not_indicated"


def test_antibiotic_used_to_its_limit_counts_as_tried_for_intradermal_toxin():
    result = assess(
        acne_case(
            gags=20,
            seborrhea="marked",
            prior=[("topical_first_line", 12, "inadequate"), ("oral_antibiotic", 16, "good")],
        )
    )
    assert status(result, "oral_antibiotic") == "not_indicated"
    assert status(result, "botulinum_intradermal") == "option"


def test_reasons_use_the_issue_words():
    botox = rec(
        assess(acne_case(gags=10, seborrhea="marked", prior=[("topical_first_line", 12, "inadequate")])),
        "botulinum_intradermal",
    )
    text = " ".join(botox["reasons"])
    assert (
        "off-label" in text
        and "outside the acne guidelines" in text
        and "supported only by small studies of sebum" in text
    )
    limit = rec(assess(acne_case(gags=20, prior=[("oral_antibiotic", 16, "good")])), "oral_antibiotic")
    assert "duration limit" in limit["reasons"][0]
    grade1 = rec(assess(acne_case(gags=5, scars={"goodman_baron": 1})), "scar_microneedling")
    assert "a colour, not a contour problem" in grade1["reasons"][0]
