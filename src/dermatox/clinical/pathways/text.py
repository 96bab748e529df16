"""A readable summary of an assessment (`dermatox assess --format text`)."""

from __future__ import annotations

STATUS_WORDS = {
    "recommended": "RECOMMENDED",
    "option": "option",
    "not_yet": "not yet",
    "defer": "defer",
    "not_indicated": "not indicated",
    "contraindicated": "CONTRAINDICATED",
}


def summary(result: dict) -> str:
    lines = [
        f"Assessment as of {result['as_of']} (age {result['age']}; engine {result['engine_version']})",
        "",
    ]
    if result["findings"]:
        lines.append("Findings")
        lines += [f"  - {f['text']}  [{', '.join(f['evidence'])}]" for f in result["findings"]]
        lines.append("")
    if result["labs"]:
        lines.append("Laboratory results")
        for lab in result["labs"]:
            flag = lab["flag"] or "no interval"
            lines.append(
                f"  - {lab['test']} {lab['value']:g} {lab['unit']} ({lab['date']}): {flag}. {lab['meaning']}"
            )
        lines.append("")
    workup = result["workup"]
    if workup["suggested"]:
        lines.append(f"Work-up suggested: {', '.join(workup['suggested'])}")
        lines.append(f"Missing results:   {', '.join(workup['missing']) or 'none'}")
        lines.append("")
    lines.append("Recommendations")
    for area in ("hair", "acne", "scar"):
        for rec in (r for r in result["recommendations"] if r["area"] == area):
            extra = ""
            if rec.get("not_before"):
                extra = f" (not before {rec['not_before']})"
            if rec.get("after"):
                extra = f" (after {', '.join(rec['after'])})"
            lines.append(
                f"  [{area}] {rec['treatment']}: {STATUS_WORDS[rec['status']]}{extra}; evidence {rec['evidence_level'].replace('_', ' ')}"
            )
            lines += [f"      {reason}" for reason in rec["reasons"]]
    safety = result["safety"]
    if safety["contraindications"] or safety["cautions"]:
        lines += ["", "Safety"]
        lines += [f"  ! {c['text']} ({', '.join(c['treatments'])})" for c in safety["contraindications"]]
        lines += [f"  ~ {c['text']} ({', '.join(c['treatments'])})" for c in safety["cautions"]]
    if safety["toxin_not_before"]:
        lines.append(f"  Next botulinum toxin dose not before {safety['toxin_not_before']}")
    if result["follow_up"]:
        lines += ["", "Follow-up"]
        lines += [
            f"  - {f['treatment']}: {f['review_after_weeks'][0]}-{f['review_after_weeks'][1]} weeks. {f['text']}"
            for f in result["follow_up"]
        ]
    return "\n".join(lines) + "\n"
