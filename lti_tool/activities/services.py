"""Binding links to catalogue items, and what a page shows of an item."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, bindparam, func, literal, select, update
from sqlalchemy.orm import aliased

from ..catalogue.services import Catalogue, Module
from ..common.db import insert_ignoring_conflict, json_rows
from ..common.memo import MISSING, prefetched, remember_prefetched, request_memo
from ..extensions import db
from ..llm.models import LlmConfig
from ..lti.deep_linking import CATALOGUE_ITEM_PARAM
from ..lti.models import LtiUser, ResourceLink
from ..lti.services import KNOWN_ROWS, KnownRows, known_rows, known_rows_params
from ..marking.models import Grade
from ..policy.models import AssignmentPolicy, CentreSettings, ChecklistTicks, Submission
from .models import Activity
from .progress import STATE_COLUMNS, state_from_rows


# The user's work a page shows, one JSON value per table, in the order _remember_page_rows
# unpacks them: the learner's state (progress.state_from_rows) and their submissions
# (policy.services.submission_summaries).
LEARNER_ROWS = {**STATE_COLUMNS, Submission: ("version", "submitted_at", "receipt")}


def _learner_rows(model, columns: tuple[str, ...], user_pk):
    """The user's rows of `model` on the page's activity, as one JSON value (see json_rows)."""
    return json_rows(and_(model.activity_id == Activity.id, model.user_pk == user_pk),
                     **{name: getattr(model, name) for name in columns})


def _with_page_rows(query, link_pk, user_pk, platform_id):
    """`query` and, outer-joined to it, the rows a page of link `link_pk` shows user `user_pk`
    (columns or bind parameters): one of each of activity, policy, ticks, latest grade, centre
    settings and LLM settings, then the user's work on the activity as JSON (LEARNER_ROWS)."""
    earlier = aliased(Grade)
    latest_grade = (select(func.max(earlier.id)).where(earlier.activity_id == Activity.id, earlier.user_pk == user_pk)
                    .correlate_except(earlier).scalar_subquery())
    return (
        query.add_columns(Activity, AssignmentPolicy, ChecklistTicks, Grade, CentreSettings, LlmConfig,
                          *(_learner_rows(model, columns, user_pk) for model, columns in LEARNER_ROWS.items()))
        .outerjoin(Activity, Activity.resource_link_pk == link_pk)
        .outerjoin(AssignmentPolicy, AssignmentPolicy.activity_id == Activity.id)
        .outerjoin(ChecklistTicks, and_(ChecklistTicks.activity_id == Activity.id, ChecklistTicks.user_pk == user_pk))
        .outerjoin(Grade, Grade.id == latest_grade)
        .outerjoin(CentreSettings, CentreSettings.platform_id == platform_id)
        .outerjoin(LlmConfig, LlmConfig.platform_id == platform_id)
    )


# Built once: every page of an activity runs the first, every launch the second.
_PAGE_ROWS = _with_page_rows(select().select_from(select(literal(1).label("one")).subquery()),
                             bindparam("link_pk"), bindparam("user_pk"), bindparam("platform_id"))
_LANDING_ROWS = _with_page_rows(KNOWN_ROWS, ResourceLink.id, LtiUser.id, bindparam("platform_id"))


def _remember_page_rows(link_pk: int, platform_id: int, user_pk: int, row) -> None:
    (activity, policy, ticks, grade, settings, llm_config,
     drafts, read, quizzes, wheels, submissions) = row
    remember_prefetched("activity", link_pk, activity)
    if activity is not None:
        remember_prefetched("policy", activity.id, policy)
        remember_prefetched("ticks", (activity.id, user_pk), ticks)
        remember_prefetched("grade", (activity.id, user_pk), grade)
        remember_prefetched("learner_state", (activity.id, user_pk), state_from_rows(drafts, read, quizzes, wheels))
        remember_prefetched("submissions", (activity.id, user_pk), submissions)
    request_memo("centre_settings").setdefault(platform_id, settings)
    remember_prefetched("llm_config", platform_id, llm_config)


