"""Error codes of sign-in and API tokens.
The API documents every member (dermatox.error_codes)."""

from enum import StrEnum


class AccountCode(StrEnum):
    TOKEN_REPLACED = "token_replaced"  # noqa: S105 (an error code, not a secret)
    TOKEN_INACTIVE = "token_inactive"  # noqa: S105
    SECOND_FACTOR_LOCKED = "second_factor_locked"
