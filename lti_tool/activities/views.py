"""Landing pages of a launch: learner activity page, trainer view, deep-linking picker."""

from __future__ import annotations

from flask import g, redirect, render_template, url_for
from flask_babel import pgettext

from ..catalogue.services import Module, get_catalogue
from ..common.csp import allow_form_action
from ..common.errors import ToolError
from ..common.http import form_body
from ..common.i18n import lazy_gettext as _l
from ..common.network import origin_of
from ..common.schemas import load_or_422
from ..llm.services import assistant_state
from ..lti.access import current_launch, launch_required
from ..lti.deep_linking import PickedItem, deep_linking_response
from ..lti.errors import LtiRefusal
from ..lti.models import LaunchSession
from ..lti.roles import is_staff
from ..lti.services import resource_link_in_scope
from .assistant import EXERCISE_TYPES
from .hooks import ai_policy, panels
from .paging import CONTENTS, HAND_IN, steps_of
from .progress import LearnerState, learner_state, parts_shown
from .schemas import DeepLinkFormSchema
from .services import (ActivityPage, activity_for, bind, content_removed, course_activities, course_item_ids,
                       item_view)
from .wheel import WHEEL_START, radar_svg

ASSISTANT_EXERCISES = frozenset(EXERCISE_TYPES.values())
EXERCISE_TYPE_LABELS = {
    "reflection": _l("Reflection"), "list": _l("List"), "smart_goal": _l("SMART goal"),
    "ai_prompt": _l("With the AI assistant"), "role_play": _l("Role play"),
    "prompt_transformation": _l("Prompt transformation"), "rewrite": _l("Rewrite"),
    "scenario_choice": _l("Scenarios"), "mentoring_wheel": _l("Mentoring wheel"),
}


def render_landing(session: LaunchSession, token: str, *, replace_url: bool = True) -> str:
    """The page a launch lands on: the picker for Deep Linking, else the trainer view or the
    learner's activity page. With `replace_url`, the browser's address becomes the token URL."""
    landing_url = url_for("activities.home", token=token) if replace_url else None
    if session.message_type == "LtiDeepLinkingRequest":
        if not is_staff(session.role):
            raise LtiRefusal("forbidden_role")
        policy = ai_policy()
        scale = policy.scale(session.platform_id)
        catalogue = get_catalogue(session.locale)
        placed = course_item_ids(session.platform_id, session.context_pk)
        return render_template("activities/picker.html", launch=session, landing_url=landing_url, token=token,
                               catalogue=catalogue, accept_multiple=_accepts_multiple(session), scale=scale,
                               default_level=scale.default_level,
                               default_maximum=policy.score_maximum(session.platform_id),
                               uses_ai=_items_using_assistant(catalogue),
                               ai_level=scale.assistant_floor,
                               overlaps={item_id: [_title(catalogue.item(i)) if catalogue.item(i) else i
                                                   for i in sorted(found)]
                                         for item_id in _catalogue_ids(catalogue)
                                         if (found := overlapping(item_id, placed))})
    return _link_page(session, session.resource_link, token, landing_url)


def _link_page(session: LaunchSession, link, token: str, landing_url: str | None = None,
               step: int | str = CONTENTS) -> str:
    catalogue = get_catalogue(session.locale)
    activity = activity_for(link, catalogue)
    view = item_view(catalogue, activity.catalogue_item) if activity else None
    # Every page of an activity shows the learner's progress over all of it (drafts, reads, quizzes).
    state = learner_state(activity, session.user_pk, parts_shown(view.themes, view.exercise)) \
        if activity and view else LearnerState()
    steps = steps_of(view, state, step) if view else None
    # Only the launch's own link is worked on; another link of the course is shown read-only.
    editable = link.id == session.resource_link_pk
    policy = ai_policy().of_activity(activity, link) if activity is not None and editable else None
    page = ActivityPage(session, link, catalogue, activity, view, state, editable, policy)
    page_themes = steps.page_themes(view.themes) if steps else []
    wheels = _wheels(view, state, page_themes) if view is not None else {}
    template = "activities/trainer.html" if page.staff else "activities/learner.html"
    page_panels = panels(page) if policy is not None else []
    return render_template(template, launch=session, link=link, landing_url=landing_url, token=token,
                           view=view, catalogue=catalogue, exercise_types=EXERCISE_TYPE_LABELS, state=state,
                           wheels=wheels, editable=editable, panels=page_panels, steps=steps, policy=policy,
                           # the hand-in step: panels shown after the content (the checklist, the declaration)
                           can_hand_in=editable and any(not part.before_content for part in page_panels),
                           assistant=assistant_state(session, policy.level)
                           if policy is not None and view is not None and _uses_assistant(view, page_themes) else None,
                           content_removed=content_removed(activity, catalogue),
                           # The lowest level at which the assistant works, said where the policy turns it off.
                           ai_level=policy.scale.assistant_floor if policy is not None else None)


