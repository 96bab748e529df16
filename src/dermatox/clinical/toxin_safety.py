"""The botulinum toxin safety rules: one rule set, used by the pathways and (next) by toxin plan checks.

Pure: the date is an argument. Sources: clinical.md §8.3 (label contraindications, neuromuscular disorders,
pregnancy, interactions, anticoagulants, retreatment interval) and §8.1 (excipients).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

RETREATMENT_DAYS = 84  # 12 weeks
INFECTION_BY_AREA = {"scalp": "active_infection_scalp", "face": "active_infection_face"}


@dataclass(frozen=True)
class Rule:
    id: str
    text: str
    evidence: tuple[str, ...]


@dataclass
class ToxinSafety:
    contraindications: list[Rule] = field(default_factory=list)
    cautions: list[Rule] = field(default_factory=list)
    not_before: dt.date | None = None
    last_dose: dt.date | None = None


_CONDITIONS = {
    "myasthenia_gravis": "Myasthenia gravis: higher risk of serious toxin effects (neuromuscular junction disorder).",
    "lambert_eaton": "Lambert-Eaton syndrome: higher risk of serious toxin effects (neuromuscular junction disorder).",
    "als": "Amyotrophic lateral sclerosis: higher risk of serious toxin effects (motor neuron disease).",
}
_ALLERGIES = {
    "botulinum_toxin": "Allergy to botulinum toxin: hypersensitivity to any botulinum toxin product contraindicates.",
    "human_albumin": "Allergy to human albumin: an excipient of most botulinum toxin type A products.",
}


def toxin_safety(
    *,
    as_of: dt.date,
    pregnant: bool,
    breastfeeding: bool,
    conditions: frozenset[str],
    medications: frozenset[str],
    allergies: frozenset[str],
    last_toxin_dates: list[dt.date],
    area: str,
) -> ToxinSafety:
    """Contraindications, cautions and the earliest date for the next dose, for injections in `area`
    (scalp | face)."""
    result = ToxinSafety()
    if pregnant:
        result.contraindications.append(
            Rule(
                "pregnancy",
                "Pregnancy: no adequate human data; aesthetic toxin use is deferred.",
                ("bont_pregnancy",),
            )
        )
    if breastfeeding:
        result.contraindications.append(
            Rule(
                "breastfeeding",
                "Breastfeeding: excretion in breast milk unknown; aesthetic toxin use is deferred.",
                ("bont_pregnancy",),
            )
        )
    for condition, text in _CONDITIONS.items():
        if condition in conditions:
            result.contraindications.append(Rule(condition, text, ("bont_neuromuscular",)))
    for allergen, text in _ALLERGIES.items():
        if allergen in allergies:
            result.contraindications.append(
                Rule(f"allergy_{allergen}", text, ("bont_label_safety", "bont_products"))
            )
    infection = INFECTION_BY_AREA[area]
    if infection in conditions:
        result.contraindications.append(
            Rule(
                infection,
                f"Active infection at the injection area ({area}): inject only after it has cleared.",
                ("bont_label_safety",),
            )
        )
    if "aminoglycoside" in medications:
        result.cautions.append(
            Rule(
                "aminoglycoside",
                "Aminoglycoside: may potentiate the toxin's effect (impaired neuromuscular transmission).",
                ("bont_interactions",),
            )
        )
    for drug in ("anticoagulant", "antiplatelet"):
        if drug in medications:
            result.cautions.append(
                Rule(
                    drug,
                    f"{drug.capitalize()}: more bruising and bleeding at injection points; a precaution, not a contraindication (sources conflict).",
                    ("bont_anticoagulants",),
                )
            )
    if "cow_milk_protein" in allergies:
        result.cautions.append(
            Rule(
                "allergy_cow_milk_protein",
                "Cow's milk protein allergy: avoid abobotulinumtoxinA (Dysport), which may contain traces.",
                ("bont_products",),
            )
        )
    past = [d for d in last_toxin_dates if d <= as_of]
    if past:
        result.last_dose = max(past)
        earliest = result.last_dose + dt.timedelta(days=RETREATMENT_DAYS)
        if earliest > as_of:
            result.not_before = earliest
    return result
