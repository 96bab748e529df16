"""Pathways results and toxin plan checks -> CDS Hooks 2.0 cards. Pure: no Django.

Rules: one card per alert about a medicine the patient already takes (critical or warning, issue 11); one
card per treatment that is recommended, an option (info), not yet / deferred (warning) or contraindicated
(critical); one critical card per safety contraindication not already carried by a
contraindicated treatment's card (e.g. pregnancy for toxin that is not offered anyway); one warning card per
toxin caution. `summary` is at most 140 characters; `detail` is markdown with the reasons and the evidence
level in words; `source` cites the first evidence id (label, its URL, topic = the treatment). No links into
Dermatox: the EHR user may have no account here.
"""

from __future__ import annotations

import re
import uuid as uuid_module

from dermatox.cds.prefetch import TREATMENT_SYSTEM
from dermatox.clinical.reference import by_id

SUMMARY_MAX = 140
SOURCE_LABEL = "Dermatox evidence register"
LEVEL_WORDS = {
    "high": "high certainty (consistent randomised trials or a guideline's level 1)",
    "moderate": "moderate certainty",
    "low": "low certainty (small or uncontrolled studies)",
    "very_low": "very low certainty (uncontrolled series; controlled trials negative or absent)",
}
STATUS_WORDS = {
    "recommended": "recommended",
    "option": "an option",
    "not_yet": "not yet",
    "defer": "not now",
    "contraindicated": "contraindicated",
}
INDICATOR = {
    "recommended": "info",
    "option": "info",
    "not_yet": "warning",
    "defer": "warning",
    "contraindicated": "critical",
}
DISCLAIMER = "_Decision support from the Dermatox pathways engine: check against the patient before acting._"


