"""Invariants of the plan check over generated plans (issue 11 §4): every plan whose summed units are above a
product's maximum (clinical.md §12.1b R-BoNT-1) is blocked, and no plan with a hard-stop condition
(§8.3, §12.1b R-BoNT-2/3/4/6, §12.3, §12.5) is `ok` or `warn`."""

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dermatox.clinical.reference import load
from dermatox.clinical.toxin.plan import check_plan
from tests.clinical.toxin_helpers import AS_OF, GL_DOSE, VIALS, day, ids, plan, points

PRODUCTS = sorted(GL_DOSE)
INDICATIONS = [
    "glabellar_lines",
    "forehead_lines",
    "lateral_canthal_lines",
    "hair",
    "sebum",
]  # required: a plan without one is refused
AREA = {"hair": "scalp", "sebum": "face", None: None}
MAXIMA = [row for row in load("toxin_limits.toml") if row["item"] == "max_units"]


def expected_excess(product, indication, area, planned, history) -> bool:
    """The data rows read directly: does this plan, summed with the history, pass a maximum?"""
    for row in MAXIMA:
        if row["product"] != product or (row.get("indications") and indication not in row["indications"]):
            continue
        counted = 0.0
        for d in history:
            days = (AS_OF - dt.date.fromisoformat(d["date"])).days
            if d["product"] != product or d.get("units") is None:
                continue
            if row["scope"] == "window":
                counted += d["units"] if days < row["window_days"] else 0
            elif days == 0 and (not row.get("indications") or d.get("area") in (area, None)):
                counted += d["units"]
        if counted + planned > row["value"]:
            return True
    return False


doses = st.builds(
    lambda days, units, area: {
        "date": day(days),
        "product": "PRODUCT",
        "units": units,
        "indication": "given elsewhere",
        **({"area": area} if area else {}),
    },
    st.integers(0, 130),
    st.one_of(st.none(), st.integers(1, 400)),
    st.sampled_from([None, "scalp", "face", "axilla"]),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    product=st.sampled_from(PRODUCTS),
    indication=st.sampled_from(INDICATIONS),
    per_point=st.integers(1, 120),
    count=st.integers(1, 12),
    history=st.lists(doses, max_size=3),
)
def test_every_plan_above_a_maximum_is_blocked(product, indication, per_point, count, history):
    history = [{**d, "product": product} for d in history]
    raw = plan(product, points=points(per_point * count, count=count), history={"toxin_history": history})
    raw["indication"] = indication
    raw["vial"] = dict(VIALS[product])
    result = check_plan(raw)
    area = AREA.get(indication, "face")
    if expected_excess(product, indication, area, float(per_point * count), history):
        assert result["status"] == "blocked" and "above_label_maximum" in ids(result["blocks"])
    else:
        assert "above_label_maximum" not in ids(result["blocks"])


HARD_STOPS = {
    "pregnancy": lambda raw: raw["patient"].update(sex="female", pregnant=True),
    "breastfeeding": lambda raw: raw["patient"].update(sex="female", breastfeeding=True),
    "myasthenia_gravis": lambda raw: raw.setdefault("history", {}).update(conditions=["myasthenia_gravis"]),
    "als": lambda raw: raw.setdefault("history", {}).update(conditions=["als"]),
    "allergy_botulinum_toxin": lambda raw: raw.setdefault("history", {}).update(
        allergies=["botulinum_toxin"]
    ),
    "under_18": lambda raw: raw["patient"].update(
        birth_date=(AS_OF - dt.timedelta(days=365 * 17)).isoformat()
    ),
    "infection": lambda raw: raw.setdefault("history", {}).update(conditions=["active_infection_face"]),
    "vial_expired": lambda raw: raw["vial"].update(expiry=day(1)),
}


@settings(max_examples=200, deadline=None)
@given(
    product=st.sampled_from(PRODUCTS),
    stops=st.sets(st.sampled_from(sorted(HARD_STOPS)), min_size=1, max_size=3),
    earlier=st.one_of(
        st.none(),
        st.tuples(
            st.integers(0, 83), st.sampled_from(["same", "other", "unknown"]), st.sampled_from([None, 10])
        ),
    ),
    units_factor=st.sampled_from([1, 1.5, 2]),
)
def test_no_plan_with_a_hard_stop_is_ok_or_warn(product, stops, earlier, units_factor):
    raw = plan(product, units=GL_DOSE[product] * units_factor)
    for stop in stops:
        HARD_STOPS[stop](raw)
    assert check_plan(raw)["status"] == "blocked"
    if earlier is not None:  # a dose on an earlier day < 84 days ago, or another product today
        days, which, units = earlier
        other = {
            "same": product,
            "other": "onabotulinumtoxinA" if product != "onabotulinumtoxinA" else "incobotulinumtoxinA",
            "unknown": "unknown",
        }[which]
        if days == 0 and which == "same":
            days = 1  # the same product earlier today in another area is allowed (the same visit)
        dose = {"date": day(days), "product": other, "indication": "elsewhere"}
        if units is not None:
            dose["units"] = units
        clean = plan(product, units=GL_DOSE[product] * units_factor, history={"toxin_history": [dose]})
        assert check_plan(clean)["status"] == "blocked"


@settings(max_examples=100, deadline=None)
@given(
    allergen=st.sampled_from(["cow_milk_protein", "human_albumin"]),
    product=st.sampled_from(PRODUCTS),
)
def test_an_excipient_allergy_blocks_exactly_the_products_that_contain_it(allergen, product):
    """§12.1b R-BoNT-2/3: from each product's excipients (unconfirmed ones count as present)."""
    row = next(r for r in load("toxin_products.toml") if r["id"] == product)
    contains = allergen in row["excipients"] or allergen in row.get("excipients_unconfirmed", [])
    result = check_plan(plan(product, history={"allergies": [allergen]}))
    assert ("excipient_allergy" in ids(result["blocks"])) == contains
    assert result["status"] == ("blocked" if contains else "ok")
