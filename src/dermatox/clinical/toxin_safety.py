"""The botulinum toxin safety rules: one rule set, used by the pathways and (next) by toxin plan checks.

Pure: the date is an argument. Sources: clinical.md §8.3 (label contraindications, neuromuscular disorders,
pregnancy, interactions, anticoagulants, retreatment interval) and §8.1 (excipients).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

RETREATMENT_DAYS = 84  # 12 weeks
INFECTION_BY_AREA = {"scalp": "active_infection_scalp", "face": "active_infection_face", "axilla": None}


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


def toxin_safety_by_area(
    *,
    as_of: dt.date,
    pregnant: bool,
    breastfeeding: bool,
    conditions: frozenset[str],
    medications: frozenset[str],
    allergies: frozenset[str],
    last_toxin_dates: list[dt.date],
    areas: tuple[str, ...],
) -> dict[str, ToxinSafety]:
    """The same rules for several injection areas at once: only the infection rule differs by area."""
    contraindications: list[Rule] = []
    if pregnant:
        contraindications.append(
            Rule(
                "pregnancy",
                "Pregnancy: no adequate human data; aesthetic toxin use is deferred.",
                ("bont_pregnancy",),
            )
        )
    if breastfeeding:
        contraindications.append(
            Rule(
                "breastfeeding",
                "Breastfeeding: excretion in breast milk unknown; aesthetic toxin use is deferred.",
                ("bont_pregnancy",),
            )
        )
    for condition, text in _CONDITIONS.items():
        if condition in conditions:
            contraindications.append(Rule(condition, text, ("bont_neuromuscular",)))
    for allergen, text in _ALLERGIES.items():
        if allergen in allergies:
            contraindications.append(
                Rule(f"allergy_{allergen}", text, ("bont_label_safety", "bont_products"))
            )
    cautions: list[Rule] = []
    if "aminoglycoside" in medications:
        cautions.append(
            Rule(
                "aminoglycoside",
                "Aminoglycoside: may potentiate the toxin's effect (impaired neuromuscular transmission).",
                ("bont_interactions",),
            )
        )
    for drug in ("anticoagulant", "antiplatelet"):
        if drug in medications:
            cautions.append(
                Rule(
                    drug,
                    f"{drug.capitalize()}: more bruising and bleeding at injection points; a precaution, not a contraindication (sources conflict).",
                    ("bont_anticoagulants",),
                )
            )
    if "cow_milk_protein" in allergies:
        cautions.append(
            Rule(
                "allergy_cow_milk_protein",
                "Cow's milk protein allergy: avoid abobotulinumtoxinA (Dysport), which may contain traces.",
                ("bont_products",),
            )
        )
    # Doses on earlier days start the 12-week interval; one given earlier today is the same visit
    # (e.g. glabellar and forehead lines treated together), not a retreatment.
    past = [d for d in last_toxin_dates if d < as_of]
    last = max(past) if past else None
    earliest = last + dt.timedelta(days=RETREATMENT_DAYS) if last else None
    not_before = earliest if earliest and earliest > as_of else None
    out = {}
    for area in areas:
        infection = INFECTION_BY_AREA[area]
        own = list(contraindications)
        if infection is not None and infection in conditions:
            own.append(
                Rule(
                    infection,
                    f"Active infection at the injection area ({area}): inject only after it has cleared.",
                    ("bont_label_safety",),
                )
            )
        out[area] = ToxinSafety(own, list(cautions), not_before, last)
    return out
