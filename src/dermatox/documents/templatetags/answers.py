from django import template
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

register = template.Library()

_WORDS = {
    "yes": _("Yes"),
    "no": _("No"),
    "unknown": _("Not sure"),
    "granted": _("Granted"),
    "refused": _("Refused"),
}


@register.filter
def answer(code):
    """A stored answer code in the reader's language."""
    return _WORDS.get(code, code or "—")


@register.filter
def css_string(value) -> str:
    """Text for a CSS string inside <style> (page headers and footers). Raw text there: HTML escaping would
    print "&amp;", so backslash, quote, newline and angle brackets get CSS escapes instead."""
    text = str(value or "").replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")
    return mark_safe(text.replace("<", "\\3C ").replace(">", "\\3E "))  # noqa: S308 - escaped above
