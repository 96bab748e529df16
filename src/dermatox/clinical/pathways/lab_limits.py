"""Laboratory limits (data/lab_limits.toml, clinical.md §12.6): which lower limit, upper limit and separate
urgent / tumour cut-offs apply to one patient (sex, age at the sample, pregnancy and trimester), and the
words for whom a limit is for."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from dermatox.clinical.messages import catalogue
from dermatox.clinical.pathways.lab_units import UnknownUnit, lab_tests, to_canonical
from dermatox.clinical.reference import ReferenceDataError, load

BOUNDS = ("lower", "upper", "cutoff")
# What a result beyond a limit asks for (the closed set; docs/pathways.md "Laboratory limits"). "none" in the
# data is null in the output.
ACTIONS = (
    "none",
    "correct_deficiency",  # a documented deficiency: correct it where indicated
    "further_tests",  # the tests the meaning names (ferritin after anaemia; saturation, CRP, liver tests)
    "stop_supplements",  # vitamin D above the upper limit
    "check_calcium",  # vitamin D in the toxic range (urgent)
    "refer_endocrinology",  # sets the pathway's referral_endocrinology
    "refer_physician",  # a physician outside the pathway's referrals (ferritin > 1,000; diabetes range)
)
REFERRALS = {"refer_endocrinology": "referral_endocrinology"}
_WEAKEST_FIRST = ("U", "X", "S", "C")
_SELECTORS = ("sex", "age_min", "age_max", "pregnant", "trimester")


@dataclass(frozen=True)
class Patient:
    """Who a result belongs to, as the limits select: age in whole years at the sample (None: unknown)."""

    sex: str
    age: int | None = None
    pregnant: bool = False
    trimester: int | None = None


@dataclass(frozen=True)
class Limit:
    id: str
    test: str
    bound: str
    value: float  # in the test's canonical unit
    population: str
    action: str
    meaning: str
    source: str
    confidence: str
    stated: str = ""  # value and unit as the source states them, when the unit is not the canonical one
    sex: str | None = None
    age_min: int | None = None
    age_max: int | None = None
    pregnant: bool | None = None
    trimester: int | None = None
    inclusive: bool = False
    urgent: bool = False
    blocks_coc: bool = False
    reason: str | None = None

    def applies(self, p: Patient, *, ignore_age: bool = False) -> bool:
        if self.sex is not None and self.sex != p.sex:
            return False
        if self.pregnant is not None and self.pregnant != p.pregnant:
            return False
        if self.trimester is not None and (not p.pregnant or self.trimester != p.trimester):
            return False
        if ignore_age:
            return True
        if self.age_min is not None and (p.age is None or p.age < self.age_min):
            return False
        return not (self.age_max is not None and (p.age is None or p.age > self.age_max))

    def specificity(self, *, ignore_age: bool = False) -> int:
        keys = [k for k in _SELECTORS if not (ignore_age and k.startswith("age_"))]
        return sum(getattr(self, k) is not None for k in keys)

    def crossed(self, value: float) -> bool:
        if self.bound == "lower":
            return value < self.value
        return value >= self.value if self.inclusive else value > self.value

    def text(self, unit: str) -> str:
        """The limit as people read it: as the source states it, with the canonical value if that differs."""
        canonical = f"{self.value:.4g} {unit}"
        return f"{self.stated} ≈ {canonical}" if self.stated else canonical

    @property
    def refer(self) -> str | None:
        return REFERRALS.get(self.action)

    @property
    def reason_id(self) -> str:
        return self.reason or ("reason_low" if self.bound == "lower" else "reason_high")


def _limit(row: dict) -> Limit:
    where = f"lab_limits.toml {row['id']}"
    test = lab_tests().get(row["item"])
    if test is None:
        raise ReferenceDataError(f"{where}.item: unknown lab test {row['item']!r}")
    if row["bound"] not in BOUNDS:
        raise ReferenceDataError(f"{where}.bound: must be one of {', '.join(BOUNDS)}")
    if row["action"] not in ACTIONS:
        raise ReferenceDataError(f"{where}.action: must be one of {', '.join(ACTIONS)}")
    if row.get("sex") not in (None, "female", "male"):
        raise ReferenceDataError(f"{where}.sex: must be female or male")
    if row.get("trimester") not in (None, 1, 2, 3) or (
        row.get("trimester") and row.get("pregnant") is not True
    ):
        raise ReferenceDataError(f"{where}.trimester: 1, 2 or 3, with pregnant = true")
    for key in ("meaning", "reason"):
        if key in row and f"lab.{row[key]}" not in catalogue():
            raise ReferenceDataError(f"{where}.{key}: no message lab.{row[key]}")
    try:
        value = round(to_canonical(test, float(row["value"]), row["unit"]), 4)
    except UnknownUnit as exc:
        raise ReferenceDataError(f"{where}.unit: {exc}") from None
    fields = {k: row[k] for k in (*_SELECTORS, "inclusive", "urgent", "blocks_coc", "reason") if k in row}
    return Limit(
        id=row["id"],
        test=row["item"],
        bound=row["bound"],
        value=value,
        population=row["population"],
        action=row["action"],
        meaning=row["meaning"],
        source=row["source"],
        confidence=row["confidence"],
        stated="" if to_canonical(test, 1.0, row["unit"]) == 1.0 else f"{row['value']:g} {row['unit']}",
        **fields,
    )


@cache
def limits() -> dict[str, tuple[Limit, ...]]:
    """Every limit row, by test id (validated: known test, bound, action, unit and message ids)."""
    out: dict[str, list[Limit]] = {test: [] for test in lab_tests()}
    for row in load("lab_limits.toml"):
        limit = _limit(row)
        out[limit.test].append(limit)
    return {test: tuple(rows) for test, rows in out.items()}


@cache
def by_id() -> dict[str, Limit]:
    return {limit.id: limit for rows in limits().values() for limit in rows}


def select(test: str, bound: str, patient: Patient, *, ignore_age: bool = False) -> Limit | None:
    """The lower or upper limit for this patient: the matching row with the most selecting keys; on a tie
    (the data should have none) the stricter. ignore_age: any age band (for the meaning of a flag read
    against the laboratory's own interval)."""
    rows = [r for r in limits()[test] if r.bound == bound and r.applies(patient, ignore_age=ignore_age)]
    if not rows:
        return None
    best = max(r.specificity(ignore_age=ignore_age) for r in rows)
    rows = [r for r in rows if r.specificity(ignore_age=ignore_age) == best]
    return max(rows, key=lambda r: r.value) if bound == "lower" else min(rows, key=lambda r: r.value)


def cutoff_crossed(test: str, patient: Patient, value: float) -> Limit | None:
    """The highest urgent / tumour cut-off this value crosses, if any."""
    rows = [r for r in limits()[test] if r.bound == "cutoff" and r.applies(patient) and r.crossed(value)]
    return max(rows, key=lambda r: r.value) if rows else None


def weakest_row(*rows: Limit | None) -> Limit | None:
    """The least certain of these rows (U, then X, S, C): what a result read against them may claim."""
    present = [r for r in rows if r is not None]
    return min(present, key=lambda r: _WEAKEST_FIRST.index(r.confidence)) if present else None


def population_words(limit: Limit) -> dict:
    """Whom a limit is for, as a nested message (lab.pop_*), built from its selecting keys."""
    if limit.pregnant:
        if limit.trimester:
            return {"id": "lab.pop_pregnant_trimester", "params": {"trimester": limit.trimester}}
        by_trimester = any(r.trimester for r in limits()[limit.test] if r.bound == limit.bound)
        return {"id": "lab.pop_pregnant_unstated" if by_trimester else "lab.pop_pregnant", "params": {}}
    who = {"id": f"term.{limit.sex}", "params": {}} if limit.sex else {"id": "lab.pop_patients", "params": {}}
    if limit.age_min is not None and limit.age_max is not None:
        words = {
            "id": "lab.pop_age_range",
            "params": {"who": who, "age_min": limit.age_min, "age_max": limit.age_max},
        }
    elif limit.age_min is not None:
        words = {"id": "lab.pop_age_min", "params": {"who": who, "age_min": limit.age_min}}
    elif limit.age_max is not None:
        words = {"id": "lab.pop_age_max", "params": {"who": who, "age_max": limit.age_max}}
    elif limit.sex:
        words = {"id": "lab.pop_who", "params": {"who": who}}
    else:
        words = {"id": "lab.pop_all", "params": {}}
    if limit.pregnant is False:
        words = {"id": "lab.pop_not_pregnant", "params": {"who": words}}
    return words


def basis(limit: Limit | None) -> dict:
    """What a result was read against, as a nested message: the laboratory's interval (None) or a default
    for a population, saying "clinic-editable" for unconfirmed (U) and conflicting (X) rows."""
    if limit is None:
        return {"id": "lab.basis_laboratory", "params": {}}
    kind = {"U": "editable", "X": "conflicting"}.get(limit.confidence, "default")
    return {"id": f"lab.basis_{kind}", "params": {"population": population_words(limit)}}
