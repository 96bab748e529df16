"""Error codes of the intake form.
The API documents every member (dermatox.error_codes)."""

from enum import StrEnum


class IntakeCode(StrEnum):
    INTAKE_CLOSED = "intake_closed"
    INTAKE_NOT_SUBMITTED = "intake_not_submitted"
