"""A readable summary of an assessment (`dermatox assess --format text [--lang tr]`)."""

from __future__ import annotations

from dermatox.clinical.messages import display, render


def _t(key: str, lang: str, **params) -> str:
    return render(f"text.{key}", params, lang)


def summary(result: dict, lang: str = "en") -> str:
    lines = [_t("title", lang, as_of=result["as_of"], age=result["age"], engine=result["engine_version"]), ""]
    alerts = result["safety"].get("alerts", [])
    if alerts:
        lines.append(_t("alerts", lang))
        lines += [f"  !! [{_t(a['severity'], lang)}] {a['text']}" for a in alerts]
        lines.append("")
    if result.get("assumptions"):
        lines.append(_t("assumptions", lang))
        lines += [f"  - {a['text']}" for a in result["assumptions"]]
        lines.append("")
    if result["findings"]:
        lines.append(_t("findings", lang))
        lines += [f"  - {f['text']}  [{', '.join(f['evidence'])}]" for f in result["findings"]]
        lines.append("")
    if result["labs"]:
        lines.append(_t("labs", lang))
        for lab in result["labs"]:
            flag = _t(f"flag_{lab['flag']}" if lab["flag"] else "flag_none", lang)
            name = display("test", lab["test"], lang)
            lines.append(
                f"  - {name} {lab['value']:g} {lab['unit']} ({lab['date']}): {flag}. {lab['meaning']}"
            )
        lines.append("")
    workup = result["workup"]
    if workup["suggested"]:
        names = [display("test", t, lang) for t in workup["suggested"]]
        missing = [display("test", t, lang) for t in workup["missing"]]
        lines.append(f"{_t('workup', lang)}: {', '.join(names)}")
        lines.append(f"{_t('missing', lang)}: {', '.join(missing) or _t('none', lang)}")
        lines.append("")
    lines.append(_t("recommendations", lang))
    for area in ("hair", "acne", "scar"):
        for rec in (r for r in result["recommendations"] if r["area"] == area):
            extra = ""
            if rec.get("not_before"):
                extra = " (" + _t("not_before", lang, date=rec["not_before"]) + ")"
            if rec.get("after"):
                extra = " (" + _t("after", lang, treatments=rec["after"]) + ")"
            level = _t(f"level_{rec['evidence_level']}", lang)
            lines.append(
                f"  [{_t(area, lang)}] {rec['display']}: {_t(rec['status'], lang)}{extra}; {_t('evidence', lang)} {level}"
            )
            lines += [f"      {reason}" for reason in rec["reasons"]]
    safety = result["safety"]
    if safety["contraindications"] or safety["cautions"]:
        lines += ["", _t("safety", lang)]
        for mark, key in (("!", "contraindications"), ("~", "cautions")):
            for c in safety[key]:
                names = ", ".join(display("treatment", t, lang) for t in c["treatments"])
                lines.append(f"  {mark} {c['text']} ({names})")
    if safety["toxin_not_before"]:
        lines.append("  " + _t("toxin_not_before", lang, date=safety["toxin_not_before"]))
    if result["follow_up"]:
        lines += ["", _t("follow_up", lang)]
        for f in result["follow_up"]:
            weeks = f"{f['review_after_weeks'][0]}-{f['review_after_weeks'][1]}"
            lines.append(
                f"  - {display('treatment', f['treatment'], lang)}: {_t('weeks', lang, weeks=weeks)} {f['text']}"
            )
    return "\n".join(lines) + "\n"
