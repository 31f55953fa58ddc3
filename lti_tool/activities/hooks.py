"""What the activity pages take from the areas built on top of activities.

declarations and grading import activities (the activity a link delivers, the learner's work),
so activities cannot import them. They hand activities what its pages need of theirs when their
blueprint is registered (`Blueprint.record_once`), and the pages call what was handed over:

- the AI-use policy (declarations, `set_ai_policy`): the policy that governs an assignment (shown
  on its page; its level sets the assistant's mode) and the centre's scale a trainer picks a level
  from when placing activities;
- panels (declarations, grading, `add_panels`): parts of the activity page shown before or after
  the activity's content (the policy, the checklist and the declaration form; the learner's grade;
  the trainer's summary of the assignment and its settings).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app

from ..lti.models import ResourceLink
from .models import Activity
from .services import ActivityPage

_POLICY = "lti_tool.activities.ai_policy"
_PANELS = "lti_tool.activities.panels"


@dataclass(frozen=True)
class AiPolicy:
    """How the area that owns AI-use policies gives them to activities.

    `of_activity(activity, link)`: the assignment's policy; its `level` has `code`, `label` and
    `mode` (the assistant's mode). `scale(platform_id)`: the centre's scale; `levels` (each with
    `code` and `label`), `level(code)` (None if not on the scale), `default_level`,
    `assistant_floor` (the lowest level at which the assistant works).
    `score_maximum(platform_id)`: the maximum score the centre places activities with (20 unless
    it chose another), which the picker starts from.
    """

    of_activity: Callable[[Activity, ResourceLink], Any]
    scale: Callable[[int], Any]
    score_maximum: Callable[[int], float]


@dataclass(frozen=True)
class Panel:
    """A part of the activity page: `template` is rendered with `panel` set to `values`, beside the
    page's own variables (launch, token, editable…); panels come in `order` before or after the
    activity's content. A placed module is shown in steps (activities.paging): the panels before
    the content show on its contents page, those after it (the checklist and the declaration) make
    its "hand in" step."""

    template: str
    values: Any
    before_content: bool = True
    order: int = 50


PanelMaker = Callable[[ActivityPage], list[Panel]]


def set_ai_policy(app: Flask, policy: AiPolicy) -> None:
    app.extensions[_POLICY] = policy


def ai_policy() -> AiPolicy:
    return current_app.extensions[_POLICY]


def add_panels(app: Flask, make: PanelMaker) -> None:
    """`make(page)` returns the panels of its area for an activity page (none: an empty list)."""
    app.extensions.setdefault(_PANELS, []).append(make)


def panels(page: ActivityPage) -> list[Panel]:
    """Every area's panels for `page`, in order."""
    found = [panel for make in current_app.extensions.get(_PANELS, []) for panel in make(page)]
    return sorted(found, key=lambda panel: panel.order)
