"""The one home of the injection-point rules — where a point may be (percent of a map view), which
regions each view has, which depths, how many units — for the service that saves points, the map's JSON
endpoint and the REST schemas alike. Pure: problems come back as {field: [message]}."""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation

from dermatox.clinical.reference import by_id
from dermatox.clinical.toxin.layout import VIEWS_BY_AREA
from dermatox.clinical.toxin.protocols import DEPTHS

PERCENT_MIN, PERCENT_MAX = 0, 100  # a point's x and y, in percent of its view (survive zoom and screen size)
UNITS_MAX = 500  # units at one point: above any label dose for one site; the plan check judges the total
PERCENT_PLACES = Decimal("0.01")

PERCENT_RULE = f"must be a number from {PERCENT_MIN} to {PERCENT_MAX} (percent of the view)"
UNITS_RULE = f"must be a number greater than 0 (at most {UNITS_MAX})"


def views_of(area: str) -> tuple[str, ...]:
    return VIEWS_BY_AREA[area]


def regions_of(area: str, view: str) -> list[str]:
    return [
        rid.split(":", 1)[1]
        for rid, r in by_id("map_regions.toml").items()
        if rid.startswith(f"{area}:") and r["view"] == view
    ]


def nearest_region(view: str, x: float, y: float) -> str:
    """The region whose anchor is nearest the position (a tap on the map takes it)."""
    anchors = [(k.split(":", 1)[1], r) for k, r in by_id("map_regions.toml").items() if r["view"] == view]
    if not anchors:
        return "other"
    return min(anchors, key=lambda a: (a[1]["x"] - x) ** 2 + (a[1]["y"] - y) ** 2)[0]


def percent(value) -> Decimal | None:
    """x or y as stored (2 decimals), or None when it is not a number within the view."""
    if isinstance(value, bool) or (isinstance(value, float) and not math.isfinite(value)):
        return None
    try:
        number = Decimal(str(value)).quantize(PERCENT_PLACES)
    except (InvalidOperation, TypeError, ValueError):
        return None
    return number if PERCENT_MIN <= number <= PERCENT_MAX else None


def units(value) -> Decimal | None:
    """Units at a point, or None when not a number above 0 and at most UNITS_MAX."""
    if isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        return None
    return number if number.is_finite() and 0 < number <= UNITS_MAX else None


def point_problems(area: str, *, view: str, region: str, depth: str, units_value) -> dict[str, list[str]]:
    """What is wrong with a point of a session on this area's maps ({} when nothing)."""
    problems: dict[str, list[str]] = {}
    views = views_of(area)
    if view not in views:
        problems["view"] = [f"must be one of this protocol's maps: {', '.join(views)}"]
    else:
        regions = regions_of(area, view)
        if region not in regions:
            problems["region"] = [f"must be a region of the {view} map: {', '.join(regions)}"]
    if depth not in DEPTHS:
        problems["depth"] = [f"must be one of {', '.join(DEPTHS)}"]
    if units(units_value) is None:
        problems["units"] = [UNITS_RULE]
    return problems
