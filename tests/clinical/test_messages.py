"""The engine's words: every message has English and Turkish wording with the same placeholders, and the
renderer translates ids inside parameters (clinical/messages.py)."""

import pytest

from dermatox.clinical.messages import LANGS, M, catalogue, placeholders, render


def test_every_message_has_every_language_with_the_same_placeholders():
    problems = []
    for message_id, row in catalogue().items():
        missing = [lang for lang in LANGS if not str(row.get(lang, "")).strip()]
        if missing:
            problems.append(f"{message_id}: no {', '.join(missing)} wording")
            continue
        extra = set(row) - set(LANGS)
        if extra:
            problems.append(f"{message_id}: unknown keys {sorted(extra)}")
        wanted = placeholders(row["en"])
        for lang in LANGS[1:]:
            if placeholders(row[lang]) != wanted:
                problems.append(f"{message_id}: {lang} placeholders {placeholders(row[lang])} != en {wanted}")
    assert problems == []
    assert len(catalogue()) >= 10


def test_parameters_named_after_a_vocabulary_print_as_names_in_the_language():
    assert render("term.moderate", {}, "tr") == "orta"
    message = M("term.severe")
    assert message.text("en") == "severe" and message.text("tr") == "şiddetli"


def test_an_unknown_message_or_language_is_an_error():
    with pytest.raises(KeyError):
        render("reason.no_such_message")
    with pytest.raises(ValueError, match="lang"):
        render("term.mild", {}, "de")
