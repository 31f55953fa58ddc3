"""What the pages and exports call the codes of declarations, in the interface's language."""

from __future__ import annotations

from typing import Any

from ..common.i18n import lazy_gettext as _l

TOOL_LABELS = {
    "tool_assistant": _l("This tool's AI assistant"), "chatgpt": "ChatGPT", "le_chat": "Le Chat (Mistral)",
    "copilot": "Microsoft Copilot", "gemini": "Gemini", "claude": "Claude", "perplexity": "Perplexity",
    "deepl": "DeepL", "other": _l("Other"),
}
PURPOSE_LABELS = {
    "ideas": _l("Finding ideas"), "structure": _l("Structuring"), "drafting": _l("Drafting"),
    "rewording": _l("Rewording"), "translation": _l("Translating"), "information": _l("Finding information"),
    "feedback": _l("Feedback on my work"), "other": _l("Other"),
}
# The roster's statuses (grading adds `graded`): "not started" is opened, nothing saved yet.
STATUS_LABELS = {"not_opened": _l("Never opened this activity"), "not_started": _l("Opened, not started"),
                 "in_progress": _l("Draft in progress"), "submitted": _l("Submitted, to grade"), "graded": _l("Graded")}
FLAG_LABELS = {
    "level_above_policy": _l("Level above the policy"),
    "ai_where_forbidden": _l("AI used where forbidden"),
    "required_missing": _l("Required checklist items missing"),
}


def labels() -> dict[str, Any]:
    return {"tools": TOOL_LABELS, "purposes": PURPOSE_LABELS, "statuses": STATUS_LABELS, "flags": FLAG_LABELS}


def with_labels(data: dict[str, Any]) -> dict[str, Any]:
    """An export row with its status and flags as the pages name them (JSON keeps the codes)."""
    data["status"] = str(STATUS_LABELS.get(data["status"], data["status"]))
    data["flags"] = ", ".join(str(FLAG_LABELS.get(flag, flag)) for flag in data["flags"])
    return data
