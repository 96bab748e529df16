"""Every reference data file loads and passes its schema; broken files are rejected."""

import pytest

from dermatox.clinical import reference
from dermatox.clinical.observations import observation_types
from dermatox.clinical.reference import SCHEMAS, ReferenceDataError, _check


@pytest.mark.parametrize("file_name", sorted(SCHEMAS))
def test_every_data_file_loads(file_name):
    rows = reference.load(file_name)
    assert rows, f"{file_name} is empty"
    key = (SCHEMAS[file_name][2:] or ("confidence",))[0]
    if key != "no-confidence":
        assert all(row[key] in reference.CONFIDENCE for row in rows)


def test_every_data_file_on_disk_has_a_schema():
    on_disk = {p.name for p in reference.DATA_DIR.glob("*.toml")}
    assert on_disk == set(SCHEMAS)


def test_schema_rejects_unknown_key_missing_key_and_bad_confidence():
    specs = SCHEMAS["allergens.toml"][1]
    good = {"id": "x", "display": "X", "display_tr": "X", "source": "s", "confidence": "C"}
    with pytest.raises(ReferenceDataError, match="unknown key"):
        _check("f", [{**good, "dose": 1}], specs)
    with pytest.raises(ReferenceDataError, match="'source' is required"):
        _check("f", [{k: v for k, v in good.items() if k != "source"}], specs)
    with pytest.raises(ReferenceDataError, match="confidence"):
        _check("f", [{**good, "confidence": "maybe"}], specs)
    with pytest.raises(ReferenceDataError, match="duplicate"):
        _check("f", [good, good], specs)


def test_codes_match_the_reference():
    """clinical.md §9: ICD-10 and SNOMED CT codes for the diagnoses this clinic uses."""
    conditions = reference.by_id("conditions.toml")
    assert conditions["androgenetic_alopecia"]["icd10"] == "L64.9"
    assert conditions["androgenetic_alopecia"]["snomed"] == "87872006"
    assert conditions["alopecia_areata"]["snomed"] == "68225006"
    assert conditions["acne_vulgaris"]["icd10"] == "L70.0"
    assert conditions["acne_vulgaris"]["snomed"] == "88616000"
    assert conditions["telogen_effluvium"]["icd10"] == "L65.0"
    assert "snomed" not in conditions["telogen_effluvium"]  # not confirmed: no guess
    # §9 marks acne scars and seborrhoea codes as unconfirmed: the data must say so.
    assert conditions["acne_scars"]["confidence"] == "U"
    assert conditions["seborrhoea"]["confidence"] == "U"


def test_scales_match_the_reference():
    types = observation_types()
    assert types["gags"].max == 44  # §5.1: global score maximum 44
    assert types["iga"].min == 0 and types["iga"].max == 4  # §5.2
    assert types["norwood"].codes == (
        "I",
        "II",
        "IIa",
        "III",
        "IIIa",
        "III-vertex",
        "IV",
        "IVa",
        "V",
        "Va",
        "VI",
        "VII",
    )  # §1.2
    assert types["ludwig"].codes == ("I", "II", "III")  # §1.2
    assert types["fitzpatrick"].codes == ("I", "II", "III", "IV", "V", "VI")  # §5.5
    assert (types["goodman_baron"].min, types["goodman_baron"].max) == (1, 4)  # §5.6
    assert types["sinclair"].confidence == "U"  # §1.2: per-grade wording not confirmed


def test_regulatory_status_per_indication_follows_the_reference():
    """clinical.md §12.8b (and §12.8c for scalp BoNT): approved vs off-label per use, with a note in both
    languages, a source and a confidence."""
    treatments = reference.by_id("treatments.toml")
    for t in treatments.values():
        assert t["regulatory"] in reference.REGULATORY, t["id"]
        assert t["regulatory_confidence"] in reference.CONFIDENCE, t["id"]
        assert t["regulatory_note"] and t["regulatory_note_tr"] != t["regulatory_note"], t["id"]
        assert t["regulatory_source"], t["id"]
    status = {t: row["regulatory"] for t, row in treatments.items()}
    assert status["minoxidil_topical"] == status["finasteride"] == "approved"  # FDA/OTC, C
    assert status["hormonal_therapy"] == "off_label"  # FPHL hormonal therapy (U)
    assert treatments["hormonal_therapy"]["regulatory_confidence"] == "U"
    assert status["oral_supplements"] == "not_approved"  # not approved drugs for hair
    assert status["botulinum_scalp"] == "investigational"  # §12.8c: the placebo-controlled trial is negative
    assert "19-63" in treatments["botulinum_scalp"]["regulatory_note"]
    assert "18-65" not in treatments["botulinum_scalp"]["regulatory_note"]
    assert status["prp"] == "off_label" and status["microneedling_scalp"] == "device"
    # Spironolactone for acne is off-label; only specific COCs are approved for acne (S).
    assert status["hormonal_therapy_acne"] == "approved_in_part"
    assert "spironolactone for acne is off-label" in treatments["hormonal_therapy_acne"]["regulatory_note"]


def test_every_map_region_has_an_anatomical_name_in_both_languages():
    """Issue 11 §3: region names print as names in both languages, never as ids."""
    regions = reference.by_id("map_regions.toml")
    for rid, row in regions.items():
        assert row["display"] and row["display_tr"], rid
        names = row["display"] + row["display_tr"]
        assert "_" not in names and ":" not in names and row["display"][0].isupper(), rid
    assert regions["scalp:frontalis"]["display_tr"] == "Frontal kas"
    assert regions["face:procerus"]["display_tr"] == "Proserus kası"
    specs = SCHEMAS["map_regions.toml"][1]
    assert specs["display"].required and specs["display_tr"].required


def test_every_evidence_id_any_data_file_cites_is_in_the_register():
    """Each `evidence` list and `threshold_source` of every data file resolves in evidence.toml."""
    register = reference.by_id("evidence.toml")
    cited = set()
    for file_name in SCHEMAS:
        for row in reference.load(file_name):
            cited.update(row.get("evidence", ()) if isinstance(row.get("evidence"), list) else ())
            if "threshold_source" in row:
                cited.add(row["threshold_source"])
    assert cited and cited <= set(register), sorted(cited - set(register))


def test_new_register_entries_of_issue_11():
    """clinical.md §12.8c Zhou 2020 (no placebo; ages not retrieved: U) and §12.4 the Botox label's
    anticholinergic and muscle-relaxant interactions (warn)."""
    register = reference.by_id("evidence.toml")
    zhou = register["zhou_2020"]
    assert (zhou["year"], zhou["design"], zhou["n"]) == (2020, "rct", 63)
    assert "no placebo" in zhou["summary"] and "32802833" in zhou["url"]
    assert "zhou_2020" in reference.by_id("treatments.toml")["botulinum_scalp"]["evidence"]
    bont = register["bont_anticholinergic_relaxant"]
    assert bont["where"] == "§12.4" and bont["design"] == "label" and bont["confidence"] == "C"
    assert "anticholinergic" in bont["summary"] and "muscle relaxant" in bont["summary"]
