"""Aftercare instructions: every protocol gets the label's urgent warning and a follow-up; both languages;
conventions are worded as conventions; a broken file is rejected with the item and field named."""

import json

import pytest

from dermatox.clinical import aftercare as ac
from dermatox.clinical.aftercare import (
    AFTERCARE_FILE,
    KINDS,
    aftercare_disclaimer,
    aftercare_for,
    load_aftercare,
    validate,
)
from dermatox.clinical.reference import ReferenceDataError, by_id

PROTOCOLS = sorted(by_id("toxin_protocols.toml"))
# The test's own list (independent of the loader's): phrases that mark advice as convention or unmeasured.
HEDGES_EN = ("many clinics", "little evidence", "clinic practice", "not been studied", "is not known")
TURKISH_LETTERS = set("çğıöşüÇĞİÖŞÜ")


def rows():
    return load_aftercare().items


def test_protocol_list_is_the_one_the_brief_names():
    names = {"hair_scalp_im", "glabellar_lines", "forehead_lines", "lateral_canthal_lines"}
    names |= {"axillary_hyperhidrosis", "sebum_forehead_id", "sebum_cheeks_id"}
    assert set(PROTOCOLS) == names


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_every_protocol_has_the_distant_spread_warning_first(protocol):
    # clinical.md §8.3 "Boxed warning": distant spread of toxin effect applies to all BoNT products
    # (https://api.fda.gov/drug/label.json?search=openfda.generic_name%3A%22Onabotulinumtoxina%22).
    items = aftercare_for(protocol, "en")
    assert items[0].kind == "urgent"
    warning = next(i for i in items if i.id == "urgent_distant_spread")
    assert warning.kind == "urgent" and warning.confidence == "C"
    assert any("api.fda.gov/drug/label.json" in url for url in warning.sources)  # label text
    for symptom in ("swallowing", "speaking", "breathing", "weakness", "vision", "eyelids", "bladder"):
        assert symptom in warning.text, symptom
    assert "hours or weeks" in warning.text  # boxed warning: "hours to weeks after injection"


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_every_protocol_has_a_review_item(protocol):
    # toxin_protocols.toml review_weeks / clinical.md §8.3 retreatment limits: every patient leaves with a follow-up.
    assert any(i.kind == "review" for i in aftercare_for(protocol, "en"))


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_items_print_in_kind_order(protocol):
    # Brief: urgent first, then expect, do, avoid, review.
    ranks = [KINDS.index(i.kind) for i in aftercare_for(protocol, "en")]
    assert ranks == sorted(ranks)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_turkish_text_for_every_item(protocol):
    english = aftercare_for(protocol, "en")
    turkish = aftercare_for(protocol, "tr")
    assert [i.id for i in turkish] == [i.id for i in english]
    for en, tr in zip(english, turkish, strict=True):
        assert tr.text.strip() and tr.text != en.text, tr.id
        assert set(tr.text) & TURKISH_LETTERS, f"{tr.id}: Turkish text without Turkish letters"
    assert aftercare_for(protocol, "tr-TR") == turkish


def test_unknown_language_falls_back_to_english_and_unknown_protocol_is_refused():
    assert aftercare_for("glabellar_lines", "de") == aftercare_for("glabellar_lines", "en")
    with pytest.raises(ReferenceDataError, match="unknown protocol 'botox_everywhere'"):
        aftercare_for("botox_everywhere", "en")


def test_disclaimer_in_both_languages():
    assert "do not replace your clinician" in aftercare_disclaimer("en")
    assert "yerini tutmaz" in aftercare_disclaimer("tr")
    assert aftercare_disclaimer("fr") == aftercare_disclaimer("en")


def test_unverified_items_are_not_worded_as_fact():
    # clinical.md header: a U value "is shown as unconfirmed in the product" - here, in the sentence itself.
    unverified = [row for row in rows() if row["confidence"] == "U"]
    assert unverified
    for row in unverified:
        assert any(h in row["text"].lower() for h in HEDGES_EN), row["id"]