def _catalogue_ids(catalogue) -> list[str]:
    """Every module, theme/phase and exercise id, in the catalogue's order."""
    ids = []
    for module in catalogue.modules:
        ids.append(module.id)
        for theme in module.themes:
            ids.append(theme["id"])
            ids.extend(exercise["id"] for exercise in theme["exercises"])
    return ids


def _title(item) -> str:
    return item.title if isinstance(item, Module) else item["title"]


def _items_using_assistant(catalogue) -> set[str]:
    """The modules, themes/phases and exercises that hold an exercise done with the AI assistant."""
    found = set()
    for module in catalogue.modules:
        for theme in module.themes:
            for exercise in theme["exercises"]:
                if exercise["type"] in ASSISTANT_EXERCISES:
                    found.update((module.id, theme["id"], exercise["id"]))
    return found


def overlapping(item_id: str, others) -> set[str]:
    """The items of `others` that grade part of `item_id` or hold it (a module and one of its
    themes, a theme and one of its exercises): placed both, the same work is graded twice."""
    return {other for other in others
            if other == item_id or other.startswith(item_id + ".") or item_id.startswith(other + ".")}


def _wheels(view, state: LearnerState, page_themes) -> dict:
    """Each mentoring wheel of the page drawn with its saved snapshots under the ratings being
    set (the draft's, or the sliders' starting value), which the page redraws as they move."""
    exercises = [view.exercise] if view.exercise else [e for theme in page_themes for e in theme["exercises"]]
    charts = {}
    for exercise in exercises:
        if exercise["type"] != "mentoring_wheel":
            continue
        draft = state.drafts.get(exercise["id"])
        saved = (draft.answers.get("ratings") if draft else None) or {}
        live = {segment["key"]: saved.get(segment["key"], WHEEL_START) for segment in exercise["segments"]}
        charts[exercise["id"]] = radar_svg(exercise["segments"], [r.ratings for r in state.wheels.get(exercise["id"], [])],
                                           exercise["title"], live=live)
    return charts


def _uses_assistant(view, page_themes) -> bool:
    """Whether the page shows an exercise done with the AI assistant."""
    exercises = [view.exercise] if view.exercise else [e for theme in page_themes for e in theme["exercises"]]
    return any(exercise["type"] in ASSISTANT_EXERCISES for exercise in exercises)


@launch_required()
def home():
    return render_landing(current_launch(), g.launch_token, replace_url=False)


@launch_required()
def part_page(part: int):
    """One theme (or phase) of the placed module, with previous/next."""
    session = current_launch()
    if session.resource_link is None:
        raise LtiRefusal("not_in_scope")
    if part < 1:  # the contents are the activity's own URL
        return redirect(url_for("activities.home", token=g.launch_token), code=303)
    return _link_page(session, session.resource_link, g.launch_token, step=part)


@launch_required()
def hand_in():
    """The "hand in" step: the checklist, the declaration and the submit button, reachable from
    every page of the activity. A trainer, who hands nothing in, gets the activity's first page."""
    session = current_launch()
    if session.resource_link is None:
        raise LtiRefusal("not_in_scope")
    if is_staff(session.role):
        return redirect(url_for("activities.home", token=g.launch_token), code=303)
    return _link_page(session, session.resource_link, g.launch_token, step=HAND_IN)


@launch_required()
def link_page(link_pk: int, part: int = CONTENTS):
    """Another activity of the course, read-only (from "My progress"), page by page."""
    session = current_launch()
    return _link_page(session, resource_link_in_scope(session, link_pk), g.launch_token, step=part)


