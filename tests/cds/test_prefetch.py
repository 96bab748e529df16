"""The prefetch mapping alone: pure, no Django."""

import pytest

from dermatox.cds.cards import truncate
from dermatox.cds.prefetch import PrefetchError, map_prefetch
from tests.cds.helpers import (
    condition,
    days_ago,
    lab,
    observation,
    patient,
    pregnancy,
    protocol_site,
    request,
    statement,
    toxin_administration,
    toxin_statement,
)
from tests.dates import TODAY


def mapped(**kw):
    return map_prefetch(request(**kw)["prefetch"], as_of=TODAY)


def test_codes_map_to_the_case_contract():
    m = mapped(
        pt=patient("female", 40),
        conditions=[
            condition("http://snomed.info/sct", "87872006"),  # AGA (conditions.toml)
            condition("http://hl7.org/fhir/sid/icd-10", "L65.0", status="resolved"),  # not active: skipped
        ],
        observations=[
            pregnancy(False),
            observation("daily_shedding", valueInteger=120, days=20),
            observation("daily_shedding", valueInteger=90, days=2),  # the latest wins
            observation("hyperandrogenism_signs", valueBoolean=True),
            lab("2276-4", 40, "ug/L"),
        ],
        medications=[
            statement("anticoagulant"),
            statement("B01AC06", system="http://www.whocc.no/atc", status="completed"),  # past: not current
            toxin_statement("abobotulinumtoxinA", 50, days=40),
        ],
    )
    case = m.case
    assert case["patient"]["sex"] == "female" and case["patient"]["pregnant"] is False
    assert case["hair"] == {
        "diagnosis": ["androgenetic_alopecia"],  # a list: several may hold at once (§12.7)
        "daily_shedding": 90,
        "hyperandrogenism_signs": True,
    }
    assert case["labs"][0]["test"] == "ferritin" and case["labs"][0]["unit"] == "ug/L"
    assert case["history"]["medications"] == ["anticoagulant"]
    assert case["history"]["toxin_history"][0]["units"] == 50.0
    assert m.missing == []


def test_future_observations_and_unknown_codes_are_listed_not_used():
    m = mapped(
        pt=patient("male", 30), observations=[observation("daily_shedding", valueInteger=300, days=-5)]
    )
    assert "hair" not in m.case
    assert any("after today" in item for item in m.ignored)


def test_unknown_gender_gives_no_case_but_says_why():
    m = mapped(pt={**patient("male", 30), "gender": "unknown"})
    assert m.case is None and "gender" in m.missing[0]


def test_a_prefetch_without_a_patient_is_refused():
    with pytest.raises(PrefetchError, match=r"prefetch\.patient"):
        map_prefetch({"patient": {"resourceType": "Bundle", "type": "searchset"}}, as_of=TODAY)


@pytest.mark.parametrize("n", [0, 139, 140, 141, 500])
def test_truncate_keeps_summaries_within_140(n):
    text = ("word " * 200)[:n]
    out = truncate(text)
    assert len(out) <= 140
    assert out == " ".join(text.split()) if len(" ".join(text.split())) <= 140 else out.endswith("…")


def test_every_toxin_dose_with_a_date_is_in_the_history_with_its_area():
    """clinical.md §12.1b R-BoNT-4: a dose with a known date starts the interval, whatever is unknown about
    it; the site gives its area, so a second dose in the same area on the same day can be seen."""
    scalp = {"coding": [{"system": "http://snomed.info/sct", "code": "41695006"}]}
    m = mapped(
        pt=patient("male", 40),
        administrations=[
            toxin_administration(30, product="abobotulinumtoxinA"),  # no units
            toxin_administration(50, product=None, units=40, site=scalp),  # class only: product unknown
            toxin_administration(0, units=20, site=protocol_site("glabellar_lines")),
        ],
    )
    assert m.case["history"]["toxin_history"] == [
        {
            "date": days_ago(50),
            "product": "unknown",
            "indication": "reported by the EHR (MedicationAdministration)",
            "units": 40.0,
            "area": "scalp",
        },
        {
            "date": days_ago(30),
            "product": "abobotulinumtoxinA",
            "indication": "reported by the EHR (MedicationAdministration)",
        },
        {
            "date": days_ago(0),
            "product": "onabotulinumtoxinA",
            "indication": "glabellar_lines",
            "units": 20.0,
            "area": "face",
        },
    ]
    assert any("units (U) missing" in note and "12-week" in note for note in m.missing)
