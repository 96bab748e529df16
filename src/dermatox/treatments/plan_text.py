"""The plan check's blocks and warnings in the reader's language, from the ids and parameters stored with them.

A stored plan check (and each acknowledgement) keeps the English text it was made with; when the message
catalogue has the entry's words (`plan.<id>`, else `safety.<id>`, clinical/messages.py) it is rendered again
in the language asked for. Older entries, or ones without parameters, keep their stored text.
"""

from __future__ import annotations

from dermatox.clinical.messages import LANGS, MessageError, catalogue, render

MESSAGE_KINDS = ("plan", "safety")  # the plan's own rules first, then the shared toxin safety rules


def lang_of(language: str | None) -> str:
    """A Django language code ("tr", "tr-tr", "en-us", None) as one of the engine's languages."""
    code = (language or "en").split("-")[0].lower()
    return code if code in LANGS else "en"


def plan_text(item: dict, language: str | None) -> str:
    """One block, warning or acknowledgement (`{id or warning, text, params?}`) in the language."""
    rule_id = item.get("id") or item.get("warning")
    if "params" in item and isinstance(item["params"], dict):
        for kind in MESSAGE_KINDS:
            message = f"{kind}.{rule_id}"
            if message in catalogue():
                try:
                    return render(message, item["params"], lang_of(language))
                except (KeyError, ValueError, IndexError, MessageError):
                    break  # parameters from an older wording: the stored text still says it
    return item.get("text", "")


def localized_plan(result: dict, language: str | None) -> dict:
    """A plan check result with its blocks and warnings in the language."""

    def again(items: list[dict]) -> list[dict]:
        return [{**item, "text": plan_text(item, language)} for item in items]

    return {
        **result,
        "blocks": again(result.get("blocks", [])),
        "warnings": again(result.get("warnings", [])),
    }
