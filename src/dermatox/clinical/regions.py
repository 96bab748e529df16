"""Injection-map regions by name. An injection point keeps its region without the map area
("frontalis" on a scalp protocol); the area is its protocol's. Users read the anatomical name
(map_regions.toml display / display_tr), never the id."""

from __future__ import annotations

from dermatox.clinical.messages import DEFAULT_LANG, display
from dermatox.clinical.reference import by_id


def region_id(region: str, area: str | None = None) -> str | None:
    """The map_regions.toml id of a region ("scalp:frontalis"), or None when it is no map region (a CDS
    order's free-text site)."""
    regions = by_id("map_regions.toml")
    key = region if ":" in region or area is None else f"{area}:{region}"
    return key if key in regions else None


def region_name(region: str, area: str | None = None, lang: str = DEFAULT_LANG) -> str:
    """The anatomical name in the language; free text that is no map region comes back as it was written."""
    key = region_id(region, area)
    if key is not None:
        return display("region", key, lang)
    # Without its area, a region shared by several maps (frontalis) still has one anatomical name.
    names = {
        display("region", rid, lang) for rid in by_id("map_regions.toml") if rid.split(":", 1)[-1] == region
    }
    return names.pop() if len(names) == 1 else region


def point_area(protocol: str) -> str | None:
    """The map area of a protocol's points (scalp, face, axilla)."""
    return by_id("toxin_protocols.toml").get(protocol, {}).get("area")
