"""Turkish is complete, and the compiled catalogue the app loads is the one in the .po (no stale .mo)."""

import ast
import gettext
import re
from pathlib import Path

LOCALE = Path(__file__).resolve().parent.parent / "src" / "dermatox" / "locale"
PO = LOCALE / "tr" / "LC_MESSAGES" / "django.po"
MO = LOCALE / "tr" / "LC_MESSAGES" / "django.mo"
PLACEHOLDER = re.compile(r"%\(\w+\)s|%s|\{\{.*?\}\}")


def entries():
    """(flags, msgctxt, msgid, msgid_plural, [msgstr...]) for every entry after the header."""
    blocks = PO.read_text(encoding="utf-8").split("\n\n")
    for block in blocks:
        flags, fields, current = "", {}, None
        for line in block.splitlines():
            if line.startswith("#,"):
                flags += line
            elif line.startswith("#"):
                continue
            elif line.startswith('"'):
                fields[current] += ast.literal_eval(line)
            else:
                key, _, rest = line.partition(" ")
                current = key
                fields[key] = ast.literal_eval(rest)
        if fields.get("msgid"):
            strs = [v for k, v in sorted(fields.items()) if k.startswith("msgstr")]
            yield flags, fields.get("msgctxt"), fields["msgid"], fields.get("msgid_plural"), strs


def test_every_string_is_translated_and_none_is_fuzzy():
    found = list(entries())
    assert len(found) > 700
    assert [e[2] for e in found if "fuzzy" in e[0]] == []
    assert [e[2] for e in found if not all(e[4])] == []


def test_placeholders_survive_translation():
    for _flags, _ctx, msgid, _plural, strs in entries():
        for text in strs:
            assert sorted(PLACEHOLDER.findall(text)) == sorted(PLACEHOLDER.findall(msgid)), msgid


def test_the_compiled_catalogue_matches_the_po():
    with MO.open("rb") as fh:
        catalog = gettext.GNUTranslations(fh)
    for _flags, ctx, msgid, plural, strs in entries():
        if plural:
            assert catalog.ngettext(msgid, plural, 1) == strs[0], msgid
        elif ctx:
            assert catalog.pgettext(ctx, msgid) == strs[0], msgid
        else:
            assert catalog.gettext(msgid) == strs[0], msgid
