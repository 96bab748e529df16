"""Patient aftercare instructions printed after a toxin session (data: `data/aftercare.toml`).

Every item carries a confidence flag (C confirmed by a source, S secondary source only, U unverified or
clinic practice) and its source URLs. A U item must say so in its own words (see `HEDGES`), so a convention
is never printed as if it were a finding. The file is validated once per path; every error names the item
and the field.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from dermatox.clinical.reference import DATA_DIR, ReferenceDataError, by_id

AFTERCARE_FILE = DATA_DIR / "aftercare.toml"
KINDS = ("urgent", "expect", "do", "avoid", "review")  # also the print order within a protocol
CONFIDENCE = ("C", "S", "U")
ALL_PROTOCOLS = "*"
SOURCE_SEPARATOR = " ; "
REQUIRED = ("id", "protocols", "kind", "text", "text_tr", "confidence", "source")
OPTIONAL = ("note",)
# A U item's text must contain one of these (lower-case match), in each language, so that the printed
# sentence itself says the advice is convention or unmeasured.
HEDGES = {
    "text": (
        "many clinics",
        "some clinics",
        "little evidence",
        "no evidence",
        "not been studied",
        "not been tested",
        "clinic practice",
        "is not known",
    ),
    "text_tr": (
        "birçok klinik",
        "bazı klinikler",
        "kanıt azdır",
        "az kanıt",
        "kanıt yoktur",
        "araştırılmamıştır",
        "test edilmemiştir",
        "klinik uygulaması",
        "bilinmemektedir",
    ),
}


@dataclass(frozen=True)
class AftercareItem:
    id: str
    kind: str
    text: str
    confidence: str
    source: str

    @property
    def sources(self) -> tuple[str, ...]:
        return tuple(part.strip() for part in self.source.split(SOURCE_SEPARATOR) if part.strip())


@dataclass(frozen=True)
class Aftercare:
    version: int | str
    disclaimer: dict[str, str]  # language -> text
    items: tuple[dict, ...]


def _text(row: dict, field: str, where: str) -> str:
    value = row.get(field)
    if not isinstance(value, str) or not value.strip():
        what = "Turkish text" if field == "text_tr" else "text"
        raise ReferenceDataError(f"{where}.{field}: {what} is required (non-empty string)")
    return value


def validate(data: dict, *, protocol_ids: Iterable[str], where: str = "aftercare.toml") -> tuple[dict, ...]:
    """Check a parsed aftercare file; return its items. Raises ReferenceDataError naming item and field."""
    known = set(protocol_ids)
    if not isinstance(data.get("version"), int | str) or isinstance(data.get("version"), bool):
        raise ReferenceDataError(f"{where}: top-level 'version' is required")
    for field in ("disclaimer", "disclaimer_tr"):
        _text(data, field, f"{where}: top-level")
    rows = data.get("item")
    if not isinstance(rows, list) or not rows:
        raise ReferenceDataError(f"{where}: no [[item]] tables")

    seen: set[str] = set()
    last_rank: dict[str, tuple[int, str]] = {}  # protocol -> (rank, item id) of the last item printed for it
    for index, row in enumerate(rows):
        item_id = row.get("id")
        if not isinstance(item_id, str) or not item_id:
            raise ReferenceDataError(f"{where}: item #{index + 1}.id is required")
        at = f"{where}: item {item_id!r}"
        if item_id in seen:
            raise ReferenceDataError(f"{at}.id: duplicate id")
        seen.add(item_id)
        unknown = set(row) - set(REQUIRED) - set(OPTIONAL)
        if unknown:
            raise ReferenceDataError(f"{at}: unknown field(s) {sorted(unknown)}")
        for field in ("text", "text_tr"):
            _text(row, field, at)
        if row["text_tr"].strip() == row["text"].strip():
            raise ReferenceDataError(f"{at}.text_tr: is the English text, not a Turkish one")
        if row.get("kind") not in KINDS:
            raise ReferenceDataError(f"{at}.kind: {row.get('kind')!r} is not one of {', '.join(KINDS)}")
        confidence = row.get("confidence")
        if confidence not in CONFIDENCE:
            raise ReferenceDataError(f"{at}.confidence: {confidence!r} is not one of {', '.join(CONFIDENCE)}")
        source = row.get("source")
        if not isinstance(source, str):
            raise ReferenceDataError(f"{at}.source: required (URL(s) separated by ' ; ', or \"\")")
        parts = [part.strip() for part in source.split(SOURCE_SEPARATOR) if part.strip()]
        if any(not part.startswith(("https://", "http://")) for part in parts):
            raise ReferenceDataError(f"{at}.source: each source must be a URL, separated by ' ; '")
        if confidence in ("C", "S") and not parts:
            raise ReferenceDataError(f"{at}.source: confidence {confidence} needs a source URL")
        if confidence == "U":
            for field, hedges in HEDGES.items():
                if not any(hedge in row[field].lower() for hedge in hedges):
                    raise ReferenceDataError(
                        f"{at}.{field}: a U item must say it is unverified or clinic practice "
                        f"(e.g. {hedges[0]!r}, {hedges[-1]!r})"
                    )
        if "note" in row and not isinstance(row["note"], str):
            raise ReferenceDataError(f"{at}.note: must be a string")
        protocols = row.get("protocols")
        if not isinstance(protocols, list) or not protocols or not all(isinstance(p, str) for p in protocols):
            raise ReferenceDataError(f'{at}.protocols: a non-empty list of protocol ids (or ["*"])')
        if ALL_PROTOCOLS in protocols and len(protocols) > 1:
            raise ReferenceDataError(f"{at}.protocols: '*' must stand alone")
        bad = sorted(set(protocols) - known - {ALL_PROTOCOLS})
        if bad:
            raise ReferenceDataError(f"{at}.protocols: unknown protocol id(s) {bad}")
        rank = KINDS.index(row["kind"])
        for protocol in known if protocols == [ALL_PROTOCOLS] else protocols:
            previous = last_rank.get(protocol)
            if previous and previous[0] > rank:
                raise ReferenceDataError(
                    f"{at}.kind: {row['kind']!r} comes after {KINDS[previous[0]]!r} item {previous[1]!r} "
                    f"for protocol {protocol!r}; order is {', '.join(KINDS)}"
                )
            last_rank[protocol] = (rank, item_id)
    return tuple(rows)


def _protocol_ids() -> frozenset[str]:
    return frozenset(by_id("toxin_protocols.toml"))


@cache
def load_aftercare(path: Path = AFTERCARE_FILE) -> Aftercare:
    """The validated file (cached per path: treat the result as read-only)."""
    try:
        with Path(path).open("rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ReferenceDataError(f"{Path(path).name}: not valid TOML ({exc})") from exc
    items = validate(data, protocol_ids=_protocol_ids(), where=Path(path).name)
    return Aftercare(
        version=data["version"],
        disclaimer={"en": data["disclaimer"], "tr": data["disclaimer_tr"]},
        items=items,
    )


def _language(language: str) -> str:
    return language.strip().lower().replace("_", "-").split("-")[0]


def aftercare_for(protocol_id: str, language: str, *, path: Path | None = None) -> list[AftercareItem]:
    """Items for one toxin protocol, in print order (urgent, expect, do, avoid, review).

    `language` is a code such as "en", "tr" or "tr-TR"; text falls back to English when the file has no
    text in that language.
    """
    if protocol_id not in _protocol_ids():
        raise ReferenceDataError(f"aftercare: unknown protocol {protocol_id!r}")
    aftercare = load_aftercare(Path(path) if path is not None else AFTERCARE_FILE)
    lang = _language(language)
    field = "text" if lang == "en" else f"text_{lang}"
    return [
        AftercareItem(
            id=row["id"],
            kind=row["kind"],
            text=row.get(field) or row["text"],
            confidence=row["confidence"],
            source=row["source"],
        )
        for row in aftercare.items
        if row["protocols"] == [ALL_PROTOCOLS] or protocol_id in row["protocols"]
    ]


def aftercare_disclaimer(language: str, *, path: Path | None = None) -> str:
    aftercare = load_aftercare(Path(path) if path is not None else AFTERCARE_FILE)
    return aftercare.disclaimer.get(_language(language), aftercare.disclaimer["en"])
