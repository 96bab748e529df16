"""Injection-map regions by anatomical name (issue 11 §3: never an id on a screen or on paper)."""

from dermatox.clinical.regions import point_area, region_id, region_name


def test_a_point_region_is_named_from_its_protocols_map_area():
    assert point_area("hair_scalp_im") == "scalp" and point_area("glabellar_lines") == "face"
    assert region_id("temporalis_left", "scalp") == "scalp:temporalis_left"
    assert region_name("temporalis_left", "scalp") == "Temporalis, left"
    assert region_name("temporalis_left", "scalp", "tr") == "Temporal kas, sol"
    assert region_name("face:procerus", lang="tr") == "Proserus kası"


def test_a_region_without_its_area_still_has_one_name_when_the_maps_agree():
    # frontalis is on the scalp and the face maps, with the same anatomical name on both.
    assert region_id("frontalis") is None
    assert region_name("frontalis", lang="tr") == "Frontal kas"


def test_free_text_that_is_no_map_region_is_shown_as_written():
    """A CDS order's site ("left brow") is the clinician's own words."""
    assert region_id("left brow", "face") is None
    assert region_name("left brow", "face", "tr") == "left brow"
