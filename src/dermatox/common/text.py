import re
import unicodedata

# Turkish letters whose case-folding differs from the default (dotted/dotless i) are mapped first.
_TURKISH = str.maketrans({"İ": "i", "I": "i", "ı": "i"})


def fold(text: str) -> str:
    """Lower-case, accent-free, single-spaced text for searching names typed with or without diacritics."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_TURKISH).casefold())
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(stripped.split())


# Characters no typed name or short text needs, which break the formats the text is later written into
# (a CSS string ends at \r or \f, a CSV row at \n; bidi overrides make "Ali" display as another name):
# C0/C1 controls, line and paragraph separators, bidirectional embeddings, overrides and isolates.
_BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


def _unwanted(char: str, keep: str) -> bool:
    return char not in keep and (unicodedata.category(char) in ("Cc", "Cs", "Zl", "Zp") or char in _BIDI)


def clean_line(text: str) -> str:
    """One-line text (names, lot numbers, body sites, codes): every unwanted character becomes a space,
    runs of spaces one, ends trimmed. Used by every write (`audit.writes.validate`), so REST, forms, the
    intake tablet, imports and FHIR store the same thing."""
    if not any(_unwanted(c, "") for c in text):
        return text
    return re.sub(" {2,}", " ", "".join(" " if _unwanted(c, "") else c for c in text)).strip()


def clean_multiline(text: str) -> str:
    """Free text that may run over lines (notes, reasons): line breaks (as \\n) and tabs stay, every other
    unwanted character goes."""
    if not any(_unwanted(c, "\n\t") for c in text):
        return text
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return "".join(" " if _unwanted(c, "\n\t") else c for c in text)


def clean_model_text(instance) -> None:
    """Clean every text field of a model instance in place: CharFields as one line, TextFields as
    multi-line text. Called before validation, so the length limits apply to what is stored."""
    from django.db import models

    for field in instance._meta.concrete_fields:
        value = getattr(instance, field.attname, None)
        if not isinstance(value, str) or not value:
            continue
        if isinstance(field, models.TextField):
            setattr(instance, field.attname, clean_multiline(value))
        elif isinstance(field, models.CharField):
            setattr(instance, field.attname, clean_line(value))