def prefetch_page_rows(link: ResourceLink, user_pk: int) -> None:
    """Read in one round trip what a link's page shows: the activity, its policy, the user's
    checklist ticks and latest grade, the centre's settings and LLM settings, and the user's
    work on the activity (drafts, sections read, quiz attempts, wheel ratings, submissions).
    Their readers (activity_for, policy_row, ticks_of, latest_grade, centre_settings,
    centre_config, learner_state, submission_summaries) then find them without a query of
    their own for the rest of the request. Nothing to do after landing_rows() read them."""
    if prefetched("activity", link.id) is not MISSING:
        return
    row = db.session.execute(_PAGE_ROWS, {"link_pk": link.id, "platform_id": link.platform_id, "user_pk": user_pk}).one()
    _remember_page_rows(link.id, link.platform_id, user_pk, row)


def landing_rows(platform_id: int, claims: dict[str, Any]) -> KnownRows:
    """What a validated launch finds stored (lti.services.known_rows) and, in the same round
    trip, what its landing page shows (as prefetch_page_rows) when the user and the link are
    already known: a returning learner's launch reads everything in one statement."""
    row = db.session.execute(_LANDING_ROWS, known_rows_params(platform_id, claims)).one()
    known = known_rows(platform_id, claims, row)
    if known.user is not None and known.link is not None:
        _remember_page_rows(known.link.id, platform_id, known.user.id, row[3:])
    return known


def activity_for(link: ResourceLink, catalogue: Catalogue) -> Activity | None:
    """The link's activity; bound on first launch from the custom parameter Deep Linking set.

    A parameter naming no catalogue item binds nothing: the trainer then picks one.
    """
    activity = prefetched("activity", link.id)
    if activity is MISSING:
        activity = db.session.execute(select(Activity).where(Activity.resource_link_pk == link.id)).scalar_one_or_none()
    if activity is not None:
        return activity
    item_id = (link.custom or {}).get(CATALOGUE_ITEM_PARAM)
    if item_id and catalogue.item(item_id) is not None:
        return bind(link, item_id, "deep_linking")
    return None


def bind(link: ResourceLink, item_id: str, bound_by: str, catalogue: Catalogue | None = None) -> Activity:
    """Bind `link` to `item_id` once: a link already bound keeps its item, unless `catalogue`
    is given and no longer has that item (a content update removed it): then the link delivers
    `item_id` from now on, and the work done on the removed content stays. Flushes."""
    insert_ignoring_conflict(Activity, resource_link_pk=link.id, catalogue_item=item_id, bound_by=bound_by)
    activity = db.session.execute(select(Activity).where(Activity.resource_link_pk == link.id)).scalar_one()
    removed = activity.catalogue_item
    if catalogue is not None and removed != item_id and catalogue.item(removed) is None:
        # Compare and set: of two trainers choosing at once, the first choice stands.
        db.session.execute(update(Activity).where(Activity.id == activity.id, Activity.catalogue_item == removed)
                           .values(catalogue_item=item_id, bound_by=bound_by))
        db.session.refresh(activity)
    return activity


def content_removed(activity: Activity | None, catalogue: Catalogue) -> bool:
    """The activity is bound to an item the catalogue no longer has."""
    return activity is not None and catalogue.item(activity.catalogue_item) is None


@dataclass(frozen=True)
class ItemView:
    """An item as a page shows it: its kind, its data, and the themes it covers."""

    kind: str  # module | theme | exercise
    item: Any
    themes: list[dict[str, Any]]
    exercise: dict[str, Any] | None = None


def item_view(catalogue: Catalogue, item_id: str) -> ItemView | None:
    item = catalogue.item(item_id)
    if item is None:
        return None
    if isinstance(item, Module):
        return ItemView("module", item, item.themes)
    if "exercises" in item:
        return ItemView("theme", item, [item])
    theme = catalogue.item(item_id.rsplit(".", 1)[0])
    return ItemView("exercise", theme, [theme], exercise=item)


def course_activities(session) -> list[tuple[ResourceLink, Activity]]:
    """The activities placed in the launch's course on its platform, in placement order."""
    rows = db.session.execute(
        select(ResourceLink, Activity).join(Activity, Activity.resource_link_pk == ResourceLink.id)
        .where(ResourceLink.platform_id == session.platform_id, ResourceLink.context_pk == session.context_pk)
        .order_by(ResourceLink.id)
    ).all()
    return [(link, activity) for link, activity in rows]
