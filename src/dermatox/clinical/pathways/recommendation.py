"""One recommendation under construction, and the precedence that turns its rules into one status.

Statuses: recommended, option, not_yet, defer, not_indicated, contraindicated.
Precedence: contraindicated > defer > not_yet > the rest; a treatment that is not_indicated stays so.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from dermatox.clinical.reference import by_id

STATUSES = ("recommended", "option", "not_yet", "defer", "not_indicated", "contraindicated")


@dataclass
class Rec:
    treatment: str
    base: str = "not_indicated"  # recommended | option | not_indicated: what the indication rules say
    reasons: list[str] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)
    contraindications: list[str] = field(default_factory=list)
    not_before: dt.date | None = None
    defer_reason: str = ""
    after: list[str] = field(default_factory=list)

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
        info = by_id("treatments.toml")[self.treatment]
        status = self.status
        reasons = list(self.reasons)
        if status == "contraindicated":
            reasons = self.contraindications + reasons
        elif status == "defer":
            reasons = [self.defer_reason, *reasons]
        evidence = list(dict.fromkeys([*self.evidence, *info["evidence"]]))
        out = {
            "treatment": self.treatment,
            "area": info["area"],
            "display": info["display"],
            "status": status,
            "reasons": reasons,
            "evidence": evidence,
            "evidence_level": info["evidence_level"],
        }
        if status == "defer":
            out["not_before"] = self.not_before.isoformat()
        if status == "not_yet":
            out["after"] = self.after
        return out
