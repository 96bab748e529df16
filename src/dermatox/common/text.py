import unicodedata

# Turkish letters whose case-folding differs from the default (dotted/dotless i) are mapped first.
_TURKISH = str.maketrans({"İ": "i", "I": "i", "ı": "i"})


def fold(text: str) -> str:
    """Lower-case, accent-free, single-spaced text for searching names typed with or without diacritics."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_TURKISH).casefold())
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(stripped.split())


def without_control_chars(text: str) -> str:
    """One line of free text (a reason) as it may reach the database, an audit entry or a page: control and
    format characters (bidi overrides, escapes, NUL) removed, line breaks and tabs turned into single spaces."""
    kept = (" " if c.isspace() else c for c in text if c.isspace() or unicodedata.category(c)[0] != "C")
    return " ".join("".join(kept).split())
