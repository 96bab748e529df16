from django import template
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from dermatox.clinical.demographics import age_on
from dermatox.web.labels import TOXIN_AREA_LABELS, display, is_turkish, label, measure_label
from dermatox.web.labels import region_label as _region_label

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
def region_label(region: str, area: str | None = None) -> str:
    """A map region's anatomical name in the active language: `{{ p.region|region_label:protocol.area }}`
    for a point (stored without its area), or a full id ("scalp:frontalis") alone."""
    return _region_label(region, area or None)


_NAMED = {
    "treatment": "treatments.toml",
    "medication": "medications.toml",
    "test": "lab_tests.toml",
    "product": "toxin_products.toml",
    "region": "map_regions.toml",
}


@register.filter
def name_of(item_id: str, kind: str) -> str:
    """The name of a reference id in the active language: `{{ t|name_of:"treatment" }}`."""
    return label(_NAMED[kind], item_id)


@register.filter
def names_of(item_ids, kind: str) -> str:
    """Several reference ids as names, comma-separated: `{{ r.after|names_of:"treatment" }}`."""
    return ", ".join(name_of(item_id, kind) for item_id in item_ids or ())


_REGULATORY = {
    "approved": _("Approved"),
    "approved_in_part": _("Approved in part"),
    "off_label": _("Off-label"),
    "investigational": _("Investigational"),
    "device": _("Device use"),
    "procedure": _("Procedure"),
    "not_approved": _("Not an approved drug"),
    "referral": _("Referral"),
}
_REGULATORY_BADGE = {
    "approved": "badge-ok",
    "approved_in_part": "badge-accent",
    "off_label": "badge-warn",
    "investigational": "badge-danger",
    "not_approved": "badge-warn",
}


@register.filter
def regulatory_label(status: str) -> str:
    return _REGULATORY.get(status, status)


@register.filter
def regulatory_badge(status: str) -> str:
    return _REGULATORY_BADGE.get(status, "")


@register.filter
def regulatory_note(rec: dict) -> str:
    """The treatments data's note on a recommendation's regulatory status, in the active language; none when
    the data now say otherwise than the (stored) recommendation."""
    from dermatox.clinical.reference import by_id

    row = by_id("treatments.toml").get(rec.get("treatment"))
    if row is None or row["regulatory"] != rec.get("regulatory"):
        return ""
    return row["regulatory_note_tr"] if is_turkish() else row["regulatory_note"]


_FLAG = {"low": _("low"), "normal": _("normal"), "high": _("high")}


@register.filter
def flag_label(flag: str | None) -> str:
    return _FLAG.get(flag, flag or "")


@register.filter
def toxin_dose_text(dose) -> str:
    """A toxin dose the patient reported at intake: date · area · product (· units), in words."""
    product = _("I don't know") if dose.product == "unknown" else name_of(dose.product, "product")
    parts = [
        formats.date_format(dose.given_on, "SHORT_DATE_FORMAT"),
        TOXIN_AREA_LABELS.get(dose.area, dose.area),
        product,
    ]
    if dose.units:
        parts.append(f"{num(dose.units)} U")
    return " · ".join(str(p) for p in parts)


@register.filter
def evidence_label(evidence_id: str) -> str:
    """A register entry as people cite it (first author and year, or the citation's opening words), never
    its id: "Kanti 2018", "EMA 2018 referral"."""
    from dermatox.clinical.reference import by_id

    row = by_id("evidence.toml").get(evidence_id)
    if row is None:
        return evidence_id
    citation = row["citation"]
    if row.get("year") and citation[:1].isupper() and " " in citation:
        author = citation.split(" ", 1)[0].rstrip(",.")
        if author.isalpha() and len(author) > 2:
            return f"{author} {row['year']}"
    words = citation.split(":")[0].split("(")[0].split()
    return " ".join(words[:4]).rstrip(",;.") + ("…" if len(words) > 4 else "")


@register.filter
def plan_text(item: dict, language: str | None = None) -> str:
    """A plan check's block, warning or acknowledged warning in the language (the reader's if not given)."""
    from django.utils.translation import get_language

    from dermatox.treatments.plan_text import plan_text as text

    return text(item, language or get_language())


@register.filter
def missing_text(item) -> str:
    """A "missing data" note of the case builder (or of a signed assessment) in the active language."""
    from dermatox.chart.case_builder import missing_text as text
    from dermatox.chart.case_builder import reader_lang

    return text(item, reader_lang())