def truncate(text: str, limit: int = SUMMARY_MAX) -> str:
    """At most `limit` characters, cut at a word boundary with an ellipsis when too long."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rfind(" ")]
    return cut.rstrip(" ,;:.-") + "…"


_ASIDE = re.compile(r"\s+\([^()]*\)")


def brief(text: str) -> str:
    """A plan check's sentence without its asides in parentheses (nested ones too), for a summary that must
    also name the order in 140 characters; the detail keeps the whole sentence."""
    previous = None
    while previous != text:
        previous, text = text, _ASIDE.sub("", text)
    return text


def _uuid(seed: str | None) -> str:
    return str(uuid_module.uuid5(uuid_module.NAMESPACE_URL, seed)) if seed else str(uuid_module.uuid4())


def source_for(evidence_ids: list[str], topic: tuple[str, str] | None = None) -> dict:
    """The first evidence id with a URL: label, url and (when given) the treatment as topic."""
    register = by_id("evidence.toml")
    known = [register[e] for e in evidence_ids if e in register]
    first = next((e for e in known if e.get("url")), None)
    source: dict = {"label": SOURCE_LABEL}
    if first is not None:
        source["url"] = first["url"]
    if topic is not None:
        source["topic"] = {"system": TREATMENT_SYSTEM, "code": topic[0], "display": topic[1]}
    return source


def _references(evidence_ids: list[str], limit: int = 3) -> list[str]:
    register = by_id("evidence.toml")
    lines = []
    for eid in evidence_ids:
        row = register.get(eid)
        if row is None:
            continue
        cite = row["citation"]
        lines.append(f"- {cite} ([link]({row['url']}))" if row.get("url") else f"- {cite}")
        if len(lines) == limit:
            break
    more = len([e for e in evidence_ids if e in register]) - len(lines)
    if more > 0:
        lines.append(f"- and {more} more in the Dermatox evidence register")
    return lines


def card(*, summary: str, indicator: str, detail: str, source: dict, seed: str | None = None) -> dict:
    return {
        "uuid": _uuid(seed),
        "summary": truncate(summary),
        "indicator": indicator,
        "detail": detail,
        "source": source,
    }


def recommendation_cards(result: dict, *, seed: str = "") -> list[dict]:
    """Cards for an `assess` result, most severe first."""
    cards = []
    treatments = {r["treatment"]: r for r in result["recommendations"]}
    carried: set[str] = set()
    for rec in result["recommendations"]:
        status = rec["status"]
        if status not in INDICATOR:
            continue
        if status == "contraindicated":
            carried.add(rec["treatment"])
        first_reason = rec["reasons"][0] if rec["reasons"] else ""
        summary = f"{rec['display']}: {STATUS_WORDS[status]}. {first_reason}"
        lines = [f"**{rec['display']}** is **{STATUS_WORDS[status]}** for this patient.", "", "Why:"]
        lines += [f"- {reason}" for reason in rec["reasons"]]
        if status == "defer":
            lines.append(f"- Not before {rec['not_before']}.")
        if status == "not_yet":
            after = ", ".join(treatments[t]["display"] if t in treatments else t for t in rec["after"])
            lines.append(f"- First: {after}.")
        level = LEVEL_WORDS.get(rec["evidence_level"], rec["evidence_level"])
        lines += ["", f"Evidence for this treatment: **{level}**.", "", "References:"]
        lines += _references(rec["evidence"])
        lines += ["", DISCLAIMER]
        cards.append(
            card(
                summary=summary,
                indicator=INDICATOR[status],
                detail="\n".join(lines),
                source=source_for(rec["evidence"], (rec["treatment"], rec["display"])),
                seed=f"{seed}|{rec['treatment']}|{status}" if seed else None,
            )
        )
    safety = result.get("safety", {})
    cards += alert_cards(safety.get("alerts", []), seed=seed)
    for kind, rules in (
        ("contraindication", safety.get("contraindications", [])),
        ("caution", safety.get("cautions", [])),
    ):
        for rule in rules:
            if kind == "contraindication" and set(rule["treatments"]) & carried:
                continue
            cards.append(_safety_card(kind, rule, treatments, seed))
    order = {"critical": 0, "warning": 1, "info": 2}
    return sorted(cards, key=lambda c: order[c["indicator"]])


def alert_cards(alerts: list[dict], *, seed: str = "") -> list[dict]:
    """One card per alert about what the patient already takes (issue 11: a teratogen in pregnancy, an
    interacting pair): critical or warning as the engine grades it, the medicines named, first in the list."""
    register = by_id("medications.toml")
    cards = []
    for alert in alerts:
        names = ", ".join(register[m]["display"] if m in register else m for m in alert["medications"])
        lines = [f"**{alert['text']}**", "", f"Current medicines: {names}.", "", "References:"]
        lines += _references(alert["evidence"])
        lines += ["", DISCLAIMER]
        cards.append(
            card(
                summary=alert["text"],
                indicator="critical" if alert["severity"] == "critical" else "warning",
                detail="\n".join(lines),
                source=source_for(alert["evidence"]),
                seed=f"{seed}|alert|{alert['id']}" if seed else None,
            )
        )
    return cards


def data_card(*, missing: list[str], ignored: list[str]) -> dict | None:
    """One info card naming what the prefetch lacked (not assumed normal) and what was not recognised."""
    if not missing and not ignored:
        return None
    parts = []
    if missing:
        parts.append(f"{len(missing)} item(s) missing")
    if ignored:
        parts.append(f"{len(ignored)} coded item(s) not recognised")
    lines = []
    if missing:
        lines += ["**Missing (not assumed normal):**"] + [f"- {m}" for m in missing] + [""]
    if ignored:
        lines += ["**Ignored (codes Dermatox does not map):**"] + [f"- {i}" for i in ignored[:20]]
        if len(ignored) > 20:
            lines.append(f"- and {len(ignored) - 20} more")
    return card(
        summary=f"Dermatox data check: {', '.join(parts)}.",
        indicator="warning" if missing else "info",
        detail="\n".join(lines),
        source={"label": "Dermatox CDS Hooks service (input mapping)"},
    )


# Plan-check ids that are not toxin-safety rules -> evidence ids in the register (the rule's own source).
PLAN_EVIDENCE = {
    "retreatment_interval": ["bont_retreatment_interval"],
    "above_label_maximum": ["bont_label_safety"],
    "off_label": ["bont_label_safety"],
    "units_not_interchangeable": ["bont_products"],
    "conversion_applied": ["bont_products"],
}


def plan_cards(check: dict, *, order_label: str, order_short: str = "", seed: str = "") -> list[dict]:
    """Cards for a `check_plan` result: every block is a critical card, every warning a warning card,
    whatever its id (one with no evidence found still makes its card, citing the plan check). The summary
    names the order it is about (`order_short`: product, dose, area), the detail the order in full.

    Evidence: the check's own `evidence` map (id -> evidence ids), else PLAN_EVIDENCE."""
    cards = []
    given = check.get("evidence") or {}
    for kind, indicator in (("blocks", "critical"), ("warnings", "warning")):
        for item in check[kind]:
            evidence = given.get(item["id"]) or PLAN_EVIDENCE.get(item["id"], [])
            word = "Blocked" if kind == "blocks" else "Warning"
            lines = [f"**{word}:** {order_label}.", "", f"- {item['text']}"]
            if evidence:
                lines += ["", "References:", *_references(evidence)]
            lines += ["", DISCLAIMER]
            source = source_for(evidence) if evidence else {"label": "Dermatox toxin plan check"}
            cards.append(
                card(
                    summary=f"{word} ({order_short or order_label}): {brief(item['text'])}",
                    indicator=indicator,
                    detail="\n".join(lines),
                    source=source,
                    seed=f"{seed}|{kind}|{item['id']}" if seed else None,
                )
            )
    return cards


def _safety_card(kind: str, rule: dict, treatments: dict, seed) -> dict:
    """A contraindication (critical) or a caution (warning) of the shared toxin rules, as a card."""
    names = ", ".join(treatments[t]["display"] for t in rule["treatments"] if t in treatments)
    if kind == "contraindication":
        summary, indicator, headline = (
            f"Contraindicated: {names}. {rule['text']}",
            "critical",
            f"**Contraindicated:** {names}.",
        )
    else:
        summary, indicator, headline = (
            f"Caution with {names}: {rule['text']}",
            "warning",
            f"**Caution** before {names}.",
        )
    detail = [
        headline,
        "",
        f"- {rule['text']}",
        "",
        "References:",
        *_references(rule["evidence"]),
        "",
        DISCLAIMER,
    ]
    return card(
        summary=summary,
        indicator=indicator,
        detail="\n".join(detail),
        source=source_for(rule["evidence"]),
        seed=f"{seed}|{kind}|{rule['id']}" if seed else None,
    )
