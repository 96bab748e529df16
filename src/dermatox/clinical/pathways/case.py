"""Parse and validate one assessment case (a plain mapping, as from JSON) into typed, frozen values.

Every problem is reported as `path: rule` (e.g. `hair.daily_shedding: must be an integer >= 0`); unknown
keys and unknown ids are errors, never ignored. All problems are collected, not only the first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

from dermatox.clinical.demographics import MAX_AGE_YEARS, age_on
from dermatox.clinical.pathways.labs import UnknownUnit, lab_tests, resolve_test, to_canonical
from dermatox.clinical.reference import by_id

SEXES = ("male", "female")
NORWOOD = ("I", "II", "IIa", "III", "IIIa", "III-vertex", "IV", "IVa", "V", "Va", "VI", "VII")
LUDWIG = ("I", "II", "III")
HAIR_DIAGNOSES = ("androgenetic_alopecia", "telogen_effluvium", "alopecia_areata", "scarring_alopecia")
TRIMESTERS = (1, 2, 3)
TOXIN_AREAS = ("scalp", "face", "axilla")
UNKNOWN_PRODUCT = "unknown"
# Pregnancy potential when the case does not say (clinical.md §12.3: iPLEDGE counts a female from her first
# period until menopause; the age band is a design default, §12.10 item 16, U).
PREGNANCY_POTENTIAL_AGES = (12, 55)
MAX_TOXIN_UNITS = 10_000  # above any product's largest labelled figure (1,000 U abo): a typing error
MAX_LAB_VALUE = 1e6  # no analyte here comes near it in any listed unit
SEBORRHEA = ("none", "mild", "marked")
OUTCOMES = ("inadequate", "partial", "good", "not_tolerated")
GAGS_REGIONS = {"forehead": 2, "right_cheek": 2, "left_cheek": 2, "nose": 1, "chin": 1, "chest_back": 3}


def gags_score(grades: dict[str, int]) -> int:
    """GAGS (Doshi 1997, clinical.md §5.1): the sum of region factor x the region's worst lesion grade 0-4."""
    return sum(GAGS_REGIONS[region] * grade for region, grade in grades.items())


HAIR_FLAGS = (
    "scalp_gaps",
    "thinning",
    "growth_problem",
    "hyperandrogenism_signs",
    "trigger_last_3_months",
    "scarring_alopecia_signs",
)


class CaseError(ValueError):
    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class ToxinDose:
    """A dose given before. `product` may be "unknown" and `units` None (reported without them): the date
    still starts the retreatment interval; only known units of a known product count toward a maximum."""

    date: dt.date
    product: str
    units: float | None
    indication: str
    area: str | None = None


@dataclass(frozen=True)
class LabResult:
    index: int
    test: str
    value: float
    unit: str
    date: dt.date
    ref_low: float | None = None
    ref_high: float | None = None


@dataclass(frozen=True)
class PriorTreatment:
    treatment: str
    weeks: int
    outcome: str


@dataclass(frozen=True)
class Case:
    as_of: dt.date
    sex: str
    birth_date: dt.date
    pregnant: bool = False
    breastfeeding: bool = False
    can_become_pregnant: bool | None = None  # None: not stated (see pregnancy_potential)
    pregnancy_trimester: int | None = None
    conditions: frozenset[str] = frozenset()
    medications: frozenset[str] = frozenset()
    allergies: frozenset[str] = frozenset()
    toxin_history: tuple[ToxinDose, ...] = ()
    hair: Mapping | None = None  # validated dict: daily_shedding, flags, pull_test_hairs, norwood, ...
    acne: Mapping | None = None  # gags (computed when regions given), gags_regions, iga, nodules, scarring
    seborrhea: str | None = None
    sebum: tuple[float, ...] = ()
    prior_treatments: tuple[PriorTreatment, ...] = ()
    hair_prior_treatments: tuple[PriorTreatment, ...] = ()
    scars: Mapping | None = None
    skin_given: bool = False
    labs: tuple[LabResult, ...] = ()
    gags_computed: bool = False
    extra: dict = field(default_factory=dict)

    @cached_property
    def age(self) -> int:
        return age_on(self.birth_date, self.as_of)

    @property
    def pregnancy_potential(self) -> bool:
        """Stated, else true for a female aged 12-55 (the default is listed in `assumptions`)."""
        if self.pregnant:
            return True
        if self.can_become_pregnant is not None:
            return self.can_become_pregnant
        low, high = PREGNANCY_POTENTIAL_AGES
        return self.sex == "female" and low <= self.age <= high

    @property
    def hair_diagnoses(self) -> tuple[str, ...]:
        """Stated diagnoses (several may hold at once); a stated one is never overwritten."""
        return tuple((self.hair or {}).get("diagnoses", ()))


