"""Binding links to catalogue items, and what a page shows of an item."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from types import SimpleNamespace
from typing import Any

from sqlalchemy import and_, bindparam, func, inspect, literal, select, update
from sqlalchemy.orm import aliased, make_transient_to_detached

from ..catalogue.services import Catalogue, Module
from ..common.db import begin_autocommit, insert_ignoring_conflict, json_rows
from ..common.memo import MISSING, prefetched, remember_prefetched, request_memo
from ..extensions import db
from ..llm.models import LlmConfig
from ..lti.deep_linking import CATALOGUE_ITEM_PARAM
from ..lti.models import Context, LtiUser, ResourceLink
from ..lti.roles import LEARNER
from ..lti.services import (CLAIM, INSERT_RETURNING_SESSION, KNOWN_ROWS, RETURNING_SESSION_CTE, KnownRows,
                            NewSession, OpenedSession, attach_session, discard_launch_session, known_rows_params,
                            log_accepted, new_session, open_launch_session, store_as_claimed, stored_as_claimed)
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


# Built once: every page of an activity runs the first, a returning learner's launch the second.
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
    their own for the rest of the request. Nothing to do after open_landing() read them."""
    if prefetched("activity", link.id) is not MISSING:
        return
    row = db.session.execute(_PAGE_ROWS, {"link_pk": link.id, "platform_id": link.platform_id, "user_pk": user_pk}).one()
    _remember_page_rows(link.id, link.platform_id, user_pk, row)


# PostgreSQL: the same statement writes the returning user's session row (a data-modifying CTE).
_LANDING_ROWS_OPENING = _LANDING_ROWS.add_cte(RETURNING_SESSION_CTE).add_columns(
    select(RETURNING_SESSION_CTE.c.id).scalar_subquery())
# Every row a launch page is made of, in the order _LANDING_ROWS reads them; its JSON values follow.
_PAGE_ENTITIES = (LtiUser, Context, ResourceLink, Activity, AssignmentPolicy, ChecklistTicks, Grade, CentreSettings,
                  LlmConfig)


def _entity_columns(statement, models) -> tuple[list[tuple[Any, int, tuple[str, ...]]], int]:
    """Where each of `models` sits in a row of `statement` run on a Connection, without the ORM
    (one column a value): (model, first position, attribute names), and the position after."""
    columns = list(statement.selected_columns)
    layout, position = [], 0
    for model in models:
        mapper, start = inspect(model), position
        while position < len(columns) and getattr(columns[position], "table", None) is model.__table__:
            position += 1
        names = tuple(mapper.get_property_by_column(column).key for column in columns[start:position])
        assert names and names[0] == "id", (model, names)
        layout.append((model, start, names))
    return layout, position


_LANDING_LAYOUT, _LANDING_JSON_START = _entity_columns(_LANDING_ROWS, _PAGE_ENTITIES)


def _values(row, model, start: int, names: tuple[str, ...]) -> dict[str, Any] | None:
    """The row of `model` at `start` in `row` (see _entity_columns) by attribute name; None if
    there is none (its id is NULL)."""
    return None if row[start] is None else dict(zip(names, row[start:start + len(names)]))


def _as_read(row, model, start: int, names: tuple[str, ...]) -> SimpleNamespace | None:
    """That row as plain attributes, to be compared (no ORM object)."""
    values = _values(row, model, start, names)
    return None if values is None else SimpleNamespace(**values)


def _entity(row, model, start: int, names: tuple[str, ...]):
    """That row as an ORM object attached to the session as if loaded (no query, no flush)."""
    values = _values(row, model, start, names)
    if values is None:
        return None
    entity = model(**values)
    make_transient_to_detached(entity)
    db.session.add(entity)
    return entity


