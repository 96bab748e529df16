"""The plan check's input: validate a plan (a plain mapping, as from JSON) into a typed `PlanInput`.

Every problem is `field: rule`; all of them are collected, and nothing is checked until the input is sound.
The patient and history are those of `dermatox assess` (parse_case); a stated hair diagnosis may be given
(`hair.diagnosis`) so the pathway eligibility of a scalp plan can read it.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, replace

from dermatox.clinical.pathways.case import Case, CaseError, parse_case
from dermatox.clinical.toxin.protocols import AREAS, DEPTHS
from dermatox.clinical.toxin.reconstitution import Concentration, ToxinInputError, product, reconstitute

MAX_POINTS = 300
MAX_RATIO = 100.0
ALLOWED = (
    "as_of",
    "at",
    "patient",
    "history",
    "hair",
    "product",
    "protocol",
    "points",
    "vial",
    "conversion",
    "indication",
    "area",
)
# The area of an indication when the plan does not say; protocols add theirs (a clinic's own too).
AREA_OF_INDICATION = {"hair": "scalp", "sebum": "face"}


def _with_areas(case: Case, areas: dict[str, str], product_id: str, plan_area: str | None) -> Case:
    """Doses without an area take their indication's area; a same-day dose of this product whose area is
    still unknown counts as this plan's area (a second session the same day must not slip through)."""
    doses = []
    for dose in case.toxin_history:
        area = dose.area or areas.get(dose.indication)
        if area is None and dose.date == case.as_of and dose.product in (product_id, "unknown"):
            area = plan_area
        doses.append(dose if area == dose.area else replace(dose, area=area))
    return replace(case, toxin_history=tuple(doses))


@dataclass(frozen=True)
class PlanInput:
    case: Case
    product: dict  # the product's data row
    protocol: dict | None
    points: list[dict] | None  # None: the protocol's own points
    concentration: Concentration
    remaining: float | None
    expiry: dt.date | dt.datetime | None
    beyond_use: dt.date | dt.datetime | None
    at: dt.date | dt.datetime | None
    conversion: float | None  # acknowledged ratio: plan-product units per protocol-product unit
    indication: str | None
    area: str | None