class _Checker:
    def __init__(self):
        self.problems: list[str] = []

    def fail(self, path: str, rule: str) -> None:
        self.problems.append(f"{path}: {rule}")

    def mapping(self, value, path: str, allowed: tuple[str, ...]) -> dict | None:
        if not isinstance(value, Mapping):
            self.fail(path, "must be an object")
            return None
        for key in value:
            if key not in allowed:
                self.fail(f"{path}.{key}" if path else str(key), "unknown field")
        return dict(value)

    def date(self, value, path: str) -> dt.date | None:
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                pass
        self.fail(path, "must be a date (YYYY-MM-DD)")
        return None

    def boolean(self, value, path: str) -> bool | None:
        if isinstance(value, bool):
            return value
        self.fail(path, "must be true or false")
        return None

    def integer(self, value, path: str, low: int | None = None, high: int | None = None) -> int | None:
        ok = isinstance(value, int) and not isinstance(value, bool)
        if ok and (low is None or value >= low) and (high is None or value <= high):
            return value
        if low is not None and high is not None:
            self.fail(path, f"must be an integer from {low} to {high}")
        elif low is not None:
            self.fail(path, f"must be an integer >= {low}")
        else:
            self.fail(path, "must be an integer")
        return None

    def number(
        self, value, path: str, low: float | None = None, strictly_above: bool = False
    ) -> float | None:
        ok = isinstance(value, int | float) and not isinstance(value, bool) and value == value  # not NaN
        finite = ok and value not in (float("inf"), float("-inf"))
        if finite and (low is None or (value > low if strictly_above else value >= low)):
            return float(value)
        self.fail(
            path,
            f"must be a number {'>' if strictly_above else '>='} {low:g}"
            if low is not None
            else "must be a number",
        )
        return None

    def choice(self, value, path: str, choices: tuple) -> str | int | None:
        if value in choices and not isinstance(value, bool):
            return value
        self.fail(path, f"must be one of {', '.join(map(str, choices))}")
        return None

    def id_list(self, value, path: str, vocabulary: dict, what: str) -> frozenset[str]:
        if not isinstance(value, list):
            self.fail(path, "must be a list of ids")
            return frozenset()
        ids = set()
        for i, item in enumerate(value):
            if not isinstance(item, str) or item not in vocabulary:
                self.fail(f"{path}[{i}]", f"unknown {what} id {item!r}")
            else:
                ids.add(item)
        return frozenset(ids)

    def items(self, value, path: str) -> list:
        if not isinstance(value, list):
            self.fail(path, "must be a list")
            return []
        return value


def _prior(c: _Checker, value, section: str, ids: tuple[str, ...]) -> tuple[PriorTreatment, ...]:
    prior = []
    for i, item in enumerate(c.items(value, f"{section}.prior_treatments")):
        path = f"{section}.prior_treatments[{i}]"
        d = c.mapping(item, path, ("treatment", "weeks", "outcome"))
        if d is None:
            continue
        for key in ("treatment", "weeks", "outcome"):
            if key not in d:
                c.fail(f"{path}.{key}", "required")
        t = c.choice(d["treatment"], f"{path}.treatment", ids) if "treatment" in d else None
        weeks = c.integer(d["weeks"], f"{path}.weeks", 0) if "weeks" in d else None
        outcome = c.choice(d["outcome"], f"{path}.outcome", OUTCOMES) if "outcome" in d else None
        if t and weeks is not None and outcome:
            prior.append(PriorTreatment(t, weeks, outcome))
    return tuple(prior)


