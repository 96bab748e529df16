from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dermatox.clinical.demographics import birth_date_problem

phone_validator = RegexValidator(
    r"^\+?[0-9][0-9 ()\-]{4,30}$", _("must be digits, spaces, brackets or dashes, optionally starting with +")
)


def validate_birth_date(value):
    problem = birth_date_problem(value, timezone.localdate())
    if problem:
        raise ValidationError(_("Date of birth %(problem)s.") % {"problem": problem}, code="birth_date")


def validate_has_letter(value: str):
    if not any(ch.isalpha() for ch in value):
        raise ValidationError(_("must contain at least one letter"), code="no_letter")
