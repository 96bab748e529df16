"""One recommendation under construction, and the precedence that turns its rules into one status.

Statuses: recommended, option, not_yet, defer, not_indicated, contraindicated.
Precedence: a treatment whose indication rules say not_indicated stays so; then contraindicated (a safety
rule, or the indication rule itself, e.g. finasteride for a woman who can become pregnant) > withheld
(not_indicated by a safety rule: outside the age range, scarring alopecia not yet seen) > defer > not_yet >
the base. Reasons are messages (clinical/messages.py): the output carries their ids, parameters and text.
"""

from __future__ import annotations

import datetime as dt
from functools import cache

from dermatox.clinical.messages import Msg
from dermatox.clinical.reference import by_id

STATUSES = ("recommended", "option", "not_yet", "defer", "not_indicated", "contraindicated")
AVAILABLE = ("recommended", "option", "not_yet", "defer")  # may be given now or later: fit for `after`


@cache
def _static(treatment: str) -> tuple[str, str | None, str, tuple[str, ...]]:
    info = by_id("treatments.toml")[treatment]
    return info["area"], info.get("regulatory"), info["evidence_level"], tuple(info["evidence"])


def catalogue_id(reason_id: str) -> str:
    """A reason id is its catalogue id without `reason.`; rules of other kinds keep theirs (safety.x)."""
    return reason_id if "." in reason_id else f"reason.{reason_id}"


def R(reason_id: str, **params) -> Msg:
    """A reason message (catalogue id reason.<reason_id>)."""
    return Msg(f"reason.{reason_id}", params)


class Rec:
    """What the rules say about one treatment; `status` applies the precedence."""

    __slots__ = (
        "after",
        "base",
        "contraindications",
        "defer_reason",
        "evidence",
        "not_before",
        "reasons",
        "static",
        "treatment",
        "withheld",
    )

    def __init__(self, treatment: str):
        self.treatment = treatment
        self.static = _static(treatment)
        self.base = "not_indicated"  # recommended | option | not_indicated | contraindicated
        self.reasons: list[Msg] = []
        self.evidence: list[str] = []
        self.contraindications: list[Msg] = []
        self.withheld: list[Msg] = []
        self.not_before: dt.date | None = None
        self.defer_reason: Msg | None = None
        self.after: list[str] = []

    def indicate(self, status: str, reason: Msg, *evidence: str) -> Rec:
        self.base = status
        self.reasons.append(reason)
        self.evidence.extend(evidence)
        return self

    def note(self, reason: Msg, *evidence: str) -> Rec:
        self.reasons.append(reason)
        self.evidence.extend(evidence)
        return self

    def contraindicate(self, reason: Msg, *evidence: str) -> Rec:
        if reason not in self.contraindications:
            self.contraindications.append(reason)
        self.evidence.extend(evidence)
        return self

    def withhold(self, reason: Msg, *evidence: str) -> Rec:
        """Not indicated for this patient by a safety rule, whatever the indication rules said."""
        if reason not in self.withheld:
            self.withheld.append(reason)
        self.evidence.extend(evidence)
        return self

    def defer(self, until: dt.date, reason: Msg, *evidence: str) -> Rec:
        self.not_before = until
        self.defer_reason = reason
        self.evidence.extend(evidence)
        return self

    def first(self, treatments: list[str], reason: Msg, *evidence: str) -> Rec:
        self.after = list(dict.fromkeys(treatments))
        self.reasons.append(reason)
        self.evidence.extend(evidence)
        return self

    @property
    def offered(self) -> bool:
        return self.status in ("recommended", "option")

    @property
    def status(self) -> str:
        if self.base == "not_indicated":
            return "not_indicated"
        if self.contraindications or self.base == "contraindicated":
            return "contraindicated"
        if self.withheld:
            return "not_indicated"
        if self.not_before is not None:
            return "defer"
        if self.after:
            return "not_yet"
        return self.base

    def messages(self) -> list[Msg]:
        status = self.status
        if status == "contraindicated":
            return [*self.contraindications, *self.reasons]
        if status == "not_indicated" and self.withheld:
            return [*self.withheld, *self.reasons]
        if status == "defer":
            return [self.defer_reason, *self.reasons]
        return list(self.reasons)

    def to_dict(self, lang: str = "en") -> dict:
        area, regulatory, level, own_evidence = self.static
        status = self.status
        messages: list[Msg] = []
        for m in self.messages():
            if m not in messages:
                messages.append(m)
        out = {
            "treatment": self.treatment,
            "area": area,
            "display": display_name(self.treatment, lang),
            "status": status,
            "reasons": [m.text(lang) for m in messages],
            "reason_ids": [m.id.removeprefix("reason.") for m in messages],
            "reason_params": [dict(m.params) for m in messages],
            "evidence": list(dict.fromkeys([*self.evidence, *own_evidence]))
            if self.evidence
            else list(own_evidence),
            "evidence_level": level,
        }
        if regulatory:
            out["regulatory"] = regulatory
        if status == "defer":
            out["not_before"] = self.not_before.isoformat()
        elif status == "not_yet":
            out["after"] = self.after
        return out


@cache
def display_name(treatment: str, lang: str) -> str:
    row = by_id("treatments.toml")[treatment]
    return row.get(f"display_{lang}", row["display"]) if lang != "en" else row["display"]
