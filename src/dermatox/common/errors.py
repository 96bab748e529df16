"""One exception hierarchy with machine-readable codes, mapped once at the edge.

Services and selectors raise these; the web layer turns them into field messages or a 404,
the CLI into an exit status, a future API into `{message, code, fields}`.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from django.core.exceptions import ValidationError


class CommonCode(StrEnum):
    """The codes every domain shares; each domain's own are in its `error_codes` module."""

    ERROR = "error"
    NOT_FOUND = "not_found"
    PERMISSION_DENIED = "permission_denied"
    INVALID = "invalid"
    CONFLICT = "conflict"
    BAD_REQUEST = "bad_request"
    UNAUTHENTICATED = "unauthenticated"
    INSUFFICIENT_SCOPE = "insufficient_scope"
    RATE_LIMITED = "rate_limited"
    REQUEST_TOO_LARGE = "request_too_large"
    NO_DELETE = "no_delete"
    STORED_FILE_UNREADABLE = "stored_file_unreadable"


class DermatoxError(Exception):
    code = CommonCode.ERROR
    http_status = 400  # what the REST and FHIR edges answer

    def __init__(
        self, message: str, *, code: StrEnum | None = None, fields: Mapping[str, list[str]] | None = None
    ):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.fields = dict(fields or {})

    def as_dict(self) -> dict:
        return {"message": self.message, "code": self.code, "fields": self.fields}


class NotFound(DermatoxError):
    """Also raised for records of another clinic: existence must not leak."""

    code = CommonCode.NOT_FOUND
    http_status = 404


class PermissionDenied(DermatoxError):
    code = CommonCode.PERMISSION_DENIED
    http_status = 403


class InvalidInput(DermatoxError):
    code = CommonCode.INVALID

    @classmethod
    def from_fields(cls, fields: Mapping[str, list[str]]) -> InvalidInput:
        """Every field's problems at once; the message names each field ("start: …; end: …")."""
        return cls(summarise(fields), fields=fields)

    @classmethod
    def from_validation_error(cls, exc: ValidationError) -> InvalidInput:
        if hasattr(exc, "error_dict"):
            fields = {
                name: [str(m) for e in errors for m in e.messages] for name, errors in exc.error_dict.items()
            }
        else:
            fields = {"__all__": list(exc.messages)}
        return cls.from_fields(fields)


def summarise(fields: Mapping[str, list[str]]) -> str:
    return "; ".join(f"{name}: {' '.join(str(m) for m in messages)}" for name, messages in fields.items())


class Conflict(DermatoxError):
    code = CommonCode.CONFLICT
    http_status = 409


class TooManyRequests(DermatoxError):
    """Over a rate limit; the edge answers 429 with `Retry-After: <retry_after>` (seconds)."""

    code = CommonCode.RATE_LIMITED
    http_status = 429

    def __init__(self, message: str, *, retry_after: int):
        super().__init__(message)
        self.retry_after = max(1, int(retry_after))


class RequestTooLarge(DermatoxError):
    """A body over DATA_UPLOAD_MAX_MEMORY_SIZE: refused before it is read."""

    code = CommonCode.REQUEST_TOO_LARGE
    http_status = 413
