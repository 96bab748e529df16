"""What the plan rules return: a block or a warning with a stable id and the parameters of its message.

The words live in data/messages/plan.toml (catalogue id `plan.<id>`), or for the shared safety rules in
data/messages/safety.toml (`safety.<id>`). Parameters are plain JSON, so a result can be re-rendered later.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dermatox.clinical.messages import catalogue, render
from dermatox.clinical.pathways.case import UNKNOWN_PRODUCT, ToxinDose

BLOCK, WARNING = "block", "warning"


@dataclass(frozen=True)
class Finding:
    id: str
    kind: str  # block | warning
    params: dict = field(default_factory=dict)
    evidence: tuple[str, ...] = ()


def message_id(rule_id: str) -> str:
    """The catalogue id of a plan entry's id: the plan's own rules first, then the shared safety rules."""
    own = f"plan.{rule_id}"
    return own if own in catalogue() else f"safety.{rule_id}"


def entry(finding: Finding, lang: str) -> dict:
    return {
        "id": finding.id,
        "text": render(message_id(finding.id), finding.params, lang),
        "params": finding.params,
    }


def nested(message: str, **params) -> dict:
    """A message inside another message's parameters."""
    return {"id": message, "params": params}


def dose_text(dose: ToxinDose) -> dict:
    """A dose as words, saying what is unknown about it."""
    known_product = dose.product != UNKNOWN_PRODUCT
    if known_product and dose.units is not None:
        return nested("plan.dose", date=dose.date.isoformat(), units=dose.units, product=dose.product)
    if known_product:
        return nested("plan.dose_units_unknown", date=dose.date.isoformat(), product=dose.product)
    if dose.units is not None:
        return nested("plan.dose_product_unknown", date=dose.date.isoformat(), units=dose.units)
    return nested("plan.dose_unknown", date=dose.date.isoformat())


def unconfirmed_note(confidence: str) -> dict | str:
    """U thresholds are clinic-editable defaults, and their texts say so."""
    return nested("plan.unconfirmed_default") if confidence == "U" else ""


def indication_text(indication: str | None) -> dict | str:
    """A known indication in the reader's language; a clinic's own indication as the clinic wrote it."""
    if indication is None:
        return nested("plan.indication_unknown")
    known = f"plan.indication_{indication}"
    return nested(known) if known in catalogue() else indication


def sentences(messages: list[dict]) -> dict | str:
    """Several nested messages as one text, one sentence after the other."""
    if not messages:
        return ""
    if len(messages) == 1:
        return messages[0]
    return nested("plan.sentences", first=messages[0], rest=sentences(messages[1:]))
