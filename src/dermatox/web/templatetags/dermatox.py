from django import template
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from dermatox.clinical.demographics import age_on
from dermatox.web.labels import display, label, measure_label

register = template.Library()


@register.filter
def age(birth_date):
    return age_on(birth_date, timezone.localdate()) if birth_date else ""


@register.filter
def has_perm(perms, perm):
    return perm in (perms or ())


@register.filter
def is_wide(bound_field):
    """Text areas take the whole form width."""
    return bound_field.field.widget.__class__.__name__ == "Textarea"


@register.filter
def initials(patient):
    return f"{patient.given_name[:1]}{patient.family_name[:1]}".upper()


_UNIT_DISPLAY = {"um": "µm", "/cm2": "/cm²", "/d": _("/day"), "ug/cm2": "µg/cm²"}
_CODE_DISPLAY = {"yes": _("yes"), "no": _("no"), "unknown": _("unknown")}


@register.filter
def obs_label(code: str) -> str:
    return measure_label(code)


@register.filter
def obs_value(observation) -> str:
    if observation.value_number is None:
        return _CODE_DISPLAY.get(observation.value_code, observation.value_code)
    text = formats.localize(observation.value_number.normalize())
    unit = observation.unit
    if not unit or unit.startswith("{"):
        return text
    return f"{text} {_UNIT_DISPLAY.get(unit, unit)}"


_VOCABULARIES = {
    "condition": "conditions.toml",
    "medicationstatement": "medications.toml",
    "allergy": "allergens.toml",
}


@register.filter
def coded_text(record, language: str) -> str:
    """A coded history/medication/allergy entry in the reader's language; free text as it was written."""
    from dermatox.clinical.reference import by_id

    file_name = _VOCABULARIES.get(record._meta.model_name)
    row = by_id(file_name).get(record.code) if file_name and record.code else None
    if row is None:
        return (
            getattr(record, "text", None) or getattr(record, "name", None) or getattr(record, "substance", "")
        )
    return display(row, language)


@register.filter
def detail_text(detail: dict) -> str:
    """An audit entry's detail as `key: value; …` for people, not as Python or JSON syntax."""
    parts = []
    for key, value in (detail or {}).items():
        if value in ("", None, [], {}):
            continue
        if isinstance(value, list):
            # Long id lists stay in the entry (filterable, exportable); the page shows how many.
            long_ids = key.endswith("_ids") and len(value) > 3
            shown = f"{len(value)} records" if long_ids else ", ".join(map(str, value))
        else:
            shown = str(value)
        parts.append(f"{key}: {shown}")
    return "; ".join(parts)


@register.filter
def get(mapping, key):
    return mapping.get(key, "") if hasattr(mapping, "get") else ""


_STATUS = {
    "recommended": _("Recommended"),
    "option": _("Option"),
    "not_yet": _("Not yet"),
    "defer": _("Defer"),
    "not_indicated": _("Not indicated"),
    "contraindicated": _("Contraindicated"),
}
_LEVEL = {"high": _("high"), "moderate": _("moderate"), "low": _("low"), "very_low": _("very low")}
_VERDICT = {
    "supported": _("Supported"),
    "partly": _("Partly true"),
    "unsupported": _("Unsupported"),
    "wrong": _("Wrong"),
}


@register.filter
def status_label(status):
    return _STATUS.get(status, status)


@register.filter
def level_label(level):
    return _LEVEL.get(level, level)


@register.filter
def verdict_label(verdict):
    return _VERDICT.get(verdict, verdict)


@register.filter
def num(value):
    """A quantity without trailing zeros: 5.000 -> 5, 0.600 -> 0.6."""
    from decimal import Decimal, InvalidOperation

    try:
        return f"{Decimal(str(value)).normalize():f}"
    except (InvalidOperation, ValueError):
        return value


@register.filter
def question_label(question, language):
    return question.label(language)


@register.filter
def item_choices(items, names):
    """Record items ("condition:als") as (value, name) choices."""
    return [(item, names.get(item, item)) for item in items]


@register.filter
def unit_label(unit: str) -> str:
    return _UNIT_DISPLAY.get(unit, unit)


@register.filter
def get_item(mapping, key):
    """A dict value by key, falling back to the key itself (for labels of ids)."""
    return mapping.get(key, key) if hasattr(mapping, "get") else key


@register.filter
def protocol_label(protocol: str, language: str) -> str:
    return label("toxin_protocols.toml", protocol, language)


@register.filter
def condition_label(code: str, language: str) -> str:
    return label("conditions.toml", code, language)


@register.filter
def region_label(region: str) -> str:
    """Map region ids (e.g. "vertex_left") as words; the ids are the maps' own names."""
    return region.replace("_", " ").capitalize()


@register.filter
def plan_text(item: dict, language: str | None = None) -> str:
    """A plan check's block, warning or acknowledged warning in the language (the reader's if not given)."""
    from django.utils.translation import get_language

    from dermatox.treatments.plan_text import plan_text as text

    return text(item, language or get_language())
