"""The plan check: is this toxin plan safe and sound for this patient today? Pure; the date is an argument.

Blocks: the pathways' toxin contraindications (one shared rule set, clinical/toxin_safety.py); less than
84 days since the last toxin; the product's cumulative units in the trailing 90 days plus this plan above
its label maximum; a protocol written for another product (units are not interchangeable) unless an
explicit, acknowledged conversion ratio is given; an expired or beyond-use vial.
Warnings: aminoglycosides, anticoagulants/antiplatelets, cow's-milk allergy with abobotulinumtoxinA,
off-label indications (hair, sebum), a dose per point far from the protocol's, more units than the vial.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping

from dermatox.clinical.pathways.case import CaseError, parse_case
from dermatox.clinical.toxin.protocols import AREAS, DEPTHS, expand_points, load_protocols
from dermatox.clinical.toxin.reconstitution import ToxinInputError, product, reconstitute
from dermatox.clinical.toxin_safety import toxin_safety_by_area

LABEL_WINDOW_DAYS = 90
OFF_LABEL_INDICATIONS = {"hair": "hair loss", "sebum": "oily skin / acne"}
AREA_OF_INDICATION = {"hair": "scalp", "sebum": "face"}
DOSE_TOLERANCE = 0.5  # a point more than 50% away from the protocol's dose per point is flagged
MAX_POINTS = 300
ALLOWED = (
    "as_of",
    "at",
    "patient",
    "history",
    "product",
    "protocol",
    "points",
    "vial",
    "conversion",
    "indication",
    "area",
)
MAX_RATIO = 100.0


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


def _validate(raw, protocols: dict) -> tuple[dict, list[str]]:
    problems: list[str] = []
    if not isinstance(raw, Mapping):
        raise CaseError(["plan: must be a JSON object"])
    problems += [f"{key}: unknown field" for key in raw if key not in ALLOWED]
    try:
        case = parse_case({k: raw[k] for k in ("as_of", "patient", "history") if k in raw})
    except CaseError as exc:
        problems += exc.problems
        case = None
    plan: dict = {"case": case}
    try:
        plan["product"] = product(raw.get("product"))
    except ToxinInputError as exc:
        problems.append(str(exc) if "product" in raw else "product: required")
    protocol_id = raw.get("protocol")
    if protocol_id is not None and (not isinstance(protocol_id, str) or protocol_id not in protocols):
        problems.append(f"protocol: unknown protocol {protocol_id!r}")
    plan["protocol"] = protocols.get(protocol_id) if isinstance(protocol_id, str) else None
    points = raw.get("points")
    if points is None and plan["protocol"] is None:
        problems.append("points: give a protocol or a list of points")
    parsed = []
    if points is not None:
        if not isinstance(points, list) or not 1 <= len(points) <= MAX_POINTS:
            problems.append(f"points: must be a list of 1 to {MAX_POINTS} points")
            points = []
        for i, point in enumerate(points):
            where = f"points[{i}]"
            if not isinstance(point, Mapping):
                problems.append(f"{where}: must be an object")
                continue
            problems += [
                f"{where}.{k}: unknown field" for k in point if k not in ("region", "depth", "units")
            ]
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
    plan["points"] = parsed if points is not None else None
    vial = raw.get("vial")
    if not isinstance(vial, Mapping):
        problems.append("vial: required (vial_units, diluent_ml)")
    else:
        problems += [
            f"vial.{k}: unknown field"
            for k in vial
            if k not in ("vial_units", "diluent_ml", "expiry", "beyond_use", "remaining_units")
        ]
        remaining = vial.get("remaining_units")
        plan["remaining"] = None
        if remaining is not None:
            if _finite_number(remaining, -1, 100000) and remaining >= 0:
                plan["remaining"] = float(remaining)
            else:
                problems.append("vial.remaining_units: must be a number >= 0")
        if "product" in plan:
            try:
                plan["concentration"] = reconstitute(
                    plan["product"]["id"], vial.get("vial_units"), vial.get("diluent_ml")
                )
            except ToxinInputError as exc:
                problems.append(f"vial.{exc}")
        plan["expiry"] = (
            _date_or_datetime(vial["expiry"], "vial.expiry", problems) if "expiry" in vial else None
        )
        plan["beyond_use"] = (
            _date_or_datetime(vial["beyond_use"], "vial.beyond_use", problems)
            if "beyond_use" in vial
            else None
        )
    conversion = raw.get("conversion")
    plan["conversion"] = None
    if conversion is not None:
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
            plan["conversion"] = float(ratio)
    indication = raw.get("indication", plan["protocol"]["indication"] if plan["protocol"] else None)
    if indication is not None and (not isinstance(indication, str) or not indication.strip()):
        problems.append("indication: must be a text")
        indication = None
    plan["indication"] = indication
    area = raw.get(
        "area", plan["protocol"]["area"] if plan["protocol"] else AREA_OF_INDICATION.get(indication)
    )
    if area is not None and (not isinstance(area, str) or area not in AREAS):
        problems.append(f"area: must be one of {', '.join(AREAS)}")
    plan["area"] = area if area in AREAS else None
    plan["at"] = _date_or_datetime(raw["at"], "at", problems) if "at" in raw else None
    return plan, problems


def check_plan(raw, *, protocols: dict | None = None) -> dict:
    """Check a toxin plan; raises CaseError listing every input problem."""
    protocols = protocols if protocols is not None else load_protocols()
    plan, problems = _validate(raw, protocols)
    if problems:
        raise CaseError(problems)
    case, info, protocol = plan["case"], plan["product"], plan["protocol"]
    concentration = plan["concentration"]
    blocks: list[dict] = []
    warnings: list[dict] = []

    reference = expand_points(protocol) if protocol else []
    if protocol and protocol["product"] != info["id"]:
        if plan["conversion"] is None:
            blocks.append(
                {
                    "id": "units_not_interchangeable",
                    "text": f"Protocol {protocol['id']} is written in {protocol['product']} units; {info['id']} units are not "
                    "interchangeable. Give an explicit, acknowledged conversion ratio, or choose a protocol for this product.",
                }
            )
        else:
            reference = [{**p, "units": p["units"] * plan["conversion"]} for p in reference]
            warnings.append(
                {
                    "id": "conversion_applied",
                    "text": f"Protocol doses converted from {protocol['product']} to {info['id']} at 1 : {plan['conversion']:g}, as "
                    "acknowledged; published ratios are estimates for starting doses only.",
                }
            )
    points = plan["points"] if plan["points"] is not None else reference
    total = round(sum(p["units"] for p in points), 4)

    # One shared rule set with the pathways; an unknown area checks both injection-area infections.
    by_area = toxin_safety_by_area(
        as_of=case.as_of,
        pregnant=case.pregnant,
        breastfeeding=case.breastfeeding,
        conditions=case.conditions,
        medications=case.medications,
        allergies=case.allergies,
        last_toxin_dates=[d.date for d in case.toxin_history],
        areas=(plan["area"],) if plan["area"] else ("scalp", "face"),
    )
    blocks += list(
        {r.id: {"id": r.id, "text": r.text} for s in by_area.values() for r in s.contraindications}.values()
    )
    warnings += list(
        {r.id: {"id": r.id, "text": r.text} for s in by_area.values() for r in s.cautions}.values()
    )
    safety = next(iter(by_area.values()))  # the interval does not depend on the area
    not_before = safety.not_before
    if not_before:
        blocks.append(
            {
                "id": "retreatment_interval",
                "text": f"Last botulinum toxin dose on {safety.last_dose.isoformat()}: less than 12 weeks ago; not before {not_before.isoformat()}.",
            }
        )
    maximum = info.get("label_max_units_90d")
    if maximum:
        since = case.as_of - dt.timedelta(days=LABEL_WINDOW_DAYS)
        recent = sum(
            d.units for d in case.toxin_history if d.product == info["id"] and since < d.date <= case.as_of
        )
        if recent + total > maximum:
            blocks.append(
                {
                    "id": "label_maximum",
                    "text": f"{recent:g} U of {info['id']} in the last 90 days plus {total:g} U planned exceeds the label maximum of "
                    f"{maximum} U per 3 months.",
                }
            )
    if plan["expiry"] is not None:
        expiry = plan["expiry"].date() if isinstance(plan["expiry"], dt.datetime) else plan["expiry"]
        if expiry < case.as_of:
            blocks.append(
                {"id": "vial_expired", "text": f"The vial expired on {expiry.isoformat()}: never use it."}
            )
    if plan["beyond_use"] is not None:
        beyond, now = plan["beyond_use"], plan["at"]
        if (
            isinstance(beyond, dt.datetime)
            and isinstance(now, dt.datetime)
            and (beyond.tzinfo is None) == (now.tzinfo is None)
        ):
            past = beyond < now  # to the minute when the time of the injection is known
        else:
            past = (beyond.date() if isinstance(beyond, dt.datetime) else beyond) < case.as_of
        if past:
            blocks.append(
                {
                    "id": "vial_beyond_use",
                    "text": f"The reconstituted vial was usable until {plan['beyond_use']}: discard it.",
                }
            )

    if plan["indication"] in OFF_LABEL_INDICATIONS or (protocol and protocol["off_label"]):
        what = OFF_LABEL_INDICATIONS.get(plan["indication"], plan["indication"])
        warnings.append(
            {"id": "off_label", "text": f"Off-label use ({what}): not approved; record informed consent."}
        )
    if reference and plan["points"] is not None:
        usual = sorted(p["units"] for p in reference)[len(reference) // 2]
        far = [i for i, p in enumerate(points) if abs(p["units"] - usual) > DOSE_TOLERANCE * usual]
        if far:
            warnings.append(
                {
                    "id": "dose_per_point",
                    "text": f"{len(far)} point(s) differ from the protocol's {usual:g} U per point by more than half: check the dose.",
                }
            )
    available = plan["remaining"] if plan.get("remaining") is not None else concentration.vial_units
    if total > available:
        warnings.append(
            {
                "id": "exceeds_vial",
                "text": f"{total:g} U planned is more than the {available:g} U the vial holds.",
            }
        )

    out_points = [{**p, "volume_ml": round(concentration.volume_ml(p["units"]), 4)} for p in points]
    result = {
        "status": "blocked" if blocks else "warn" if warnings else "ok",
        "product": info["id"],
        "protocol": protocol["id"] if protocol else None,
        "total_units": total,
        "total_volume_ml": round(sum(p["volume_ml"] for p in out_points), 4),
        "units_per_0_1_ml": round(concentration.units_per_0_1_ml, 4),
        "points": out_points,
        "warnings": warnings,
        "blocks": blocks,
    }
    if not_before:
        result["not_before"] = not_before.isoformat()
    return result
