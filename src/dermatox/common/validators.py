"""Field validators shared by every app's models, so forms, services and the CLI apply the same rules."""

import datetime as dt

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

EARLIEST_YEAR = 1900
LATEST_YEAR = 2100


def validate_plausible_date(value):
    """Dates a clinic can mean: between 1900 and 2100 (also keeps datetimes clear of overflow)."""
    day = value.date() if isinstance(value, dt.datetime) else value
    if not EARLIEST_YEAR <= day.year <= LATEST_YEAR:
        raise ValidationError(
            _("must be between %(a)s and %(b)s") % {"a": EARLIEST_YEAR, "b": LATEST_YEAR},
            code="implausible_date",
        )


def validate_not_future(value):
    validate_plausible_date(value)
    now = timezone.now() if isinstance(value, dt.datetime) else timezone.localdate()
    if value > now:
        raise ValidationError(_("must not be in the future"), code="future")
