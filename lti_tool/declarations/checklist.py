"""The learner's AI-use checklist: the built-in template, in three moments.

A checklist is a list of items ``{"id", "moment", "text", "required"}``. The built-in items have
translated texts (rendered in the reader's language); items a trainer or an administrator wrote
are stored with their own text.
"""

from __future__ import annotations

import re

from typing import Any

from ..common.i18n import lazy_gettext as _l

MOMENTS = ("before", "during", "after")
MOMENT_LABELS = {
    "before": _l("Before you start"),
    "during": _l("While you work"),
    "after": _l("Once the work is finished"),
}

# Written from the source's learner checklist; "required" by default where it holds whether or
# not AI was used.
BUILT_IN = (
    ("before.allowed", "before", False,
     _l("I checked that the AI tools I plan to use are allowed for this work.")),
    ("before.frame", "before", True,
     _l("I understand what the AI policy of this work lets me do, and what it does not.")),
    ("during.support", "during", False,
     _l("AI only supports my thinking: the final text carries my own ideas and my own words.")),
    ("during.sources", "during", False,
     _l("The sources an AI gave me exist, and I cite them correctly.")),
    ("during.critical", "during", False,
     _l("I read the AI's answers critically and spotted what was wrong, biased or harmful.")),
    ("during.context", "during", False,
     _l("I linked the AI's answers to what we saw in training: notions, instructions, the required framework.")),
    ("during.documented", "during", False,
     _l("I noted how I used AI: which tool, which prompts.")),
    ("during.confidential", "during", True,
     _l("I gave the AI no confidential, personal or copyrighted information.")),
    ("after.explain", "after", True,
     _l("I can explain my conclusions and justify my choices without the help of AI.")),
    ("after.checked", "after", False,
     _l("I can say which sources I used and how I checked the information.")),
)


def built_in_template() -> list[dict[str, Any]]:
    return [{"id": item_id, "moment": moment, "text": str(text), "required": required, "built_in": True}
            for item_id, moment, required, text in BUILT_IN]


_BUILT_IN_TEXT = {item_id: text for item_id, _moment, _required, text in BUILT_IN}


def render(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Items with their text in the current language (built-in items keep being translated
    until someone rewords them)."""
    rendered = []
    for item in items:
        text = item.get("text") or ""
        if item.get("built_in") and item["id"] in _BUILT_IN_TEXT:
            text = str(_BUILT_IN_TEXT[item["id"]])
        rendered.append({**item, "text": text})
    return rendered


def by_moment(items: list[dict[str, Any]]) -> list[tuple[str, Any, list[dict[str, Any]]]]:
    return [(moment, MOMENT_LABELS[moment], [i for i in items if i["moment"] == moment]) for moment in MOMENTS]


def normalise_edit(items: list[dict[str, Any]], previous: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A checklist as edited by a trainer or an admin: ids kept for known items (so ticks stay
    attached), new ids for new ones; an item whose text changed is no longer "built in"."""
    known = {item["id"]: item for item in previous}
    used: set[str] = set()
    result = []
    for index, item in enumerate(items):
        item_id = item.get("id") or ""
        if item_id not in known or item_id in used:
            item_id = _new_id(item["moment"], used | set(known))
        used.add(item_id)
        old = known.get(item_id)
        # One line, whatever the text area let through; no-break spaces (French typography) stay.
        text = re.sub(r"[ \t\r\n]+", " ", item["text"]).strip()
        built_in = bool(old and old.get("built_in") and text == render([old])[0]["text"])
        result.append({"id": item_id, "moment": item["moment"], "text": text,
                       "required": bool(item.get("required")), "built_in": built_in})
    return result


def _new_id(moment: str, taken: set[str]) -> str:
    n = 1
    while f"{moment}.c{n}" in taken:
        n += 1
    return f"{moment}.c{n}"
