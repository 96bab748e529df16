"""Error codes of toxin stock: lots and vials.
The API documents every member (dermatox.error_codes)."""

from enum import StrEnum


class StockCode(StrEnum):
    VIAL_NOT_OPEN = "vial_not_open"
    VIAL_EXPIRED = "vial_expired"
    VIAL_BEYOND_USE = "vial_beyond_use"
    VIAL_INSUFFICIENT = "vial_insufficient"
    VIAL_NOT_SEALED = "vial_not_sealed"
    VIAL_RETURN_REFUSED = "vial_return_refused"
