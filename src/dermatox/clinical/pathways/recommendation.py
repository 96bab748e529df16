"""One recommendation under construction, and the precedence that turns its rules into one status.

Statuses: recommended, option, not_yet, defer, not_indicated, contraindicated.
Precedence: contraindicated > defer > not_yet > the rest; a treatment that is not_indicated stays so.
"""

from __future__ import annotations

import datetime as dt
from functools import cache

from dermatox.clinical.reference import by_id

STATUSES = ("recommended", "option", "not_yet", "defer", "not_indicated", "contraindicated")


@cache
def _static(treatment: str) -> tuple[str, str, str, tuple[str, ...]]:
    info = by_id("treatments.toml")[treatment]
    return info["area"], info["display"], info["evidence_level"], tuple(info["evidence"])


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
    )

    def __init__(self, treatment: str):
        self.treatment = treatment
        self.static = _static(treatment)
        self.base = "not_indicated"  # recommended | option | not_indicated: what the indication rules say
        self.reasons: list[str] = []
        self.evidence: list[str] = []
        self.contraindications: list[str] = []
        self.not_before: dt.date | None = None
        self.defer_reason = ""
        self.after: list[str] = []

    def indicate(self, status: str, reason: str, *evidence: str) -> Rec:
        self.base = status
        self.reasons.append(reason)
        self.evidence.extend(evidence)
        return self

    def note(self, reason: str, *evidence: str) -> Rec:
        self.reasons.append(reason)
        self.evidence.extend(evidence)
        return self

    def contraindicate(self, reason: str, *evidence: str) -> Rec:
        self.contraindications.append(reason)
        self.evidence.extend(evidence)
        return self

    def defer(self, until: dt.date, reason: str, *evidence: str) -> Rec:
        self.not_before = until
        self.defer_reason = reason
        self.evidence.extend(evidence)
        return self

    def first(self, treatments: list[str], reason: str, *evidence: str) -> Rec:
        self.after = list(dict.fromkeys(treatments))
        self.reasons.append(reason)
        self.evidence.extend(evidence)
        return self

    @property
    def status(self) -> str:
        if self.base == "not_indicated":
            return "not_indicated"
        if self.contraindications:
            return "contraindicated"
        if self.not_before is not None:
            return "defer"
        if self.after:
            return "not_yet"
        return self.base

    def to_dict(self) -> dict:
        area, display, level, own_evidence = self.static
        status = self.status
        reasons = self.reasons
        if status == "contraindicated":
            reasons = self.contraindications + reasons
        elif status == "defer":
            reasons = [self.defer_reason, *reasons]
        out = {
            "treatment": self.treatment,
            "area": area,
            "display": display,
            "status": status,
            "reasons": list(reasons),
            "evidence": list(dict.fromkeys([*self.evidence, *own_evidence]))
            if self.evidence
            else list(own_evidence),
            "evidence_level": level,
        }
        if status == "defer":
            out["not_before"] = self.not_before.isoformat()
        elif status == "not_yet":
            out["after"] = self.after
        return out
