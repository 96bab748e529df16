"""Error codes of booking, the calendar and reminders.
The API documents every member (dermatox.error_codes)."""

from enum import StrEnum


class ScheduleCode(StrEnum):
    NOT_BOOKED = "not_booked"
    BAD_TRANSITION = "bad_transition"
    NOT_OPEN = "not_open"
    APPEND_ONLY = "append_only"
