from django import template
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