def test_posture_and_exercise_rules_are_marked_as_convention():
    # Santorelli 2025 (https://www.mdpi.com/2072-6651/17/8/372) and J Aesthet Nurs 2018 review: little or no
    # evidence for staying upright or avoiding exercise after injection.
    by = {row["id"]: row for row in rows()}
    for item_id in ("avoid_lying_down", "avoid_exercise_heat_alcohol", "avoid_rubbing"):
        assert by[item_id]["confidence"] == "U"
        assert "little evidence" in by[item_id]["text"]
    assert "mdpi.com/2072-6651/17/8/372" in by["avoid_lying_down"]["source"]


def test_confirmed_and_secondary_items_cite_urls_and_nothing_is_invented():
    # Brief: never invent a citation; an item without a source must be U.
    for row in rows():
        urls = [u for u in row["source"].split(" ; ") if u]
        assert all(u.startswith(("https://", "http://")) for u in urls), row["id"]
        if row["confidence"] in ("C", "S"):
            assert urls, row["id"]
        if not urls:
            assert row["confidence"] == "U", row["id"]


def test_label_figures_match_the_reference():
    by = {row["id"]: row for row in rows()}
    # clinical.md §8.3 common AEs (Botox Cosmetic): glabellar eyelid ptosis 3%; forehead headache 9%, brow ptosis 2%;
    # lateral canthal eyelid oedema 1%.
    assert "3 in 100" in by["expect_glabellar_eyelid"]["text"]
    assert "9 in 100" in by["expect_forehead_effects"]["text"]
    assert "2 in 100" in by["expect_forehead_effects"]["text"]
    assert "1 in 100" in by["expect_lateral_canthal_eyelid"]["text"]
    # clinical.md §6.1 "Technique parameters": onset wk 1-2, peak ~wk 4, gone by 12-16 wk.
    sebum = by["expect_sebum_timeline"]["text"]
    assert "one to two weeks" in sebum and "four weeks" in sebum and "three to four months" in sebum
    # clinical.md §3.1 bottom line: uncontrolled studies positive, controlled trials negative -> say both.
    hair = by["expect_hair_evidence"]
    assert hair["confidence"] == "C" and "controlled trials found no benefit" in hair["text"]
    # clinical.md §8.3: cosmetic dosing more often than every 3 months has not been evaluated.
    assert "every three months has not been evaluated" in by["review_face_lines"]["text"]


def test_review_weeks_in_the_text_match_the_protocols():
    # toxin_protocols.toml review_weeks are the source of truth for the follow-up items.
    protocols = by_id("toxin_protocols.toml")
    assert protocols["hair_scalp_im"]["review_weeks"] == [12, 24]
    assert "12 and 24 weeks" in {r["id"]: r for r in rows()}["review_hair"]["text"]
    assert protocols["sebum_forehead_id"]["review_weeks"] == [2, 4, 12, 24]
    assert "2, 4, 12 and 24 weeks" in {r["id"]: r for r in rows()}["review_sebum"]["text"]
    assert protocols["axillary_hyperhidrosis"]["review_weeks"] == [2, 16]
    assert "16 weeks" in {r["id"]: r for r in rows()}["review_axilla"]["text"]


# ------------------------------------------------------------------------------------------ broken files

GOOD = {
    "id": "t_urgent",
    "protocols": ["*"],
    "kind": "urgent",
    "text": "Get help straight away.",
    "text_tr": "Hemen yardım alın.",
    "confidence": "C",
    "source": "https://example.org/label",
}


