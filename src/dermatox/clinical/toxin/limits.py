"""The products' label limits as typed rows (clinical.md §12.1 label doses, §12.1b maxima, ages, intervals,
§12.2 conversion ratios), read from toxin_label_doses.toml, toxin_limits.toml and toxin_conversions.toml."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from dermatox.clinical.reference import ReferenceDataError, by_id, load

ALL = "all"
ACTIONS = {
    "toxin_label_doses.toml": {"reference"},
    "toxin_limits.toml": {"block", "warn"},
    "toxin_conversions.toml": {"estimate", "block"},
}
ITEMS = {"max_units", "age", "interval", "other_product_window", "reference_factor"}
SCOPES = {"session", "window"}
BOUNDS = {"min", "below"}


@dataclass(frozen=True)
class Limit:
    """One threshold row: what, how much, what happens beyond it, and how sure the source is."""

    id: str
    item: str
    value: float
    unit: str
    action: str
    source: str
    confidence: str
    product: str = ALL
    indication: str | None = None  # label doses
    indications: tuple[str, ...] = ()  # a maximum for plans of these indications only (empty: any)
    scope: str | None = None  # maxima: session (that day) | window (rolling window_days)
    window_days: int | None = None
    bound: str | None = None  # ages: min | below
    source_product: str | None = None  # conversions: from -> product
    value_max: float | None = None

    @property
    def unconfirmed(self) -> bool:
        return self.confidence == "U"

    def applies_to(self, indication: str | None) -> bool:
        return not self.indications or indication in self.indications


def _fail(file_name: str, row: dict, rule: str) -> None:
    raise ReferenceDataError(f"{file_name} {row['id']}: {rule}")


def _check(file_name: str, row: dict) -> None:
    products = by_id("toxin_products.toml")
    if row["action"] not in ACTIONS[file_name]:
        _fail(file_name, row, f"action must be one of {sorted(ACTIONS[file_name])}")
    for key in ("product", "from", "to"):
        if key in row and row[key] not in products and not (key == "product" and row[key] == ALL):
            _fail(file_name, row, f"{key}: unknown product {row[key]!r}")
    if file_name == "toxin_limits.toml":
        if row["item"] not in ITEMS:
            _fail(file_name, row, f"item must be one of {sorted(ITEMS)}")
        if row["item"] == "max_units" and (
            row.get("scope") not in SCOPES or (row["scope"] == "window") != ("window_days" in row)
        ):
            _fail(file_name, row, "a maximum needs scope session, or scope window with window_days")
        if row["item"] == "age" and row.get("bound") not in BOUNDS:
            _fail(file_name, row, f"an age needs bound {' or '.join(sorted(BOUNDS))}")
    estimate = file_name == "toxin_conversions.toml" and row["action"] == "estimate"
    if estimate and not 0 < row["value"] <= row["value_max"]:
        _fail(file_name, row, "an estimate needs 0 < value <= value_max")
    if row["value"] < 0:
        _fail(file_name, row, "value must be >= 0")


def _limit(row: dict) -> Limit:
    return Limit(
        id=row["id"],
        item=row["item"],
        value=float(row["value"]),
        unit=row["unit"],
        action=row["action"],
        source=row["source"],
        confidence=row["confidence"],
        product=row.get("product", row.get("to", ALL)),
        indication=row.get("indication"),
        indications=tuple(row.get("indications", ())),
        scope=row.get("scope"),
        window_days=row.get("window_days"),
        bound=row.get("bound"),
        source_product=row.get("from"),
        value_max=float(row["value_max"]) if "value_max" in row else None,
    )


@cache
def _rows(file_name: str) -> tuple[Limit, ...]:
    rows = load(file_name)
    for row in rows:
        _check(file_name, row)
    return tuple(_limit(row) for row in rows)


def label_dose(product: str, indication: str | None) -> Limit | None:
    """The label dose of this product for this indication (§12.1), or None when it is not labelled."""
    return next(
        (d for d in _rows("toxin_label_doses.toml") if d.product == product and d.indication == indication),
        None,
    )


def labelled_indications() -> frozenset[str]:
    return frozenset(d.indication for d in _rows("toxin_label_doses.toml"))


def _limits(item: str, product: str | None = None) -> tuple[Limit, ...]:
    return tuple(
        lim
        for lim in _rows("toxin_limits.toml")
        if lim.item == item and (product is None or lim.product in (product, ALL))
    )


def maxima(product: str) -> tuple[Limit, ...]:
    """The product's per-session and per-window unit maxima (§12.1b, R-BoNT-1)."""
    return _limits("max_units", product)


def ages(product: str) -> tuple[Limit, ...]:
    """The labelled ages that apply to this product (§12.1b, §12.5, R-BoNT-6)."""
    return _limits("age", product)


def setting(item: str) -> Limit:
    """A single rule-wide threshold: interval, other_product_window or reference_factor."""
    rows = _limits(item)
    if len(rows) != 1:
        raise ReferenceDataError(f"toxin_limits.toml: exactly one {item!r} row expected")
    return rows[0]


def conversion(source_product: str, product: str) -> Limit | None:
    """§12.2's ratio for converting `source_product` units into `product` units, or None (no published pair)."""
    return next(
        (
            c
            for c in _rows("toxin_conversions.toml")
            if c.source_product == source_product and c.product == product
        ),
        None,
    )
