"""The plan check's blocks and warnings in the reader's language, from the ids and parameters stored with them.

A stored plan check (and each acknowledgement) keeps the English text it was made with; when the message
catalogue has the entry's words (`plan.<id>`, else `safety.<id>`, clinical/messages.py) it is rendered again
in the language asked for. Older entries, or ones without parameters, keep their stored text.
"""

from __future__ import annotations

from dermatox.clinical.messages import MessageError, catalogue, engine_lang, render
from dermatox.clinical.toxin.findings import message_id


def plan_text(item: dict, language: str | None) -> str:
    """One block, warning or acknowledgement (`{id or warning, text, params?}`) in the language."""
    rule_id = item.get("id") or item.get("warning")
    message = message_id(rule_id) if rule_id else None
    if message in catalogue() and isinstance(item.get("params"), dict):
        try:
            return render(message, item["params"], engine_lang(language))
        except (KeyError, ValueError, IndexError, MessageError):
            pass  # parameters from an older wording: the stored text still says it
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
