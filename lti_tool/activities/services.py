"""Binding links to catalogue items, and what a page shows of an item."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update

from ..catalogue.services import Catalogue, Module
from ..common.db import insert_ignoring_conflict
from ..extensions import db
from ..lti.deep_linking import CATALOGUE_ITEM_PARAM
from ..lti.models import ResourceLink
from .models import Activity


def activity_for(link: ResourceLink, catalogue: Catalogue) -> Activity | None:
    """The link's activity; bound on first launch from the custom parameter Deep Linking set.

    A parameter naming no catalogue item binds nothing: the trainer then picks one.
    """
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
