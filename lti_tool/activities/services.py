"""Binding links to catalogue items, what a page shows of an item, and the names of a course."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update

from ..catalogue.services import Catalogue, Module, get_catalogue
from ..common.db import insert_ignoring_conflict
from ..common.errors import ToolError
from ..common.i18n import lazy_gettext as _l
from ..extensions import db
from ..gradebook.nrps import RosterUnavailable, course_members
from ..lti.deep_linking import CATALOGUE_ITEM_PARAM
from ..lti.models import Context, LaunchSession, LtiUser, ResourceLink
from ..lti.roles import is_staff
from ..lti.services import names_in_course
from .models import Activity, Draft
from .progress import LearnerState

MAX_COURSE_NAMES = 5000


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


def launched_activity(session: LaunchSession) -> tuple[Catalogue, Activity]:
    """The catalogue in the launch's language and the activity its link delivers; a refusal if
    the launch has no link, or its link delivers nothing yet."""
    if session.resource_link is None:
        raise ToolError(_l("This page belongs to an activity launch."), status=404, code="no_activity")
    catalogue = get_catalogue(session.locale)
    activity = activity_for(session.resource_link, catalogue)
    if activity is None:
        raise ToolError(_l("This activity is not configured yet: your trainer has not chosen its content. "
                           "Come back later."), status=409, code="not_configured")
    return catalogue, activity


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


@dataclass(frozen=True)
class PlacedActivity:
    link: ResourceLink
    activity: Activity
    course: str


def placed_activities(platform_id: int) -> list[PlacedActivity]:
    """Every activity placed on the platform, course by course, in placement order."""
    rows = db.session.execute(
        select(ResourceLink, Activity, Context.title).join(Activity, Activity.resource_link_pk == ResourceLink.id)
        .join(Context, Context.id == ResourceLink.context_pk)
        .where(ResourceLink.platform_id == platform_id).order_by(Context.title, ResourceLink.id)
    ).all()
    return [PlacedActivity(link, activity, title or "—") for link, activity, title in rows]


def course_item_ids(platform_id: int, context_pk: int | None) -> set[str]:
    """The catalogue items already placed in a course: those of its links bound to an activity,
    and those its links name in their custom parameter (placed, not opened yet, but launched once)."""
    if context_pk is None:
        return set()
    rows = db.session.execute(
        select(ResourceLink.custom, Activity.catalogue_item)
        .outerjoin(Activity, Activity.resource_link_pk == ResourceLink.id)
        .where(ResourceLink.platform_id == platform_id, ResourceLink.context_pk == context_pk)).all()
    found = set()
    for custom, item in rows:
        item = item or (custom or {}).get(CATALOGUE_ITEM_PARAM)
        if item:
            found.add(item)
    return found


def has_drafts(activity: Activity, user_pk: int) -> bool:
    """Whether the user saved any answer on the activity."""
    return db.session.execute(select(Draft.id).where(Draft.activity_id == activity.id, Draft.user_pk == user_pk)
                              .limit(1)).first() is not None


def latest_draft_times(activity_ids) -> dict[int, dict[int, datetime]]:
    """{activity: {user: when they last saved answers}} for each of `activity_ids` (empty maps
    included): one query for a whole course."""
    found: dict[int, dict[int, datetime]] = {activity_id: {} for activity_id in activity_ids}
    if found:
        for activity_id, user_pk, at in db.session.execute(
                select(Draft.activity_id, Draft.user_pk, func.max(Draft.updated_at))
                .where(Draft.activity_id.in_(list(found))).group_by(Draft.activity_id, Draft.user_pk)):
            found[activity_id][user_pk] = at
    return found


@dataclass(frozen=True)
class ActivityPage:
    """What an activity page shows, read once and handed to each of its parts (activities.hooks)."""

    session: LaunchSession
    link: ResourceLink
    catalogue: Catalogue
    activity: Activity | None
    view: ItemView | None
    state: LearnerState
    editable: bool  # the launch's own link, worked on; another link of the course is shown read-only
    policy: Any = None  # the assignment's AI-use policy (activities.hooks.AiPolicy), on an editable page

    @property
    def staff(self) -> bool:
        return is_staff(self.session.role)


def course_names(session: LaunchSession) -> set[str]:
    """The names the tool knows for the launch's course: the user's own, everyone with a launch
    session in it (learners, trainers), everyone with work in one of its activities, and the
    learners of the platform's roster (NRPS, cached briefly as the grading page reads it; those
    who never opened the tool included). What the AI assistant's privacy guard hides. Without a
    roster (no service, platform unreachable) the names the tool holds are all there is."""
    names = names_in_course(session.platform_id, session.context_pk, session.user_pk)
    roster = course_members(session)
    if not isinstance(roster, RosterUnavailable):
        names.update(member.display_name for member in roster[:MAX_COURSE_NAMES])
    if session.context_pk is not None:
        names.update(db.session.execute(
            select(LtiUser.name).distinct().join(Draft, Draft.user_pk == LtiUser.id)
            .join(Activity, Activity.id == Draft.activity_id)
            .join(ResourceLink, ResourceLink.id == Activity.resource_link_pk)
            .where(ResourceLink.platform_id == session.platform_id, ResourceLink.context_pk == session.context_pk)
            .limit(MAX_COURSE_NAMES)).scalars())
    return {name for name in names if name}
