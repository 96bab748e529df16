"""Lay a protocol's points out on the charting maps: around each region's anchor, on a small grid."""

from __future__ import annotations

import math

from dermatox.clinical.reference import by_id

SPACING = {"scalp": 5.0, "face": 5.5, "axilla": 4.0}  # percent of the view between neighbouring points
VIEWS_BY_AREA = {
    "scalp": ("scalp_top", "scalp_back", "scalp_left", "scalp_right"),
    "face": ("face_front",),
    "axilla": ("axillae",),
}
VIEWS = tuple(view for views in VIEWS_BY_AREA.values() for view in views)


def layout(area: str, region: str, count: int) -> list[tuple[str, float, float]]:
    """(view, x, y) for `count` points in `region` of `area`."""
    anchor = by_id("map_regions.toml").get(f"{area}:{region}")
    if anchor is None:
        anchor = {"view": VIEWS_BY_AREA[area][0], "x": 50.0, "y": 50.0}
    columns = math.ceil(math.sqrt(count))
    rows = math.ceil(count / columns)
    out = []
    for i in range(count):
        col, row = i % columns, i // columns
        x = anchor["x"] + (col - (columns - 1) / 2) * SPACING[area]
        y = anchor["y"] + (row - (rows - 1) / 2) * SPACING[area]
        out.append((anchor["view"], round(min(max(x, 0), 100), 2), round(min(max(y, 0), 100), 2)))
    return out
