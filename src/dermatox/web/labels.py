"""Names of reference data (conditions, products, protocols, measures...) in the reader's language.

Every data row carries `display` and `display_tr`; this is the one place that picks between them, for the
active language or an explicit one (printed documents follow the patient's language, not the user's).
"""

from __future__ import annotations

from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

# Where a patient says a toxin dose was given (clinical/intake.py TOXIN_AREAS), in words.
TOXIN_AREA_LABELS = {"scalp": _("Scalp"), "face": _("Face"), "axilla": _("Armpits"), "other": _("Other")}


def is_turkish(language: str | None = None) -> bool:
    return (language or get_language() or "en").startswith("tr")


def display(row, language: str | None = None) -> str:
    """A row's name: a dict from the TOML files, or a dataclass such as ObservationType."""
    tr = is_turkish(language)
    if isinstance(row, dict):
        return row["display_tr"] if tr else row["display"]
    return row.display_tr if tr else row.display


def label(file_name: str, key: str, language: str | None = None) -> str:
    """The name of `key` in a data file, or the key itself when the file does not have it."""
    from dermatox.clinical.reference import by_id

    row = by_id(file_name).get(key)
    return key if row is None else display(row, language)


def measure_label(code: str, language: str | None = None) -> str:
    from dermatox.clinical.observations import observation_types

    kind = observation_types().get(code)
    return code if kind is None else display(kind, language)


def region_label(region: str, area: str | None = None, language: str | None = None) -> str:
    """A map region's anatomical name in the reader's language (see clinical/regions.py)."""
    from dermatox.clinical.regions import region_name

    return region_name(region, area, "tr" if is_turkish(language) else "en")
