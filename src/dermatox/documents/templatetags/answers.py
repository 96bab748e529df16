import unicodedata

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
    """Text for a double-quoted CSS string inside <style> (page headers and footers). Raw text there: HTML
    escaping would print "&amp;". Letters, digits and spaces pass; control characters (\\r and \\f end a
    CSS string as \\n does) become spaces; every other character becomes a CSS hex escape, so nothing
    can close the string, the rule or the <style> element (issue 12 §1.2)."""
    return mark_safe("".join(_css_char(c) for c in str(value or "")))  # noqa: S308 - escaped per character


def _css_char(char: str) -> str:
    if char == " " or (char.isalnum() and char.isprintable()):
        return char
    if unicodedata.category(char) in ("Cc", "Cs", "Zl", "Zp"):
        return " "
    return f"\\{ord(char):X} "  # the trailing space ends the escape; CSS swallows it