def _finite_number(value, low: float, high: float) -> bool:
    """A real number in (low, high]: not a bool, not NaN or infinite, not too large to be a dose."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    if isinstance(value, int) and abs(value) > 10**9:
        return False
    return math.isfinite(float(value)) and low < float(value) <= high


def _date_or_datetime(value, field: str, problems: list[str]):
    if isinstance(value, str):
        try:
            return dt.datetime.fromisoformat(value) if "T" in value else dt.date.fromisoformat(value)
        except ValueError:
            pass
    problems.append(f"{field}: must be a date (YYYY-MM-DD) or date-time")
    return None


def _points(points, problems: list[str]) -> list[dict]:
    if not isinstance(points, list) or not 1 <= len(points) <= MAX_POINTS:
        problems.append(f"points: must be a list of 1 to {MAX_POINTS} points")
        return []
    parsed = []
    for i, point in enumerate(points):
        where = f"points[{i}]"
        if not isinstance(point, Mapping):
            problems.append(f"{where}: must be an object")
            continue
        problems += [f"{where}.{k}: unknown field" for k in point if k not in ("region", "depth", "units")]
        region, depth, units = point.get("region"), point.get("depth"), point.get("units")
        if not isinstance(region, str) or not 1 <= len(region.strip()) <= 60:
            problems.append(f"{where}.region: must be a text of 1 to 60 characters")
        if depth not in DEPTHS:
            problems.append(f"{where}.depth: must be one of {', '.join(DEPTHS)}")
        if not _finite_number(units, 0, 500):
            problems.append(f"{where}.units: must be a number greater than 0 (at most 500)")
        else:
            parsed.append(
                {
                    "region": region.strip() if isinstance(region, str) else region,
                    "depth": depth,
                    "units": float(units),
                }
            )
    return parsed


def _vial(vial, info: dict | None, problems: list[str]) -> dict:
    out: dict = {"concentration": None, "remaining": None, "expiry": None, "beyond_use": None}
    if not isinstance(vial, Mapping):
        problems.append("vial: required (vial_units, diluent_ml)")
        return out
    problems += [
        f"vial.{k}: unknown field"
        for k in vial
        if k not in ("vial_units", "diluent_ml", "expiry", "beyond_use", "remaining_units")
    ]
    remaining = vial.get("remaining_units")
    if remaining is not None:
        if _finite_number(remaining, -1, 100000) and remaining >= 0:
            out["remaining"] = float(remaining)
        else:
            problems.append("vial.remaining_units: must be a number >= 0")
    if info is not None:
        try:
            out["concentration"] = reconstitute(info["id"], vial.get("vial_units"), vial.get("diluent_ml"))
        except ToxinInputError as exc:
            problems.append(f"vial.{exc}")
    for key in ("expiry", "beyond_use"):
        if key in vial:
            out[key] = _date_or_datetime(vial[key], f"vial.{key}", problems)
    return out


def _conversion(conversion, problems: list[str]) -> float | None:
    if conversion is None:
        return None
    ratio = conversion.get("ratio") if isinstance(conversion, Mapping) else None
    if not isinstance(conversion, Mapping) or set(conversion) - {"ratio", "acknowledged"}:
        problems.append("conversion: must be {ratio, acknowledged}")
    elif not _finite_number(ratio, 0, MAX_RATIO):
        problems.append(f"conversion.ratio: must be a number greater than 0 (at most {MAX_RATIO:g})")
    elif conversion.get("acknowledged") is not True:
        problems.append(
            "conversion.acknowledged: must be true (units are not interchangeable between products)"
        )
    else:
        return float(ratio)
    return None


def parse_plan(raw, protocols: dict) -> PlanInput:
    """Validate a plan; raises CaseError listing every problem."""
    problems: list[str] = []
    if not isinstance(raw, Mapping):
        raise CaseError(["plan: must be a JSON object"])
    problems += [f"{key}: unknown field" for key in raw if key not in ALLOWED]
    try:
        case = parse_case({k: raw[k] for k in ("as_of", "patient", "history", "hair") if k in raw})
    except CaseError as exc:
        problems += exc.problems
        case = None
    info = None
    try:
        info = product(raw.get("product"))
    except ToxinInputError as exc:
        problems.append(str(exc) if "product" in raw else "product: required")
    protocol_id = raw.get("protocol")
    if protocol_id is not None and (not isinstance(protocol_id, str) or protocol_id not in protocols):
        problems.append(f"protocol: unknown protocol {protocol_id!r}")
    protocol = protocols.get(protocol_id) if isinstance(protocol_id, str) else None
    points = raw.get("points")
    if points is None and protocol is None:
        problems.append("points: give a protocol or a list of points")
    parsed = _points(points, problems) if points is not None else None
    vial = _vial(raw.get("vial"), info, problems)
    conversion = _conversion(raw.get("conversion"), problems)
    indication = raw.get("indication", protocol["indication"] if protocol else None)
    areas = {**{p["indication"]: p["area"] for p in protocols.values()}, **AREA_OF_INDICATION}
    # A free-text or missing indication would lose every dose check (label dose, maxima): refuse it.
    if indication is None:
        problems.append("indication: required (give a protocol or one of " + ", ".join(sorted(areas)) + ")")
    elif not isinstance(indication, str) or indication.strip() not in areas:
        problems.append(f"indication: unknown indication {indication!r} (one of {', '.join(sorted(areas))})")
        indication = None
    else:
        indication = indication.strip()
    area = raw.get("area", protocol["area"] if protocol else areas.get(indication))
    if area is not None and (not isinstance(area, str) or area not in AREAS):
        problems.append(f"area: must be one of {', '.join(AREAS)}")
    elif area is not None and indication in areas and area != areas[indication]:
        problems.append(f"area: {indication} is treated in the {areas[indication]} area, not {area}")
    at = _date_or_datetime(raw["at"], "at", problems) if "at" in raw else None
    beyond = vial.get("beyond_use") if isinstance(vial, dict) else None
    if (
        isinstance(at, dt.datetime)
        and isinstance(beyond, dt.datetime)
        and (at.tzinfo is None) != (beyond.tzinfo is None)
    ):  # compared by day otherwise: an expired vial could pass the same day
        problems.append("vial.beyond_use: give a time zone on both at and beyond_use, or on neither")
    if problems:
        raise CaseError(problems)
    return PlanInput(
        case=_with_areas(case, areas, info["id"], area),
        product=info,
        protocol=protocol,
        points=parsed,
        concentration=vial["concentration"],
        remaining=vial["remaining"],
        expiry=vial["expiry"],
        beyond_use=vial["beyond_use"],
        at=at,
        conversion=conversion,
        indication=indication.strip() if isinstance(indication, str) else None,
        area=area if area in AREAS else None,
    )
