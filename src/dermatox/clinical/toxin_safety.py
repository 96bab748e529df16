"""The botulinum toxin safety rules: one rule set, used by the pathways, the toxin plan check and CDS.

Pure: the date is an argument. Sources: clinical.md §8.3 (label contraindications, neuromuscular disorders,
pregnancy, anticoagulants, retreatment interval), §12.1b (excipients, R-BoNT-2/3), §12.4 (interactions).
Every rule's words are a message `safety.<id>` (data/messages/safety.toml): `Rule.msg` renders in any
language, `Rule.text` is the English wording for callers that print English.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from dermatox.clinical.messages import Msg
from dermatox.clinical.reference import by_id
from dermatox.clinical.toxin.limits import setting

RETREATMENT_DAYS = int(setting("interval").value)  # 12 weeks (toxin_limits.toml)
INFECTION_BY_AREA = {"scalp": "active_infection_scalp", "face": "active_infection_face", "axilla": None}
EXCIPIENT_ALLERGY = "excipient_allergy"
_NEUROMUSCULAR = ("myasthenia_gravis", "lambert_eaton", "als")
# §12.4: BoNT + aminoglycosides, anticholinergics, muscle relaxants: warn. §8.3: anticoagulants and
# antiplatelets are a precaution (sources conflict, X).
_INTERACTIONS = {
    "aminoglycoside": "bont_interactions",
    "anticholinergic": "bont_interactions",
    "muscle_relaxant": "bont_interactions",
    "anticoagulant": "bont_anticoagulants",
    "antiplatelet": "bont_anticoagulants",
}


@dataclass(frozen=True)
class Rule:
    id: str
    text: str  # English
    evidence: tuple[str, ...]
    msg: Msg  # the same words in any language: msg.text(lang)

    def text_in(self, lang: str) -> str:
        return self.msg.text(lang)


def rule(rule_id: str, evidence: tuple[str, ...], **params) -> Rule:
    msg = Msg(f"safety.{rule_id}", params)
    return Rule(rule_id, msg.text("en"), evidence, msg)


@dataclass
class ToxinSafety:
    contraindications: list[Rule] = field(default_factory=list)
    cautions: list[Rule] = field(default_factory=list)
    not_before: dt.date | None = None
    last_dose: dt.date | None = None


def excipient_allergy(product: str, allergies: frozenset[str]) -> Rule | None:
    """The patient is allergic to an excipient of this product (§12.1b R-BoNT-2/3): cow's milk protein
    blocks abobotulinumtoxinA only; human albumin blocks every product that contains it, not the albumin-free
    daxibotulinumtoxinA. An excipient the label was not retrieved for counts as present (U)."""
    row = by_id("toxin_products.toml")[product]
    listed = allergies & set(row["excipients"])
    unconfirmed = sorted(allergies & set(row.get("excipients_unconfirmed", ())) - listed)
    if not listed and not unconfirmed:
        return None
    note = {"id": "safety.excipient_unconfirmed", "params": {"allergens": unconfirmed}} if unconfirmed else ""
    return rule(
        EXCIPIENT_ALLERGY,
        ("bont_products", "bont_label_safety"),
        product=product,
        allergens=sorted(listed | set(unconfirmed)),
        note=note,
    )


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
    product: str | None = None,
) -> dict[str, ToxinSafety]:
    """The same rules for several injection areas at once: only the infection rule differs by area.

    `product` None (the pathways: no product chosen yet): a human-albumin allergy contraindicates and a
    cow's-milk allergy is a caution naming abobotulinumtoxinA. With a product (a plan): the product's own
    excipients decide (`excipient_allergy`, or nothing)."""
    contraindications: list[Rule] = []
    if pregnant:
        contraindications.append(rule("pregnancy", ("bont_pregnancy",)))
    if breastfeeding:
        contraindications.append(rule("breastfeeding", ("bont_pregnancy",)))
    contraindications += [rule(c, ("bont_neuromuscular",)) for c in _NEUROMUSCULAR if c in conditions]
    if "botulinum_toxin" in allergies:
        contraindications.append(rule("allergy_botulinum_toxin", ("bont_label_safety", "bont_products")))
    cautions = [rule(drug, (evidence,)) for drug, evidence in _INTERACTIONS.items() if drug in medications]
    if product is None:
        if (
            "human_albumin" in allergies
        ):  # R-BoNT-3: offer only albumin-free daxibotulinumtoxinA, so a caution
            cautions.append(rule("allergy_human_albumin", ("bont_label_safety", "bont_products")))
        if "cow_milk_protein" in allergies:
            cautions.append(rule("allergy_cow_milk_protein", ("bont_products",)))
    else:
        excipient = excipient_allergy(product, allergies)
        if excipient is not None:
            contraindications.append(excipient)
    # Doses on earlier days start the 12-week interval, whatever is unknown about them; one given earlier
    # today is the same visit (e.g. glabellar and forehead lines treated together), not a retreatment.
    past = [d for d in last_toxin_dates if d < as_of]
    last = max(past) if past else None
    earliest = last + dt.timedelta(days=RETREATMENT_DAYS) if last else None
    not_before = earliest if earliest and earliest > as_of else None
    out = {}
    for area in areas:
        infection = INFECTION_BY_AREA[area]
        own = list(contraindications)
        if infection is not None and infection in conditions:
            own.append(rule(infection, ("bont_label_safety",)))
        out[area] = ToxinSafety(own, list(cautions), not_before, last)
    return out


def toxin_safety_for_case(case, areas: tuple[str, ...], product: str | None = None) -> dict[str, ToxinSafety]:
    """The toxin rules for a parsed case (pathways.case.Case): the one call the pathways, the plan check and
    CDS share, so they read the same fields of the case."""
    return toxin_safety_by_area(
        as_of=case.as_of,
        pregnant=case.pregnant,
        breastfeeding=case.breastfeeding,
        conditions=case.conditions,
        medications=case.medications,
        allergies=case.allergies,
        last_toxin_dates=[dose.date for dose in case.toxin_history],
        areas=areas,
        product=product,
    )
