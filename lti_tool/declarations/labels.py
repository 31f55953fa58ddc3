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

# The time zones a French-speaking centre offers first (mainland France, overseas, neighbours);
# the API takes any IANA name.
CENTRE_TIMEZONES = {
    "Europe/Paris": _l("France (mainland), Paris"), "America/Guadeloupe": _l("Guadeloupe"),
    "America/Martinique": _l("Martinique"), "America/Cayenne": _l("French Guiana"), "Indian/Reunion": _l("Réunion"),
    "Indian/Mayotte": _l("Mayotte"), "America/Miquelon": _l("Saint Pierre and Miquelon"),
    "Pacific/Noumea": _l("New Caledonia"), "Pacific/Tahiti": _l("French Polynesia (Tahiti)"),
    "Pacific/Wallis": _l("Wallis and Futuna"), "Europe/Brussels": _l("Belgium"), "Europe/Luxembourg": _l("Luxembourg"),
    "Europe/Zurich": _l("Switzerland"), "America/Toronto": _l("Canada (Quebec, Ontario)"), "UTC": "UTC",
}

# The AI log frozen into a submission: who answered, what for, how it ended.
AI_PROVIDER_LABELS = {
    "fake": _l("Demonstration (the tool's built-in fake model)"), "mistral": "Mistral AI",
    "openai": _l("OpenAI-compatible service"),
}
AI_CALL_PURPOSE_LABELS = {
    "exercise": _l("Exercise with the AI assistant"), "role_play": _l("Role play"),
    "prompt_transformation": _l("Prompt transformation"), "feedback_draft": _l("Draft of a trainer's comment"),
    "assistant": _l("AI assistant"), "test": _l("Connection test"),
}
AI_OUTCOME_LABELS = {
    "stopped": _l("stopped before the end; the part received is kept"), "timeout": _l("no answer in time"),
    "rate_limited": _l("the AI service was busy"), "unavailable": _l("the AI service could not be reached"),
    "circuit_open": _l("the AI service was paused after several failures"),
    "auth": _l("the AI service refused the centre's key"), "refused": _l("refused by the AI service's content filter"),
    "bad_config": _l("the AI assistant was not set up correctly"),
    "endpoint_refused": _l("the AI service was not allowed by the hosting rules"),
}
AI_MESSAGE_ROLE_LABELS = {"system": _l("Instructions sent to the AI"), "user": _l("Sent to the AI"),
                          "assistant": _l("The AI's answer")}
AI_FAILED = _l("failed")


def labels() -> dict[str, Any]:
    return {"tools": TOOL_LABELS, "purposes": PURPOSE_LABELS, "statuses": STATUS_LABELS, "flags": FLAG_LABELS,
            "ai_providers": AI_PROVIDER_LABELS, "ai_purposes": AI_CALL_PURPOSE_LABELS,
            "ai_outcomes": AI_OUTCOME_LABELS, "ai_roles": AI_MESSAGE_ROLE_LABELS, "ai_failed": AI_FAILED}


def with_labels(data: dict[str, Any]) -> dict[str, Any]:
    """An export row with its status and flags as the pages name them (JSON keeps the codes)."""
    data["status"] = str(STATUS_LABELS.get(data["status"], data["status"]))
    data["flags"] = ", ".join(str(FLAG_LABELS.get(flag, flag)) for flag in data["flags"])
    return data