@dataclass
class Landing:
    """A launch's session row and how to build its first page (activities.views.landing_page)."""

    token: str
    session_id: int
    page_key: str | None  # the page cache's key (page_key), if the page may be cached
    build: Callable[[], OpenedSession]  # the session as an ORM object, its rows prefetched: for a render

    @classmethod
    def of(cls, opened: OpenedSession) -> Landing:
        return cls(opened.token, opened.session.id, None, lambda: opened)

    @cached_property
    def opened(self) -> OpenedSession:
        return self.build()


def land(platform_id: int, claims: dict[str, Any], locale: str, ttl_seconds: int) -> Landing:
    """Store a validated launch and say how to build its first page: a returning user's resource
    link launch writes its session row and reads its page's rows in one statement, without a
    transaction (open_landing); any other launch writes all it must in one transaction
    (lti.services.open_launch_session)."""
    landing = None
    if claims[CLAIM + "message_type"] == "LtiResourceLinkRequest":
        begin_autocommit()
        landing = open_landing(platform_id, claims, locale, ttl_seconds)
    return landing or Landing.of(open_launch_session(platform_id, claims, locale, ttl_seconds))


def open_landing(platform_id: int, claims: dict[str, Any], locale: str, ttl_seconds: int) -> Landing | None:
    """A resource link launch, under the view's autocommit: in one round trip on PostgreSQL
    (two on SQLite), open its session if its user, course and link are stored already (the
    link in that course) and read what its landing page shows.

    A returning user stored as the claims say wrote their session row and nothing else. One
    whose name, titles or last launch must be updated gets them written in one transaction (the
    session row has committed). Anyone else (a first launch, a link claimed by another course)
    wrote nothing: None, and lti.services.open_launch_session stores the launch, or refuses it.

    The statement runs without the ORM: a learner's page served from the page cache needs
    none of its rows as objects; they are built only when the page is rendered.
    """
    new = new_session(platform_id, claims, locale, ttl_seconds)
    params = {**known_rows_params(platform_id, claims), **new.params()}
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        *row, session_id = connection.execute(_LANDING_ROWS_OPENING, params).one()
    else:  # SQLite writes nothing in a CTE: the same two statements one after the other
        session_id = connection.execute(INSERT_RETURNING_SESSION, params).scalar_one_or_none()
        row = connection.execute(_LANDING_ROWS, params).one()
    if session_id is None:
        return None
    log_accepted(session_id, new)
    if not stored_as_claimed(KnownRows(*(_as_read(row, *place) for place in _LANDING_LAYOUT[:3])), claims):
        # Written in one transaction, where they are read again; if that fails, so does the launch,
        # and its session row (committed) goes.
        try:
            return Landing.of(attach_session(session_id, new, *store_as_claimed(platform_id, claims)))
        except Exception:
            discard_launch_session(session_id)
            raise

    def build() -> OpenedSession:
        user, context, link, *page_rows = (_entity(row, *place) for place in _LANDING_LAYOUT)
        _remember_page_rows(link.id, platform_id, user.id, (*page_rows, *row[_LANDING_JSON_START:]))
        return attach_session(session_id, new, user, context, link)

    # A learner's page shows only these rows; a trainer's also the class's work, read elsewhere.
    key = page_key(new, row) if new.values["role"] == LEARNER else None
    return Landing(new.token, session_id, key, build)


# What the page shows of the session itself; not its token, digest or times (new every launch).
_PAGE_SESSION_VALUES = ("platform_id", "deployment_id", "role", "message_type", "locale", "services")


def page_key(new: NewSession, row) -> str:
    """A digest of everything a returning user's launch page is made of: the session's values
    it shows, every column of every row _LANDING_ROWS read (user, course, link, activity,
    policy, ticks, grade, centre and LLM settings) and the user's work on the activity. The
    rest of the page (catalogue, templates, translations, settings) is fixed for the process."""
    parts = ([new.values[name] for name in _PAGE_SESSION_VALUES], tuple(row))
    return hashlib.blake2b(repr(parts).encode(), digest_size=20).hexdigest()


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
