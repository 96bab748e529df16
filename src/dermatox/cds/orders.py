"""order-select: draft MedicationRequests for a botulinum toxin product -> toxin plans for `check_plan`. Pure.

Product: our toxin-product code system, or a brand/product name in the coding display or text.
Dose: dosageInstruction.doseAndRate.doseQuantity in units (U). Body site: dosageInstruction.site, either our
toxin-protocol code system (a protocol id) or a SNOMED body structure mapped to an area in codes.toml (scalp,
face); an area with exactly one protocol for the ordered product uses that protocol. With a protocol and a
dose, the protocol's points are scaled to the ordered total (its split between regions is kept); without a
protocol, the dose is one entry at the site. The vial is not known at order time: a vial of the product's
listed size is assumed for the arithmetic only, and vial checks (expiry, beyond-use, units left) are left to
the session, where the vial is scanned.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from fhir.resources.R4B.medicationrequest import MedicationRequest

from dermatox.cds.prefetch import (
    PROTOCOL_SYSTEM,
    PrefetchError,
    _codings,
    _quantity_units,
    codes,
    parse_resources,
    product_of,
    units_text,
)
from dermatox.clinical.reference import by_id
from dermatox.clinical.toxin.protocols import expand_points, load_protocols

VIAL_CHECKS = {"exceeds_vial", "vial_expired", "vial_beyond_use"}  # not knowable at order time


@dataclass
class ToxinOrder:
    label: str  # the order in words, for the card's detail: product, dose, area, protocol
    plan: dict | None  # None: the order cannot be checked (reason in `problem`)
    problem: str = ""
    short: str = ""  # the order in a few words, for the card's summary: "onabotulinumtoxinA 150 U, scalp"


def scaled_points(reference: list[dict], total: float) -> list[dict]:
    """The protocol's points scaled to the ordered total, each dose as a clinician writes it (0.01 U) and
    the remainder of the rounding on the last point, so the points add up to exactly the order (a total
    too small to share out in 0.01 U steps keeps the exact shares)."""
    factor = total / sum(p["units"] for p in reference)
    doses = [round(p["units"] * factor, 2) for p in reference[:-1]]
    doses.append(round(total - sum(doses), 2))
    if min(doses) <= 0:  # a total too small to share out in 0.01 U: the exact shares (the check warns)
        doses = [p["units"] * factor for p in reference]
    return [{**p, "units": d} for p, d in zip(reference, doses, strict=True)]


def draft_toxin_orders(context: Mapping, case: dict) -> list[ToxinOrder]:
    """The selected (or all) draft MedicationRequests that order a toxin product, as plans."""
    bundle = context.get("draftOrders")
    if not isinstance(bundle, Mapping) or bundle.get("resourceType") != "Bundle":
        raise PrefetchError("context.draftOrders: must be a FHIR Bundle of draft orders")
    requests = [r for r in parse_resources(bundle, "context.draftOrders") if isinstance(r, MedicationRequest)]
    selections = context.get("selections")
    if selections is not None:
        if not isinstance(selections, list) or not all(isinstance(s, str) for s in selections):
            raise PrefetchError("context.selections: must be a list of references (MedicationRequest/id)")
        chosen = {s.split("/", 1)[-1] for s in selections if s.startswith("MedicationRequest/")}
        requests = [r for r in requests if r.id in chosen]
    orders = []
    for request in requests:
        product = product_of(request.medicationCodeableConcept)
        if product is not None:
            orders.append(_order(request, product, case))
    return orders


def _order(request: MedicationRequest, product: str, case: dict) -> ToxinOrder:
    protocols = load_protocols()
    info = by_id("toxin_products.toml")[product]
    units = None
    protocol = None
    area = None
    site_text = None
    sites = {(row["system"], row["code"]): row["area"] for row in codes()["site"]}
    for dosage in request.dosageInstruction or []:
        for dr in dosage.doseAndRate or []:
            units = units or _quantity_units(dr.doseQuantity)
        for coding in _codings(dosage.site):
            if coding.system == PROTOCOL_SYSTEM and coding.code in protocols:
                protocol = protocols[coding.code]
            elif (coding.system, coding.code) in sites:
                area = sites[(coding.system, coding.code)]
            site_text = site_text or coding.display
        if dosage.site is not None and dosage.site.text:
            site_text = site_text or dosage.site.text
    if protocol is None and area is not None:
        fits = [p for p in protocols.values() if p["area"] == area and p["product"] == product]
        protocol = fits[0] if len(fits) == 1 else None
    area = protocol["area"] if protocol else area
    where = f" to the {area}" if area else ""
    dose = f" {units_text(units)}" if units else ""
    label = f"{info['display']}{dose}{where}"
    if protocol:
        label += f" (protocol {protocol['id']})"
    short = f"{product}{dose}" + (f", {area}" if area else "")
    plan: dict = {k: case[k] for k in ("as_of", "patient", "history") if k in case}
    plan["product"] = product
    if protocol is not None:
        plan["protocol"] = protocol["id"]
        if units:
            plan["points"] = scaled_points(expand_points(protocol), units)
    elif units:
        plan["points"] = [
            {
                "region": (site_text or area or "unspecified site")[:60],
                "depth": "intramuscular",
                "units": units,
            }
        ]
        if area:
            plan["area"] = area
    else:
        return ToxinOrder(
            label, None, "No dose in units (doseQuantity, U) and no protocol: cannot check.", short=short
        )
    total = units or sum(p["units"] for p in expand_points(protocol))
    sizes = sorted(info["vial_sizes"])
    vial_units = next((s for s in sizes if s >= total), sizes[-1] if sizes else max(100.0, total))
    if info["ready_to_use"]:
        plan["vial"] = {"vial_units": vial_units}
    else:
        per_0_1 = protocol["units_per_0_1_ml"] if protocol else 4.0
        plan["vial"] = {"vial_units": vial_units, "diluent_ml": round(vial_units / (per_0_1 * 10), 4)}
    return ToxinOrder(label, plan, short=short)
