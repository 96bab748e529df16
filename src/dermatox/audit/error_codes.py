"""Error codes of the audit trail.
The API documents every member (dermatox.error_codes)."""

from enum import StrEnum


class AuditCode(StrEnum):
    AUDIT_APPEND_ONLY = "audit_append_only"
