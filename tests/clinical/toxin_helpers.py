"""Plans for the toxin tests: dates derived from one as_of, products at their own label doses."""

import datetime as dt

AS_OF = dt.date(2026, 11, 21)


def day(days_before: int) -> str:
    return (AS_OF - dt.timedelta(days=days_before)).isoformat()


def born(age: int) -> str:
    """A birth date that gives this age on AS_OF (birthday a month earlier)."""
    return dt.date(AS_OF.year - age, AS_OF.month - 1, 1).isoformat()


VIALS = {
    "onabotulinumtoxinA": {"vial_units": 100, "diluent_ml": 2.5},
    "abobotulinumtoxinA": {"vial_units": 500, "diluent_ml": 2.5},
    "incobotulinumtoxinA": {"vial_units": 100, "diluent_ml": 2.5},
    "prabotulinumtoxinA": {"vial_units": 100, "diluent_ml": 2.5},
    "letibotulinumtoxinA": {"vial_units": 100, "diluent_ml": 2.5},
    "daxibotulinumtoxinA": {"vial_units": 100, "diluent_ml": 2.5},
    "relabotulinumtoxinA": {"vial_units": 100},
}
# §12.1: glabellar label dose per product (5 points each)
GL_DOSE = {
    "onabotulinumtoxinA": 20,
    "abobotulinumtoxinA": 50,
    "incobotulinumtoxinA": 20,
    "prabotulinumtoxinA": 20,
    "letibotulinumtoxinA": 20,
    "daxibotulinumtoxinA": 40,
    "relabotulinumtoxinA": 50,
}


def points(total: float, count: int = 5, region: str = "procerus") -> list[dict]:
    return [{"region": region, "depth": "intramuscular", "units": total / count}] * count


def plan(
    product="onabotulinumtoxinA", *, units=None, sex="male", age=46, patient=None, history=None, **extra
):
    """A glabellar-lines plan of `units` (default: the product's label dose) for a healthy adult."""
    base = {
        "as_of": AS_OF.isoformat(),
        "patient": {"sex": sex, "birth_date": born(age), **(patient or {})},
        "product": product,
        "indication": "glabellar_lines",
        "points": points(units if units is not None else GL_DOSE[product]),
        "vial": dict(VIALS[product]),
    }
    if history is not None:
        base["history"] = history
    return {**base, **extra}


def dose(days_before, units, product="onabotulinumtoxinA", indication="glabellar_lines", area="face"):
    out = {"date": day(days_before), "product": product, "indication": indication}
    if units is not None:
        out["units"] = units
    if area is not None:
        out["area"] = area
    return out


def ids(items):
    return {item["id"] for item in items}


def item(result, rule_id):
    return next(i for i in result["blocks"] + result["warnings"] if i["id"] == rule_id)
