import unicodedata

# Turkish letters whose case-folding differs from the default (dotted/dotless i) are mapped first.
_TURKISH = str.maketrans({"İ": "i", "I": "i", "ı": "i"})


def fold(text: str) -> str:
    """Lower-case, accent-free, single-spaced text for searching names typed with or without diacritics."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_TURKISH).casefold())
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(stripped.split())
