"""Injection protocols: the built-in data file plus a clinic's own files, validated the same way."""

from __future__ import annotations

import tomllib
from pathlib import Path

from dermatox.clinical.reference import SCHEMAS, ReferenceDataError, _check, by_id

DEPTHS = ("intramuscular", "intradermal", "subcutaneous")
AREAS = ("scalp", "face", "axilla")


def _validate(rows: list[dict], where: str) -> None:
    _table, specs, *_ = SCHEMAS["toxin_protocols.toml"]
    _check(where, rows, specs)
    products = by_id("toxin_products.toml")
    for row in rows:
        if row["product"] not in products:
            raise ReferenceDataError(f"{where} {row['id']}.product: unknown product {row['product']!r}")
        if row["depth"] not in DEPTHS:
            raise ReferenceDataError(f"{where} {row['id']}.depth: must be one of {', '.join(DEPTHS)}")
        if row["area"] not in AREAS:
            raise ReferenceDataError(f"{where} {row['id']}.area: must be one of {', '.join(AREAS)}")
        for point in row["points"]:
            if set(point) != {"region", "count", "units"} or point["count"] < 1 or point["units"] <= 0:
                raise ReferenceDataError(
                    f"{where} {row['id']}.points: each needs region, count >= 1, units > 0"
                )


def load_protocols(extra_files: tuple[str | Path, ...] = ()) -> dict[str, dict]:
    protocols = dict(by_id("toxin_protocols.toml"))
    for path in extra_files:
        with Path(path).open("rb") as fh:
            rows = tomllib.load(fh).get("protocol", [])
        _validate(rows, str(path))
        for row in rows:
            if row["id"] in protocols:
                raise ReferenceDataError(f"{path}: protocol id {row['id']!r} already exists")
            protocols[row["id"]] = row
    return protocols


def expand_points(protocol: dict) -> list[dict]:
    """The protocol's injection points, one entry per point."""
    return [
        {"region": p["region"], "depth": protocol["depth"], "units": float(p["units"])}
        for p in protocol["points"]
        for _ in range(p["count"])
    ]


def total_units(protocol: dict) -> float:
    return sum(p["count"] * p["units"] for p in protocol["points"])
