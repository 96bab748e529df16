"""Render every text of an assessment result in one language from the ids and parameters it carries, so
a stored result (a signed snapshot) reads in the reader's or the patient's language. Results written
before engine 2.0 carry no ids: their English texts are left as they are."""

from __future__ import annotations

from dermatox.clinical.messages import check_lang, render
from dermatox.clinical.pathways.recommendation import catalogue_id, display_name


def _text(kind: str, item: dict, lang: str) -> dict:
    if "params" not in item:
        return item
    return {**item, "text": render(item.get("msg") or f"{kind}.{item['id']}", item["params"], lang)}


def _rec(rec: dict, lang: str) -> dict:
    if "reason_ids" not in rec:
        return rec
    reasons = [
        render(catalogue_id(rid), params, lang)
        for rid, params in zip(rec["reason_ids"], rec["reason_params"], strict=True)
    ]
    return {**rec, "display": display_name(rec["treatment"], lang), "reasons": reasons}


def _lab(entry: dict, lang: str) -> dict:
    if "meaning_id" not in entry:
        return entry
    return {**entry, "meaning": render(f"lab.{entry['meaning_id']}", entry.get("params", {}), lang)}


def localize(result: dict, lang: str, *, recommendations: bool = True) -> dict:
    check_lang(lang)
    safety = result.get("safety", {})
    recs = result.get("recommendations", [])
    return {
        **result,
        "lang": lang,
        "assumptions": [_text("assumption", a, lang) for a in result.get("assumptions", [])],
        "findings": [_text("finding", f, lang) for f in result.get("findings", [])],
        "labs": [_lab(entry, lang) for entry in result.get("labs", [])],
        "recommendations": [_rec(r, lang) for r in recs] if recommendations else recs,
        "safety": {
            **safety,
            "alerts": [_text("alert", a, lang) for a in safety.get("alerts", [])],
            "contraindications": [_text("safety", c, lang) for c in safety.get("contraindications", [])],
            "cautions": [_text("safety", c, lang) for c in safety.get("cautions", [])],
        },
        "follow_up": [_text("follow_up", f, lang) for f in result.get("follow_up", [])],
    }
