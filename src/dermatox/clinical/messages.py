"""The engine's words: every text the clinical engine returns lives in `data/messages/<kind>.toml` with an
English and a Turkish wording and the same `{placeholders}`. The engine keeps ids and parameters; `render`
turns them into the reader's language, so a stored result can be shown in another language later.

Catalogue id = `<kind>.<id>` (the file name is the kind: reason, finding, safety, alert, lab, plan,
follow_up, assumption, term). Parameters are plain JSON values. A parameter is translated by its name:
`treatment(s)`, `test(s)`, `medication(s)`, `condition(s)`, `allergen(s)`, `product(s)`, `region(s)`, `observation(s)` and
`term(s)` (or any name ending in `_<that>`) hold ids that print as their display name in the language; a
value `{"id": "<kind>.<id>", "params": {...}}` is a nested message; a list prints its items joined.
"""

from __future__ import annotations

import json
import string
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

LANGS = ("en", "tr")
DEFAULT_LANG = "en"
MESSAGE_DIR = Path(__file__).parent / "data" / "messages"
# parameter name (or its last `_` part) -> the data file whose rows print as display / display_tr
_VOCABULARIES = {
    "treatment": "treatments.toml",
    "test": "lab_tests.toml",
    "medication": "medications.toml",
    "condition": "conditions.toml",
    "allergen": "allergens.toml",
    "product": "toxin_products.toml",
    "region": "map_regions.toml",
    "observation": "observation_types.toml",
}
_JOIN = {"en": (", ", " and "), "tr": (", ", " ve ")}


class MessageError(KeyError):
    pass


@dataclass(frozen=True)
class Msg:
    """A text not yet in any language: a catalogue id and its parameters."""

    id: str
    params: Mapping = field(default_factory=dict)

    def __hash__(self) -> int:
        return hash((self.id, json.dumps(self.params, sort_keys=True, default=str)))

    def text(self, lang: str = DEFAULT_LANG) -> str:
        return render(self.id, self.params, lang)

    def as_dict(self) -> dict:
        return {"id": self.id, "params": dict(self.params)}


def M(message_id: str, **params) -> Msg:
    return Msg(message_id, params)


@cache
def catalogue() -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for path in sorted(MESSAGE_DIR.glob("*.toml")):
        with path.open("rb") as fh:
            for key, row in tomllib.load(fh).items():
                out[f"{path.stem}.{key}"] = row
    return out


def placeholders(template: str) -> set[str]:
    return {name.split(".")[0].split("[")[0] for _, name, _, _ in string.Formatter().parse(template) if name}


def engine_lang(language: str | None) -> str:
    """A Django language code ("tr", "tr-tr", "en-us", None) as one of the engine's languages."""
    code = (language or DEFAULT_LANG).split("-")[0].lower()
    return code if code in LANGS else DEFAULT_LANG


def check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise ValueError(f"lang: must be one of {', '.join(LANGS)}")
    return lang


def render(message_id: str, params: Mapping | None = None, lang: str = DEFAULT_LANG) -> str:
    if not params:
        return _plain(message_id, lang)
    row = catalogue().get(message_id)
    if row is None:
        raise MessageError(f"no message {message_id!r} in clinical/data/messages")
    values = {key: _value(key, value, lang) for key, value in params.items()}
    return row[check_lang(lang)].format_map(values)


@cache
def _plain(message_id: str, lang: str) -> str:
    """A message without parameters (most reasons): rendered once per language."""
    row = catalogue().get(message_id)
    if row is None:
        raise MessageError(f"no message {message_id!r} in clinical/data/messages")
    return row[check_lang(lang)].format_map({})


@cache
def _vocabulary(key: str) -> str | None:
    last = key.rsplit("_", 1)[-1]
    for name in (key, last):
        singular = name[:-1] if name.endswith("s") else name
        if singular in _VOCABULARIES or singular == "term":
            return singular
    return None


def display(kind: str, item_id: str, lang: str = DEFAULT_LANG) -> str:
    """The name of a vocabulary id (treatment, test, ...) or a term, in the language."""
    if kind == "term":
        return render(f"term.{item_id}", {}, lang)
    from dermatox.clinical.reference import by_id

    row = by_id(_VOCABULARIES[kind]).get(item_id)
    if row is None:
        return item_id
    if lang != "en" and row.get(f"display_{lang}"):
        return row[f"display_{lang}"]
    return row.get("display", item_id)


def join(items: list[str], lang: str = DEFAULT_LANG) -> str:
    comma, last = _JOIN[lang]
    if len(items) <= 1:
        return "".join(items)
    return comma.join(items[:-1]) + last + items[-1]


def _value(key: str, value, lang: str):
    if isinstance(value, Mapping) and "id" in value:
        return render(value["id"], value.get("params", {}), lang)
    kind = _vocabulary(key)
    if isinstance(value, list | tuple):
        items = [_value(key, item, lang) for item in value]
        return join([str(i) for i in items], lang)
    if kind and isinstance(value, str):
        return display(kind, value, lang)
    return value
