"""Binding links to catalogue items, and what a page shows of an item."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, bindparam, func, literal, select
from sqlalchemy.orm import aliased

from ..catalogue.services import Catalogue, Module
from ..common.db import insert_ignoring_conflict
from ..common.memo import MISSING, prefetched, remember_prefetched, request_memo
from ..extensions import db
from ..llm.models import LlmConfig
from ..lti.deep_linking import CATALOGUE_ITEM_PARAM
from ..lti.models import ResourceLink
from ..marking.models import Grade
from ..policy.models import AssignmentPolicy, CentreSettings, ChecklistTicks
from .models import Activity


def _page_rows_query():
    link_pk, platform_id, user_pk = bindparam("link_pk"), bindparam("platform_id"), bindparam("user_pk")
    anchor = select(literal(1).label("one")).subquery()
    earlier = aliased(Grade)
    latest_grade = (select(func.max(earlier.id)).where(earlier.activity_id == Activity.id, earlier.user_pk == user_pk)
                    .correlate(Activity).scalar_subquery())
    return (
        select(Activity, AssignmentPolicy, ChecklistTicks, Grade, CentreSettings, LlmConfig)
        .select_from(anchor)
        .outerjoin(Activity, Activity.resource_link_pk == link_pk)
        .outerjoin(AssignmentPolicy, AssignmentPolicy.activity_id == Activity.id)
        .outerjoin(ChecklistTicks, and_(ChecklistTicks.activity_id == Activity.id, ChecklistTicks.user_pk == user_pk))
        .outerjoin(Grade, Grade.id == latest_grade)
        .outerjoin(CentreSettings, CentreSettings.platform_id == platform_id)
        .outerjoin(LlmConfig, LlmConfig.platform_id == platform_id)
    )


_PAGE_ROWS = _page_rows_query()  # built once: every page of an activity runs it


def prefetch_page_rows(link: ResourceLink, user_pk: int) -> None:
    """Read in one round trip the rows a link's page needs one of each: the activity, its
    policy, the user's checklist ticks and latest grade, the centre's settings and LLM settings.
    Their readers (activity_for, policy_row, ticks_of, latest_grade, centre_settings,
    centre_config) then find them without a query of their own for the rest of the request."""
    activity, policy, ticks, grade, settings, llm_config = db.session.execute(
        _PAGE_ROWS, {"link_pk": link.id, "platform_id": link.platform_id, "user_pk": user_pk}).one()
    remember_prefetched("activity", link.id, activity)
    if activity is not None:
        remember_prefetched("policy", activity.id, policy)
        remember_prefetched("ticks", (activity.id, user_pk), ticks)
        remember_prefetched("grade", (activity.id, user_pk), grade)
    request_memo("centre_settings").setdefault(link.platform_id, settings)
    remember_prefetched("llm_config", link.platform_id, llm_config)


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


def bind(link: ResourceLink, item_id: str, bound_by: str) -> Activity:
    """Bind `link` to `item_id` once: a link already bound keeps its item. Flushes."""
    insert_ignoring_conflict(Activity, resource_link_pk=link.id, catalogue_item=item_id, bound_by=bound_by)
    return db.session.execute(select(Activity).where(Activity.resource_link_pk == link.id)).scalar_one()


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
