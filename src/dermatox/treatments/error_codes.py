"""Error codes of follow-ups and toxin sessions (treatments.actions, treatments.services).
The API documents every member (dermatox.error_codes)."""

from enum import StrEnum


class TreatmentCode(StrEnum):
    FOLLOW_UP_BOOKED = "follow_up_booked"
    SESSION_ENTERED_IN_ERROR = "session_entered_in_error"
    SESSION_SIGNED = "session_signed"
    WARNINGS_NOT_ACKNOWLEDGED = "warnings_not_acknowledged"
    PLAN_BLOCKED = "plan_blocked"
    NO_CORRECTION = "no_correction"
    STOCK_ALREADY_CORRECTED = "stock_already_corrected"
