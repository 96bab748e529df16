"""Reconstitution arithmetic. Units are those of the product in the vial: never converted."""

from __future__ import annotations

import math
from dataclasses import dataclass

from dermatox.clinical.reference import by_id


class ToxinInputError(ValueError):
    def __init__(self, field: str, rule: str):
        super().__init__(f"{field}: {rule}")
        self.field = field
        self.rule = rule


def product(product_id) -> dict:
    products = by_id("toxin_products.toml")
    if not isinstance(product_id, str) or product_id not in products:
        raise ToxinInputError("product", f"unknown product {product_id!r} (one of {', '.join(products)})")
    return products[product_id]


@dataclass(frozen=True)
class Concentration:
    product: str
    vial_units: float
    diluent_ml: float | None  # None: ready-to-use liquid
    units_per_ml: float

    @property
    def units_per_0_1_ml(self) -> float:
        return self.units_per_ml / 10

    def volume_ml(self, units: float) -> float:
        """Volume that carries `units` at this concentration."""
        return units / self.units_per_ml

    def as_dict(self) -> dict:
        return {
            "product": self.product,
            "vial_units": _plain(self.vial_units),
            "diluent_ml": None if self.diluent_ml is None else _plain(self.diluent_ml),
            "units_per_ml": round(self.units_per_ml, 4),
            "units_per_0_1_ml": round(self.units_per_0_1_ml, 4),
        }


def _plain(number: float) -> int | float:
    """100.0 -> 100 in the JSON people read; 2.5 stays 2.5."""
    return int(number) if float(number).is_integer() else number


MAX_UNITS = 100_000  # far above any vial; keeps absurd numbers out of float arithmetic
MAX_DILUENT_ML = 100.0


def _positive(value, field: str, maximum: float = MAX_UNITS) -> float:
    """A real number in (0, maximum]: not a bool, not NaN or infinite."""
    ok = not isinstance(value, bool) and isinstance(value, int | float)
    if ok and isinstance(value, int) and abs(value) > 10**9:
        ok = False
    if not ok or not math.isfinite(float(value)) or value <= 0 or value > maximum:
        raise ToxinInputError(field, f"must be a number greater than 0 (at most {maximum:g})")
    return float(value)


def reconstitute(product_id, vial_units, diluent_ml) -> Concentration:
    """Concentration of a vial of `vial_units` of `product_id` dissolved in `diluent_ml` of saline."""
    info = product(product_id)
    units = _positive(vial_units, "vial_units")
    if info["vial_sizes"] and units not in info["vial_sizes"]:
        sizes = ", ".join(str(s) for s in info["vial_sizes"])
        raise ToxinInputError("vial_units", f"{product_id} comes in vials of {sizes} U, not {units:g}")
    if info["ready_to_use"]:
        if diluent_ml not in (None, 0):
            raise ToxinInputError(
                "diluent_ml", f"{product_id} is a ready-to-use liquid: it is not reconstituted"
            )
        return Concentration(product_id, units, None, info["liquid_units_per_0_1_ml"] * 10)
    volume = _positive(diluent_ml, "diluent_ml", MAX_DILUENT_ML)
    return Concentration(product_id, units, volume, units / volume)


def diluent_for(product_id, vial_units, units_per_0_1_ml) -> float:
    """The reverse: saline (mL) that gives the wanted units per 0.1 mL."""
    info = product(product_id)
    if info["ready_to_use"]:
        raise ToxinInputError("product", f"{product_id} is a ready-to-use liquid: it is not reconstituted")
    units = _positive(vial_units, "vial_units")
    wanted = _positive(units_per_0_1_ml, "units_per_0_1_ml")
    return round(units / (wanted * 10), 4)