@launch_required("trainer", "admin")
def bind_link():
    """A trainer binds a link placed without Deep Linking to a catalogue item, once (again if
    the content it delivered has left the catalogue)."""
    session = current_launch()
    if session.resource_link is None:
        raise LtiRefusal("not_in_scope")
    item_id = form_body().get("item", "")
    if get_catalogue(session.locale).item(item_id) is None:
        raise ToolError(_l("This activity is not in the catalogue."), status=422, code="unknown_item")
    bind(session.resource_link, item_id, "trainer", get_catalogue(session.locale))
    return redirect(url_for("activities.home", token=g.launch_token), code=303)


def _accepts_multiple(session: LaunchSession) -> bool:
    value = (session.services.get("deep_linking") or {}).get("accept_multiple", True)
    return value not in (False, "false")


@launch_required("trainer", "admin")
def deep_link_submit():
    """The trainer's picks, answered to the platform as a signed LtiDeepLinkingResponse."""
    session = current_launch()
    if session.message_type != "LtiDeepLinkingRequest":
        raise LtiRefusal("forbidden_role")
    catalogue = get_catalogue(session.locale)
    data = load_or_422(DeepLinkFormSchema(), form_body(), code="invalid_selection",
                       message=_l("Choose at least one activity, each with a title and a maximum score above 0."))
    if any(catalogue.item(item["catalogue_id"]) is None for item in data["items"]):
        raise ToolError(_l("This activity is not in the catalogue."), status=422, code="unknown_item")
    scale = ai_policy().scale(session.platform_id)
    if any(item.get("ai_policy") and scale.level(item["ai_policy"]) is None for item in data["items"]):
        raise ToolError(_l("Choose a level of the scale."), status=422, code="unknown_level")
    picked = [item["catalogue_id"] for item in data["items"]]
    for index, item_id in enumerate(picked):
        clash = overlapping(item_id, picked[:index] + picked[index + 1:])
        if clash:
            titles = [_title(catalogue.item(i)) for i in sorted({item_id, *clash})]
            raise ToolError(_l("These activities overlap: %(items)s. The same work would be graded twice: keep "
                               "either the whole or its parts.", items=pgettext("between the items of a list", "; ").join(titles)),
                            status=422, code="overlapping_items")
    if len(data["items"]) > 1 and not _accepts_multiple(session):
        raise ToolError(_l("Your platform accepts only one activity at a time."), status=422, code="single_item_only")
    return_url, jwt_token = deep_linking_response(session, [PickedItem(**item) for item in data["items"]])
    allow_form_action(origin_of(return_url))  # the signed answer goes back to the platform
    # What goes back, as the page posting it says: each item's maximum and level, and the
    # warning when an item built on the assistant gets a level that turns it off.
    uses_ai = _items_using_assistant(catalogue)
    summary = []
    for item in data["items"]:
        level = scale.level(item["ai_policy"] or scale.default_level.code)
        summary.append({"title": item["title"], "maximum": item["score_maximum"], "level": level,
                        "assistant_off": item["catalogue_id"] in uses_ai and level.mode == "off"})
    return render_template("autopost.html", action=return_url, fields={"JWT": jwt_token}, summary=summary)


@launch_required()
def my_progress():
    """Every activity placed in the course, with what the launching user has done in each."""
    session = current_launch()
    catalogue = get_catalogue(session.locale)
    rows = []
    for link, activity in course_activities(session):
        view = item_view(catalogue, activity.catalogue_item)
        if view is None:
            continue
        state = learner_state(activity, session.user_pk, {"drafts", "read", "quiz"})
        exercise_ids = [e["id"] for t in view.themes for e in t["exercises"]
                        if view.exercise is None or e["id"] == view.exercise["id"]]
        done, total = state.counts(exercise_ids)
        quizzes = [state.best_quiz[t["id"]] for t in view.themes if t["id"] in state.best_quiz]
        rows.append({"link": link, "view": view, "done": done, "total": total,
                     "read": len([t for t in view.themes if t["id"] in state.read]), "themes": len(view.themes),
                     "quiz": (sum(q.score for q in quizzes), sum(q.total for q in quizzes)) if quizzes else None})
    return render_template("activities/progress.html", launch=session, rows=rows, token=g.launch_token)
