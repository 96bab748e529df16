"""Who a treatment is for, by the patient alone (age, sex, stated diagnosis): one rule set that the
pathways and the toxin plan check (`not_indicated_by_pathway`) both read. Ages are data (age_limits.toml)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from dermatox.clinical.messages import Msg
from dermatox.clinical.reference import load

AGA_ONLY = ("botulinum_scalp",)  # studied only in androgenetic alopecia (clinical.md §12.8c)


@dataclass(frozen=True)
class AgeLimit:
    id: str
    treatment: str
    bound: str  # min | max
    value: int
    population: str  # all | male | female
    action: str  # contraindicated | not_indicated
    source: str
    confidence: str


@cache
def age_limits() -> dict[str, tuple[AgeLimit, ...]]:
    out: dict[str, list[AgeLimit]] = {}
    for row in load("age_limits.toml"):
        limit = AgeLimit(
            row["id"],
            row["item"],
            row["bound"],
            int(row["value"]),
            row["population"],
            row["action"],
            row["source"],
            row["confidence"],
        )
        out.setdefault(limit.treatment, []).append(limit)
    return {k: tuple(v) for k, v in out.items()}


def age_range(treatment: str, sex: str) -> tuple[int | None, int | None]:
    """The labelled or studied range (not_indicated bounds) for this sex: (lowest age, highest age)."""
    limits = [
        lim
        for lim in age_limits().get(treatment, ())
        if lim.population in ("all", sex) and lim.action == "not_indicated"
    ]
    low = max((lim.value for lim in limits if lim.bound == "min"), default=None)
    high = min((lim.value for lim in limits if lim.bound == "max"), default=None)
    return low, high


def outside_age(treatment: str, age: int, sex: str) -> tuple[str, Msg] | None:
    """(action, reason) when the age is outside the treatment's limits; the strictest action wins."""
    hits = [
        lim
        for lim in age_limits().get(treatment, ())
        if lim.population in ("all", sex)
        and ((lim.bound == "min" and age < lim.value) or (lim.bound == "max" and age > lim.value))
    ]
    if not hits:
        return None
    hard = [lim for lim in hits if lim.action == "contraindicated"]
    if hard:
        lim = hard[0]
        return "contraindicated", Msg(
            "reason.age_contraindicated",
            {
                "age": age,
                "limit": lim.value,
                "treatment": treatment,
                "bound": {"id": f"part.age_{lim.bound}", "params": {}},
                "note": {"id": "part.clinic_default", "params": {}} if lim.confidence in ("U", "X") else "",
            },
        )
    low, high = age_range(treatment, sex)
    unconfirmed = any(lim.confidence in ("U", "X") for lim in hits)
    return "not_indicated", Msg(
        "reason.age_range",
        {
            "age": age,
            "low": low if low is not None else 0,
            "high": high if high is not None else 120,
            # U rows say they are clinic-editable defaults wherever they are shown (issue 11)
            "note": {"id": "part.clinic_default", "params": {}} if unconfirmed else "",
        },
    )


def pathway_eligibility(case, treatment: str) -> list[Msg]:
    """Why this patient is outside the pathway's eligibility for a toxin treatment (empty: eligible).
    Only patient-level criteria; the clinical indication (pattern stage, seborrhoea) is the pathway's."""
    reasons: list[Msg] = []
    if treatment in ("botulinum_scalp", "botulinum_intradermal") and case.age < 18:
        reasons.append(Msg("reason.aesthetic_bont_under_18", {"age": case.age}))
    if treatment == "botulinum_scalp":
        if case.sex == "female":
            reasons.append(Msg("reason.scalp_bont_men_only", {}))
        from dermatox.clinical.pathways.hair import pattern_stage

        diagnoses = case.hair_diagnoses
        # telogen effluvium with a pattern stage is also androgenetic alopecia (§12.7: both may coexist)
        staged = set(diagnoses) <= {"telogen_effluvium"} and case.hair and pattern_stage(case.hair)
        from dermatox.clinical.pathways.hair import scarring_suspected

        if scarring_suspected(case):  # stated or signs: no procedures until the specialist has seen it
            reasons.append(Msg("reason.scarring_no_procedures", {}))
        if diagnoses and "androgenetic_alopecia" not in diagnoses and not staged:
            reasons.append(Msg("reason.scalp_bont_aga_only", {"terms": list(diagnoses)}))
    if not reasons:
        hit = outside_age(treatment, case.age, case.sex)
        if hit:
            reasons.append(hit[1])
    return reasons
