"""Binding links to catalogue items, and what a page shows of an item."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from types import SimpleNamespace
from typing import Any

from sqlalchemy import and_, bindparam, func, literal, select, update
from sqlalchemy.orm import aliased, make_transient_to_detached

from ..catalogue.services import Catalogue, Module
from ..common.db import (CompiledOnce, driver_cursor, insert_ignoring_conflict, json_array_text, json_row,
                         json_rows, row_values)
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


# The rows a page shows besides the user's work, one of each (or none), in this order.
PAGE_ENTITIES = (Activity, AssignmentPolicy, ChecklistTicks, Grade, CentreSettings, LlmConfig)


def _join_page_rows(query, link_pk, user_pk, platform_id):
    """`query` with, outer-joined to it, the rows a page of link `link_pk` shows user `user_pk`
    (columns or bind parameters): PAGE_ENTITIES, the latest grade being the user's grade."""
    earlier = aliased(Grade)
    latest_grade = (select(func.max(earlier.id)).where(earlier.activity_id == Activity.id, earlier.user_pk == user_pk)
                    .correlate_except(earlier).scalar_subquery())
    return (
        query
        .outerjoin(Activity, Activity.resource_link_pk == link_pk)
        .outerjoin(AssignmentPolicy, AssignmentPolicy.activity_id == Activity.id)
        .outerjoin(ChecklistTicks, and_(ChecklistTicks.activity_id == Activity.id, ChecklistTicks.user_pk == user_pk))
        .outerjoin(Grade, Grade.id == latest_grade)
        .outerjoin(CentreSettings, CentreSettings.platform_id == platform_id)
        .outerjoin(LlmConfig, LlmConfig.platform_id == platform_id)
    )


def _work(user_pk) -> list:
    """The user's work on the page's activity, one JSON value per LEARNER_ROWS table."""
    return [_learner_rows(model, columns, user_pk) for model, columns in LEARNER_ROWS.items()]


# Built once. Every page of an activity runs the first (its rows as the ORM loads them).
_PAGE_ROWS = _join_page_rows(
    select(*PAGE_ENTITIES, *_work(bindparam("user_pk"))).select_from(select(literal(1).label("one")).subquery()),
    bindparam("link_pk"), bindparam("user_pk"), bindparam("platform_id"))
# A resource link launch runs the second: the rows KNOWN_ROWS finds (user, course, link), then
# the page's rows and the user's work, as two JSON texts (json_row, row_values): one column each,
# not one per table column, and the page cache's key is a digest of them as they came.
_KNOWN_ENTITIES = (LtiUser, Context, ResourceLink)
_LANDING_ROWS = _join_page_rows(KNOWN_ROWS, ResourceLink.id, LtiUser.id, bindparam("platform_id")).with_only_columns(
    json_array_text(*map(json_row, _KNOWN_ENTITIES)),
    json_array_text(*map(json_row, PAGE_ENTITIES), *_work(LtiUser.id)),
    maintain_column_froms=False)
# PostgreSQL: the same statement writes the returning user's session row (a data-modifying CTE).
_LANDING_ROWS_OPENING = _LANDING_ROWS.add_cte(RETURNING_SESSION_CTE).add_columns(
    select(RETURNING_SESSION_CTE.c.id).scalar_subquery())


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


def _entity(model, values: dict[str, Any] | None):
    """A row (row_values) as an ORM object attached to the session as if loaded (no query, no
    flush); None if there is none."""
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
        landing = open_landing(platform_id, claims, locale, ttl_seconds)
    return landing or Landing.of(open_launch_session(platform_id, claims, locale, ttl_seconds))


# Compiled once: a launch runs them without SQLAlchemy's compiled cache (see CompiledOnce).
_OPEN_LANDING = CompiledOnce(_LANDING_ROWS_OPENING)  # PostgreSQL
_INSERT_SESSION = CompiledOnce(INSERT_RETURNING_SESSION)  # SQLite, which writes nothing in a CTE,
_READ_LANDING = CompiledOnce(_LANDING_ROWS)  # runs these two one after the other


def open_landing(platform_id: int, claims: dict[str, Any], locale: str, ttl_seconds: int) -> Landing | None:
    """A resource link launch: in one round trip on PostgreSQL (two on SQLite), and on a
    connection of its own that commits it at once (common.db.driver_cursor), open its
    session if its user, course and link are stored already (the link in that course) and read
    what its landing page shows.

    A returning user stored as the claims say wrote their session row and nothing else. One
    whose name, titles or last launch must be updated gets them written in one transaction (the
    session row has committed). Anyone else (a first launch, a link claimed by another course)
    wrote nothing: None, and lti.services.open_launch_session stores the launch, or refuses it.

    The rows come as JSON text, decoded only as far as needed: a learner's page served from
    the page cache needs the user, course and link (to compare with the claims), not the page's
    rows as objects; those are built only when the page is rendered.
    """
    new = new_session(platform_id, claims, locale, ttl_seconds)
    params = {**known_rows_params(platform_id, claims), **new.params()}
    with driver_cursor() as driver:
        if driver.dialect.name == "postgresql":
            known_text, page_text, session_id = _OPEN_LANDING.first(driver, params)
        else:
            inserted = _INSERT_SESSION.first(driver, params)
            session_id = inserted[0] if inserted else None
            known_text, page_text = _READ_LANDING.first(driver, params)
    if session_id is None:
        return None
    log_accepted(session_id, new)
    known = [row_values(model, row) for model, row in zip(_KNOWN_ENTITIES, json.loads(known_text))]
    if not stored_as_claimed(KnownRows(*(SimpleNamespace(**values) for values in known)), claims):
        # Written in one transaction, where they are read again; if that fails, so does the launch,
        # and its session row (committed) goes.
        try:
            return Landing.of(attach_session(session_id, new, *store_as_claimed(platform_id, claims)))
        except Exception:
            discard_launch_session(session_id)
            raise

    def build() -> OpenedSession:
        user, context, link = (_entity(model, values) for model, values in zip(_KNOWN_ENTITIES, known))
        page = json.loads(page_text)
        rows = [_entity(model, row_values(model, row)) for model, row in zip(PAGE_ENTITIES, page)]
        _remember_page_rows(link.id, platform_id, user.id, (*rows, *page[len(PAGE_ENTITIES):]))
        return attach_session(session_id, new, user, context, link)

    # A learner's page shows only these rows; a trainer's also the class's work, read elsewhere.
    key = page_key(new, known_text, page_text) if new.values["role"] == LEARNER else None
    return Landing(new.token, session_id, key, build)


# What the page shows of the session itself; not its token, digest or times (new every launch).
_PAGE_SESSION_VALUES = ("platform_id", "deployment_id", "role", "message_type", "locale", "services")


def page_key(new: NewSession, known_text: str, page_text: str) -> str:
    """A digest of everything a returning user's launch page is made of: the session's values
    it shows, and every column of every row _LANDING_ROWS read (user, course, link, activity,
    policy, ticks, grade, centre and LLM settings) with the user's work on the activity, as the
    database wrote them. The rest of the page (catalogue, templates, translations, settings)
    is fixed for the process."""
    digest = hashlib.blake2b(repr([new.values[name] for name in _PAGE_SESSION_VALUES]).encode(), digest_size=20)
    digest.update(b"\0" + known_text.encode() + b"\0" + page_text.encode())
    return digest.hexdigest()


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
