"""Every error code an API answer can carry, gathered from the domains' enums: the OpenAPI `Error.code`
lists them, and tests/test_error_codes.py fails when code raises one that is not here."""

from __future__ import annotations

from enum import StrEnum

from dermatox.accounts.error_codes import AccountCode
from dermatox.audit.error_codes import AuditCode
from dermatox.common.errors import CommonCode
from dermatox.intake.error_codes import IntakeCode
from dermatox.inventory.error_codes import StockCode
from dermatox.scheduling.error_codes import ScheduleCode
from dermatox.treatments.error_codes import TreatmentCode

DOMAINS: tuple[type[StrEnum], ...] = (
    CommonCode,
    AccountCode,
    AuditCode,
    IntakeCode,
    StockCode,
    ScheduleCode,
    TreatmentCode,
)


def all_codes() -> list[str]:
    """Every documented code, once, in a stable order."""
    seen: dict[str, None] = {}
    for domain in DOMAINS:
        for member in domain:
            seen.setdefault(member.value, None)
    return list(seen)