def parse_case(raw) -> Case:
    """Validate and type a case; raises CaseError listing every problem."""
    c = _Checker()
    if not isinstance(raw, Mapping):
        raise CaseError(["case: must be a JSON object"])
    top = c.mapping(raw, "", ("as_of", "patient", "history", "hair", "skin", "labs"))
    if top is None:
        raise CaseError(c.problems)
    as_of = c.date(top["as_of"], "as_of") if "as_of" in top else c.fail("as_of", "required")
    fields: dict = {}

    patient = top.get("patient")
    if patient is None:
        c.fail("patient", "required")
    else:
        p = (
            c.mapping(
                patient,
                "patient",
                (
                    "sex",
                    "birth_date",
                    "pregnant",
                    "breastfeeding",
                    "can_become_pregnant",
                    "pregnancy_trimester",
                ),
            )
            or {}
        )
        fields["sex"] = (
            c.choice(p["sex"], "patient.sex", SEXES) if "sex" in p else c.fail("patient.sex", "required")
        )
        birth = (
            c.date(p["birth_date"], "patient.birth_date")
            if "birth_date" in p
            else c.fail("patient.birth_date", "required")
        )
        if birth and as_of:
            if birth > as_of:
                c.fail("patient.birth_date", "must not be after as_of")
            elif age_on(birth, as_of) > MAX_AGE_YEARS:
                c.fail("patient.birth_date", f"gives an age over {MAX_AGE_YEARS} years")
        fields["birth_date"] = birth
        for flag in ("pregnant", "breastfeeding", "can_become_pregnant"):
            if flag in p:
                fields[flag] = c.boolean(p[flag], f"patient.{flag}")
        for flag in ("pregnant", "breastfeeding", "can_become_pregnant"):
            if fields.get("sex") == "male" and fields.get(flag):
                c.fail(f"patient.{flag}", "cannot be true for sex male")
        if fields.get("pregnant") and fields.get("can_become_pregnant") is False:
            c.fail("patient.can_become_pregnant", "cannot be false when pregnant is true")
        if "pregnancy_trimester" in p:
            trimester = c.choice(p["pregnancy_trimester"], "patient.pregnancy_trimester", TRIMESTERS)
            if trimester is not None and not fields.get("pregnant"):
                c.fail("patient.pregnancy_trimester", "needs pregnant true")
            fields["pregnancy_trimester"] = trimester

    if "history" in top:
        h = (
            c.mapping(top["history"], "history", ("conditions", "medications", "allergies", "toxin_history"))
            or {}
        )
        if "conditions" in h:
            fields["conditions"] = c.id_list(
                h["conditions"], "history.conditions", by_id("conditions.toml"), "condition"
            )
        if "medications" in h:
            fields["medications"] = c.id_list(
                h["medications"], "history.medications", by_id("medications.toml"), "medication"
            )
        if "allergies" in h:
            fields["allergies"] = c.id_list(
                h["allergies"], "history.allergies", by_id("allergens.toml"), "allergy"
            )
        doses = []
        products = by_id("toxin_products.toml")
        for i, item in enumerate(c.items(h.get("toxin_history", []), "history.toxin_history")):
            path = f"history.toxin_history[{i}]"
            d = c.mapping(item, path, ("date", "product", "units", "indication", "area"))
            if d is None:
                continue
            for key in ("date", "product", "indication"):
                if key not in d:
                    c.fail(f"{path}.{key}", "required")
            when = c.date(d["date"], f"{path}.date") if "date" in d else None
            if when and as_of and when > as_of:
                c.fail(f"{path}.date", "must not be after as_of")
            product = d.get("product")
            if "product" in d and (
                not isinstance(product, str) or (product not in products and product != UNKNOWN_PRODUCT)
            ):
                c.fail(f"{path}.product", f'unknown product id {product!r} (or "{UNKNOWN_PRODUCT}")')
            units = None
            if d.get("units") is not None:  # null or absent: reported without units
                units = c.number(d["units"], f"{path}.units", 0, strictly_above=True)
                if units is not None and units > MAX_TOXIN_UNITS:
                    c.fail(f"{path}.units", f"must be at most {MAX_TOXIN_UNITS} (units of one day's dose)")
                    units = None
                if units is None:
                    continue
            area = d.get("area")
            if area is not None and area not in TOXIN_AREAS:
                c.fail(f"{path}.area", f"must be one of {', '.join(TOXIN_AREAS)}")
            indication = d.get("indication")
            if "indication" in d and (
                not isinstance(indication, str) or not indication.strip() or len(indication) > 100
            ):
                c.fail(f"{path}.indication", "must be a text of 1 to 100 characters")
            if (
                when
                and isinstance(product, str)
                and (product in products or product == UNKNOWN_PRODUCT)
                and isinstance(indication, str)
                and indication.strip()
                and (area is None or area in TOXIN_AREAS)
            ):
                doses.append(ToxinDose(when, product, units, indication.strip(), area))
        fields["toxin_history"] = tuple(sorted(doses, key=lambda t: t.date))

    if "hair" in top:
        allowed = (
            "daily_shedding",
            *HAIR_FLAGS,
            "pull_test_hairs",
            "norwood",
            "ludwig",
            "sinclair",
            "diagnosis",
            "prior_treatments",
        )
        h = c.mapping(top["hair"], "hair", allowed) or {}
        hair: dict = {}
        if "daily_shedding" in h:
            hair["daily_shedding"] = c.integer(h["daily_shedding"], "hair.daily_shedding", 0)
        for flag in HAIR_FLAGS:
            if flag in h:
                hair[flag] = c.boolean(h[flag], f"hair.{flag}")
        if "pull_test_hairs" in h:
            hair["pull_test_hairs"] = c.integer(h["pull_test_hairs"], "hair.pull_test_hairs", 0, 60)
        if "norwood" in h:
            hair["norwood"] = c.choice(h["norwood"], "hair.norwood", NORWOOD)
        if "ludwig" in h:
            hair["ludwig"] = c.choice(h["ludwig"], "hair.ludwig", LUDWIG)
        if "sinclair" in h:
            hair["sinclair"] = c.integer(h["sinclair"], "hair.sinclair", 1, 5)
        if "diagnosis" in h:
            given = h["diagnosis"]
            if isinstance(given, str):
                given = [given]
            if not isinstance(given, list) or not given:
                c.fail("hair.diagnosis", f"must be one of {', '.join(HAIR_DIAGNOSES)}, or a list of them")
            else:
                diagnoses = [c.choice(d, f"hair.diagnosis[{i}]", HAIR_DIAGNOSES) for i, d in enumerate(given)]
                hair["diagnoses"] = tuple(dict.fromkeys(d for d in diagnoses if d))
        hair_ids = tuple(t for t, row in by_id("treatments.toml").items() if row["area"] == "hair")
        fields["hair_prior_treatments"] = _prior(c, h.get("prior_treatments", []), "hair", hair_ids)
        fields["hair"] = {k: v for k, v in hair.items() if v is not None}

    if "skin" in top:
        s = c.mapping(top["skin"], "skin", ("acne", "seborrhea", "sebum", "prior_treatments", "scars")) or {}
        fields["skin_given"] = True
        if "acne" in s:
            a = (
                c.mapping(s["acne"], "skin.acne", ("gags", "gags_regions", "iga", "nodules", "scarring"))
                or {}
            )
            acne: dict = {}
            if "gags" in a:
                acne["gags"] = c.integer(a["gags"], "skin.acne.gags", 0, 44)
            if "gags_regions" in a:
                regions = c.mapping(a["gags_regions"], "skin.acne.gags_regions", tuple(GAGS_REGIONS)) or {}
                grades = {
                    r: c.integer(g, f"skin.acne.gags_regions.{r}", 0, 4)
                    for r, g in regions.items()
                    if r in GAGS_REGIONS
                }
                if all(g is not None for g in grades.values()) and grades:
                    computed = gags_score(grades)
                    if acne.get("gags") is not None and acne["gags"] != computed:
                        c.fail("skin.acne.gags", f"does not match gags_regions (which give {computed})")
                    acne["gags"] = computed
                    acne["gags_regions"] = grades
                    fields["gags_computed"] = True
            if "iga" in a:
                acne["iga"] = c.integer(a["iga"], "skin.acne.iga", 0, 4)
            if "nodules" in a:
                acne["nodules"] = c.integer(a["nodules"], "skin.acne.nodules", 0)
            if "scarring" in a:
                acne["scarring"] = c.boolean(a["scarring"], "skin.acne.scarring")
            fields["acne"] = {k: v for k, v in acne.items() if v is not None}
        if "seborrhea" in s:
            fields["seborrhea"] = c.choice(s["seborrhea"], "skin.seborrhea", SEBORRHEA)
        if "sebum" in s:
            readings = s["sebum"] if isinstance(s["sebum"], list) else [s["sebum"]]
            fields["sebum"] = tuple(
                v for i, r in enumerate(readings) if (v := c.number(r, f"skin.sebum[{i}]", 0)) is not None
            )
        acne_ids = tuple(t for t, row in by_id("treatments.toml").items() if row["area"] == "acne")
        fields["prior_treatments"] = _prior(c, s.get("prior_treatments", []), "skin", acne_ids)
        if "scars" in s:
            sc = (
                c.mapping(
                    s["scars"],
                    "skin.scars",
                    ("goodman_baron", "treatment_ongoing", "keloid_specialist_override"),
                )
                or {}
            )
            scars: dict = {}
            if "goodman_baron" in sc:
                scars["goodman_baron"] = c.integer(sc["goodman_baron"], "skin.scars.goodman_baron", 1, 4)
            for flag in ("treatment_ongoing", "keloid_specialist_override"):
                if flag in sc:
                    scars[flag] = c.boolean(sc[flag], f"skin.scars.{flag}")
            fields["scars"] = {k: v for k, v in scars.items() if v is not None}

    labs = []
    known = lab_tests()
    for i, item in enumerate(c.items(top.get("labs", []), "labs")):
        path = f"labs[{i}]"
        d = c.mapping(item, path, ("test", "value", "unit", "date", "ref_low", "ref_high"))
        if d is None:
            continue
        for key in ("test", "value", "unit", "date"):
            if key not in d:
                c.fail(f"{path}.{key}", "required")
        test = resolve_test(d.get("test")) if "test" in d else None
        if "test" in d and test is None:
            c.fail(f"{path}.test", f"unknown test {d.get('test')!r} (a Dermatox test id or its LOINC code)")
        value = c.number(d["value"], f"{path}.value", 0) if "value" in d else None
        if value is not None and value > MAX_LAB_VALUE:
            c.fail(f"{path}.value", f"must be at most {MAX_LAB_VALUE:g}")
            value = None
        when = c.date(d["date"], f"{path}.date") if "date" in d else None
        if when and as_of and when > as_of:
            c.fail(f"{path}.date", "must not be after as_of")
        unit = d.get("unit")
        refs = {k: c.number(d[k], f"{path}.{k}", 0) for k in ("ref_low", "ref_high") if k in d}
        if None not in refs.values() and refs.get("ref_low", 0) > refs.get("ref_high", float("inf")):
            c.fail(f"{path}.ref_low", "must not be above ref_high")
        if test and "unit" in d:
            try:
                to_canonical(known[test], 1.0, unit)
            except UnknownUnit as exc:
                c.fail(f"{path}.unit", str(exc))
                test = None
        if test and value is not None and when and isinstance(unit, str):
            labs.append(LabResult(i, test, value, unit, when, refs.get("ref_low"), refs.get("ref_high")))
    fields["labs"] = tuple(labs)

    # A hair diagnosis given among the history's conditions is a stated diagnosis too (never ignored)
    stated = [d for d in HAIR_DIAGNOSES if d in fields.get("conditions", ())]
    if stated:
        hair = dict(fields.get("hair") or {})
        hair["diagnoses"] = tuple(dict.fromkeys([*hair.get("diagnoses", ()), *stated]))
        fields["hair"] = hair
    if c.problems:
        raise CaseError(c.problems)
    return Case(as_of=as_of, **{k: v for k, v in fields.items() if v is not None})
