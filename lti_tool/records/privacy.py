"""A person's data on one platform: everything stored about them, exported or erased on request
(GDPR rights of access and erasure).

"Everything" is found from the schema itself: every table with a foreign key to `lti_user` holds
either the person's own data (ON DELETE CASCADE: drafts, submissions, grades, …) or a trace of
what they did as staff (ON DELETE SET NULL: who changed a setting). A table added later is
covered without changing this module. SQLite does not enforce foreign keys here, so the erasure
applies each key's ON DELETE rule itself, dependents first, in one transaction.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, delete, select, update
from sqlalchemy.orm import aliased

from ..common.i18n import lazy_gettext as _l
from ..common.errors import ToolError
from ..extensions import db
from ..llm.services import forget_texts_of
from ..lti.models import LtiUser, Platform
from ..common.time import utcnow
from ..lti.services import platform_user
from .models import PrivacyEvent

log = logging.getLogger(__name__)

# Technical rows that say nothing about the person beyond what the others say: launch sessions
# (a token digest, expiring within hours) and the grade outbox (copies of grades, for delivery);
# and the register of the requests about their data, which is the centre's, not theirs.
NOT_EXPORTED = {"launch_session", "score_outbox", "privacy_event"}
# Our own row numbers for people and platforms: meaningless outside the tool.
INTERNAL_COLUMNS = {"user_pk", "subject_pk", "platform_id"}


def find_person(platform_id: int, user_pk: int) -> LtiUser:
    user = platform_user(platform_id, user_pk)
    if user is None:
        raise ToolError(_l("No such person on this platform."), status=404, code="unknown_person")
    return user


def _references() -> list[tuple[Table, Any, str]]:
    """(table, column, ON DELETE rule) for each foreign key to lti_user.id, dependents first."""
    found = []
    for table in reversed(db.metadata.sorted_tables):
        for key in table.foreign_keys:
            if key.column.table.name == "lti_user":
                found.append((table, key.parent, (key.ondelete or "NO ACTION").upper()))
    return found


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds") + "Z"
    return value


def export_person(user: LtiUser, *, requested_by: int | None = None) -> dict[str, Any]:
    """Every row about `user`, table by table, as JSON-ready dicts: their own data, and the AI
    calls they made or that were about their work, with what was sent and answered. The export
    is entered in the register (`requested_by`: the administrator's user, None from the CLI);
    the caller commits."""
    platform = db.session.get(Platform, user.platform_id)
    data: dict[str, Any] = {
        "person": {"platform_user_id": user.sub, "name": user.name, "first_seen_at": _plain(user.created_at),
                   "last_launch_at": _plain(user.last_launch_at)},
        "platform": {"issuer": platform.issuer, "name": platform.name},
        "exported_at": _plain(utcnow().replace(microsecond=0)),
        "tables": {},
    }
    for table, column, rule in _references():
        if rule != "CASCADE" and table.name != "ai_call":
            continue  # SET NULL: staff traces (who changed a setting), not the person's data
        if table.name in NOT_EXPORTED:
            continue
        rows = db.session.execute(select(table).where(column == user.id).order_by(*table.primary_key.columns)).mappings()
        found = [{name: _plain(value) for name, value in row.items() if name not in INTERNAL_COLUMNS}
                 for row in rows]
        if found:
            data["tables"].setdefault(table.name, []).extend(found)
    _register("export", user.platform_id, requested_by, subject_pk=user.id,
              rows={name: len(rows) for name, rows in data["tables"].items()})
    return data


@dataclass(frozen=True)
class Erased:
    rows_deleted: dict[str, int]
    rows_unlinked: dict[str, int]
    ai_calls_blanked: int


def erase_person(user: LtiUser, *, requested_by: int | None = None) -> Erased:
    """Delete `user` and their data; unlink their traces as staff; blank their AI calls' texts
    (their counts stay for the centre's usage figures). `requested_by`, the user asking from a
    launch (None from the CLI), cannot erase themselves (their launch would end mid-request).
    The erasure is entered in the register with the person's platform user id. The caller commits."""
    if requested_by == user.id:
        raise ToolError(_l("You cannot erase your own data while you use the tool."), status=409, code="erase_self")
    user_pk, platform_id, sub = user.id, user.platform_id, user.sub
    blanked = forget_texts_of(user_pk)
    # Earlier entries about them in the register keep their platform user id, as the erasure's does.
    db.session.execute(update(PrivacyEvent).where(PrivacyEvent.subject_pk == user_pk).values(subject_sub=sub))
    deleted: dict[str, int] = {}
    unlinked: dict[str, int] = {}
    for table, column, rule in _references():
        if rule == "CASCADE":
            count = db.session.execute(delete(table).where(column == user_pk)).rowcount
            if count:
                deleted[table.name] = deleted.get(table.name, 0) + count
        else:
            count = db.session.execute(update(table).where(column == user_pk).values({column.name: None})).rowcount
            if count:
                unlinked[table.name] = unlinked.get(table.name, 0) + count
    db.session.execute(delete(LtiUser).where(LtiUser.id == user_pk))
    db.session.expunge(user)
    _register("erasure", platform_id, requested_by, subject_sub=sub, rows={**deleted, "lti_user": 1})
    log.info("person erased", extra={"platform_id": platform_id, "deleted": deleted, "unlinked": unlinked,
                                     "ai_calls_blanked": blanked})
    return Erased(rows_deleted=deleted, rows_unlinked=unlinked, ai_calls_blanked=blanked)


def _register(kind: str, platform_id: int, actor_pk: int | None, **values: Any) -> None:
    db.session.add(PrivacyEvent(platform_id=platform_id, kind=kind, channel="cli" if actor_pk is None else "tool",
                                actor_pk=actor_pk, **values))


@dataclass(frozen=True)
class RegisterEntry:
    at: datetime
    kind: str  # export | erasure
    channel: str  # tool | cli
    actor: str | None  # the administrator's name; None from the CLI or once they are erased
    subject: str | None  # the person's name while they are known here
    subject_sub: str | None  # the person's platform user id, kept for an erasure
    rows: dict[str, int]


def register_of(platform_id: int, limit: int = 500) -> list[RegisterEntry]:
    """The platform's exports and erasures, latest first (at most `limit`)."""
    actor, subject = aliased(LtiUser), aliased(LtiUser)
    found = db.session.execute(
        select(PrivacyEvent, actor.name, subject.name, subject.sub)
        .outerjoin(actor, actor.id == PrivacyEvent.actor_pk)
        .outerjoin(subject, subject.id == PrivacyEvent.subject_pk)
        .where(PrivacyEvent.platform_id == platform_id)
        .order_by(PrivacyEvent.id.desc()).limit(limit)
    ).all()
    return [RegisterEntry(at=event.created_at, kind=event.kind, channel=event.channel, actor=actor_name,
                          subject=subject_name, subject_sub=event.subject_sub or subject_sub, rows=dict(event.rows))
            for event, actor_name, subject_name, subject_sub in found]