def write_toml(path, items, top=None):
    top = {"version": 1, "disclaimer": "Ask us.", "disclaimer_tr": "Bize sorun.", **(top or {})}
    lines = [f"{key} = {json.dumps(value)}" for key, value in top.items()]
    for item in items:
        lines.append("\n[[item]]")
        lines += [f"{key} = {json.dumps(value)}" for key, value in item.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_good_temp_file_loads(tmp_path):
    path = write_toml(tmp_path / "aftercare.toml", [GOOD])
    (item,) = aftercare_for("forehead_lines", "tr", path=path)
    assert (item.id, item.text, item.sources) == (
        "t_urgent",
        "Hemen yardım alın.",
        ("https://example.org/label",),
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        # unknown protocol id, checked against toxin_protocols.toml
        (
            {"protocols": ["scalp_magic"]},
            r"item 't_urgent'\.protocols: unknown protocol id\(s\) \['scalp_magic'\]",
        ),
        ({"kind": "optional"}, r"item 't_urgent'\.kind: 'optional' is not one of"),
        ({"text_tr": ""}, r"item 't_urgent'\.text_tr: Turkish text is required"),
        ({"text_tr": GOOD["text"]}, r"item 't_urgent'\.text_tr: is the English text"),
        # clinical.md uses X for conflicting sources; printed aftercare allows only C, S, U
        ({"confidence": "X"}, r"item 't_urgent'\.confidence: 'X' is not one of C, S, U"),
        ({"source": ""}, r"item 't_urgent'\.source: confidence C needs a source URL"),
        ({"source": "Allergan leaflet"}, r"item 't_urgent'\.source: each source must be a URL"),
        ({"confidence": "U", "source": ""}, r"item 't_urgent'\.text: a U item must say"),
        ({"dose": 5}, r"item 't_urgent': unknown field\(s\) \['dose'\]"),
    ],
)
def test_broken_items_are_rejected_naming_item_and_field(tmp_path, change, message):
    path = write_toml(tmp_path / "aftercare.toml", [{**GOOD, **change}])
    with pytest.raises(ReferenceDataError, match=message):
        aftercare_for("glabellar_lines", "en", path=path)


def test_missing_turkish_text_is_named(tmp_path):
    broken = {k: v for k, v in GOOD.items() if k != "text_tr"}
    with pytest.raises(ReferenceDataError, match=r"item 't_urgent'\.text_tr: Turkish text is required"):
        validate(
            {"version": 1, "disclaimer": "a", "disclaimer_tr": "b", "item": [broken]}, protocol_ids=PROTOCOLS
        )


def test_u_item_must_hedge_in_turkish_too():
    hedged_en_only = {**GOOD, "confidence": "U", "source": "", "text": "Many clinics advise rest."}
    with pytest.raises(ReferenceDataError, match=r"item 't_urgent'\.text_tr: a U item must say"):
        validate(
            {"version": 1, "disclaimer": "a", "disclaimer_tr": "b", "item": [hedged_en_only]},
            protocol_ids=PROTOCOLS,
        )


def test_out_of_order_kinds_and_duplicates_are_rejected():
    review = {**GOOD, "id": "t_review", "kind": "review", "protocols": ["glabellar_lines"]}
    data = {"version": 1, "disclaimer": "a", "disclaimer_tr": "b", "item": [review, GOOD]}
    with pytest.raises(ReferenceDataError, match=r"item 't_urgent'\.kind: 'urgent' comes after 'review'"):
        validate(data, protocol_ids=PROTOCOLS)
    data["item"] = [GOOD, GOOD]
    with pytest.raises(ReferenceDataError, match=r"item 't_urgent'\.id: duplicate id"):
        validate(data, protocol_ids=PROTOCOLS)


def test_missing_disclaimer_is_rejected(tmp_path):
    path = write_toml(tmp_path / "aftercare.toml", [GOOD], top={"disclaimer_tr": ""})
    with pytest.raises(ReferenceDataError, match=r"top-level\.disclaimer_tr"):
        aftercare_for("glabellar_lines", "en", path=path)


def test_shipped_file_is_the_default():
    assert ac.AFTERCARE_FILE == AFTERCARE_FILE and AFTERCARE_FILE.name == "aftercare.toml"
    assert load_aftercare().version == 1
