"""The gradebook's services: what the app posts to the platform's gradebook (through the outbox),
what the trainer sees of it, the "send again" button, and the maximum of a link's grade item as the
platform holds it now (what grades are given on).

A score is written in the caller's transaction together with the grade or submission it
reports (one commit); the worker (`worker.drain`) sends it later. Rows of one resource link and
user are sent one after the other in the order they were enqueued, so the platform ends with
the latest state; a newer score of the same kind makes older unsent ones of that kind obsolete.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from ..common.i18n import lazy_gettext as _l
from ..extensions import db
from ..lti.models import LaunchSession, LtiUser, ResourceLink
from ..common.time import utcnow
from ..common.network import AddressRefused
from .ags import SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY, line_item_maximum
from .client import ServiceClient, ServiceError
from .token import ServiceTokens, TokenEndpoint, TokenError
from .models import (
    FAILED,
    NOT_GRADABLE,
    PENDING,
    SENDING,
    SENT,
    SUPERSEDED,
    WAITING_STATUSES,
    LinkLineItem,
    ScoreOutbox,
)

log = logging.getLogger(__name__)

SUBMISSION, QUIZ, GRADE = "submission", "quiz", "grade"
# kind -> (activityProgress, gradingProgress)
PROGRESS = {
    SUBMISSION: ("Submitted", "PendingManual"),
    QUIZ: ("Completed", "FullyGraded"),
    GRADE: ("Completed", "FullyGraded"),
}
MAX_COMMENT = 4000

# Why a score is not (yet) in the gradebook, said to the trainer. English source strings.
ERROR_MESSAGES = {
    "no_ags_service": _l("Grades cannot be sent: the platform did not enable the grade service for this tool. "
                         "In Moodle, turn on \"IMS LTI Assignment and Grade Services\" in the tool's settings, "
                         "open the activity again, then send again."),
    "no_line_item": _l("The platform has no grade item for this activity and does not allow the tool to create "
                       "one. In Moodle, choose \"Use this service for grade sync and column management\" in the "
                       "tool's settings, or give the activity a grade item, then send again."),
    "line_item_gone": _l("The activity's grade item was deleted on the platform and could not be found or "
                         "created again."),
    "unauthorized": _l("The platform refused the tool's access token, even a new one. If Moodle runs behind "
                       "Apache, the Authorization header is probably removed before it reaches Moodle: the "
                       "Moodle administrator should add \"CGIPassAuth On\" to Moodle's Apache configuration."),
    "token_refused": _l("The platform refused to give the tool an access token. Check that the tool is "
                        "activated in Moodle and that Moodle can read the tool's public keys (/lti/jwks)."),
    "scope_not_granted": _l("The platform does not allow this tool to send grades."),
    "forbidden": _l("The platform refused the grade: the tool is not allowed to post scores for this activity."),
    "not_gradable": _l("The platform does not accept a grade for this person: they are not an enrolled learner "
                       "who can be graded in this course."),
    "conflict": _l("The platform holds a more recent grade for this learner (changed in its gradebook?). This "
                   "one was not sent."),
    "address_refused": _l("The grade was not sent: the platform's settings send the tool to an address outside "
                          "the platform's own site, inside a private network, which the tool does not call. The "
                          "platform's administrator should check the tool's registration."),
    "unreachable": _l("The platform could not be reached."),
    "http_error": _l("The platform answered with an error."),
    "internal_error": _l("The tool could not send the grade because of an internal error."),
}


class OutboxError(ValueError):
    """A score the outbox refuses to enqueue (a programming error in the caller)."""


@dataclass(frozen=True)
class State:
    """Where a (resource link, user)'s latest score stands, for the grading view."""

    status: str  # waiting | sent | failed | not_gradable | superseded
    kind: str
    row_id: int
    attempts: int
    error_code: str | None
    error: str | None  # technical detail for administrators (no tokens)
    created_at: datetime
    sent_at: datetime | None
    next_attempt_at: datetime | None

    @property
    def message(self):
        """What to tell the trainer (translated), or None when there is nothing to say."""
        if self.error_code is None or self.status in ("sent", "superseded"):
            return None
        return ERROR_MESSAGES.get(self.error_code, ERROR_MESSAGES["http_error"])

    @property
    def retrying(self) -> bool:
        return self.status == "waiting" and self.error_code is not None

    @property
    def can_retry(self) -> bool:
        return self.status in ("failed", "not_gradable")


_UI_STATUS = {PENDING: "waiting", SENDING: "waiting", SENT: "sent", FAILED: "failed",
              NOT_GRADABLE: "not_gradable", SUPERSEDED: "superseded"}


def _state(row: ScoreOutbox) -> State:
    return State(status=_UI_STATUS[row.status], kind=row.kind, row_id=row.id, attempts=row.attempts,
                 error_code=row.error_code, error=row.last_error, created_at=row.created_at, sent_at=row.sent_at,
                 next_attempt_at=row.next_attempt_at if row.status == PENDING else None)


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value or value in (
            float("inf"), float("-inf")):
        raise OutboxError(f"{name} must be a finite number")
    return float(value)


def score_payload(kind: str, score_given: float | None, score_maximum: float | None,
                  comment: str | None) -> dict[str, Any]:
    """The AGS score fields of `kind` (no userId, no timestamp), checked."""
    if kind not in PROGRESS:
        raise OutboxError(f"unknown score kind {kind!r}")
    activity, grading = PROGRESS[kind]
    payload: dict[str, Any] = {"activityProgress": activity, "gradingProgress": grading}
    if kind == SUBMISSION:
        if score_given is not None:
            raise OutboxError("a submission carries no score (gradingProgress=PendingManual)")
    else:
        given, maximum = _number(score_given, "score_given"), _number(score_maximum, "score_maximum")
        if maximum <= 0 or given < 0:
            raise OutboxError("score_maximum must be > 0 and score_given >= 0")
        payload.update(scoreGiven=given, scoreMaximum=maximum)
    if comment is not None and comment.strip():
        payload["comment"] = comment.strip()[:MAX_COMMENT]
    return payload


def _ags_claim(session: Session, link: ResourceLink, launch: LaunchSession | None) -> dict[str, Any] | None:
    if launch is not None:
        if launch.platform_id != link.platform_id or launch.context_pk != link.context_pk:
            raise OutboxError("the launch is not in the link's platform and course")
        claim = launch.services.get("ags")
        return claim if isinstance(claim, dict) else None
    # No launch given: the newest launch of the link still stored says what the platform grants.
    for services in session.execute(
        select(LaunchSession.services).where(LaunchSession.resource_link_pk == link.id,
                                             LaunchSession.platform_id == link.platform_id)
        .order_by(LaunchSession.id.desc()).limit(20)
    ).scalars():
        if isinstance(services, dict) and isinstance(services.get("ags"), dict):
            return services["ags"]
    return None


def remember_endpoint(session: Session, link: ResourceLink, launch: LaunchSession | None) -> LinkLineItem:
    """The link's line item record, holding the AGS endpoint of `launch` (if given; else of the
    link's newest stored launch, when nothing is known yet). Flushes."""
    record = session.execute(select(LinkLineItem).where(LinkLineItem.resource_link_pk == link.id)).scalar_one_or_none()
    if record is None:
        # Two learners submitting at the same moment: both insert, one row results.
        insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        session.execute(insert(LinkLineItem).values(
            platform_id=link.platform_id, resource_link_pk=link.id, scopes=[], has_service=False,
            updated_at=utcnow()).on_conflict_do_nothing())
        record = session.execute(select(LinkLineItem).where(LinkLineItem.resource_link_pk == link.id)).scalar_one()
    if launch is not None or not record.has_service:
        claim = _ags_claim(session, link, launch)
        if claim is not None:
            _apply_claim(record, claim)
        elif launch is not None and record.has_service:
            # The platform stopped announcing the grade service for this link.
            record.has_service, record.updated_at = False, utcnow()
    return record


def _apply_claim(record: LinkLineItem, claim: dict[str, Any]) -> None:
    lineitems = claim.get("lineitems") if isinstance(claim.get("lineitems"), str) else None
    scopes = sorted({s for s in claim.get("scope") or [] if isinstance(s, str)})
    if (record.has_service, record.lineitems_url, list(record.scopes or [])) != (True, lineitems, scopes):
        record.has_service, record.lineitems_url, record.scopes = True, lineitems, scopes
        record.updated_at = utcnow()


def enqueue_score(session: Session, *, link: ResourceLink, user: LtiUser, kind: str,
                  score_given: float | None = None, score_maximum: float | None = None,
                  comment: str | None = None, launch: LaunchSession | None = None) -> ScoreOutbox:
    """Add a score for `user` on `link` to `session` (flushed, not committed: the caller commits it
    with the grade it reports, so neither exists without the other).

    kind: "submission" (Submitted/PendingManual, no score), "quiz" or "grade" (Completed/FullyGraded,
    score_given out of score_maximum; a comment for the learner). `launch` is the launch this comes
    from (the learner's or the trainer's, same platform and course): its AGS claim is remembered for
    the worker. Older unsent scores of the same kind for this link and user become superseded.
    """
    if user.platform_id != link.platform_id:
        raise OutboxError("the user and the link belong to different platforms")
    payload = score_payload(kind, score_given, score_maximum, comment)
    remember_endpoint(session, link, launch)
    now = utcnow()
    session.execute(
        update(ScoreOutbox)
        .where(ScoreOutbox.resource_link_pk == link.id, ScoreOutbox.user_pk == user.id, ScoreOutbox.kind == kind,
               or_(ScoreOutbox.status.in_((PENDING, FAILED)),
                   and_(ScoreOutbox.status == SENDING, ScoreOutbox.lease_until <= now)))
        .values(status=SUPERSEDED, lease_token=None)
        .execution_options(synchronize_session=False)
    )
    row = ScoreOutbox(platform_id=link.platform_id, resource_link_pk=link.id, user_pk=user.id,
                      platform_user_id=user.sub, kind=kind, payload=payload, status=PENDING, attempts=0,
                      conflicts=0, next_attempt_at=now, created_at=now)
    session.add(row)
    session.flush()
    return row


def _enqueued(link: ResourceLink, user: LtiUser, kinds: tuple[str, ...]) -> bool:
    """Whether a score of one of `kinds` was ever posted for `user` on `link` (sent or not)."""
    return db.session.execute(select(ScoreOutbox.id).where(
        ScoreOutbox.resource_link_pk == link.id, ScoreOutbox.user_pk == user.id, ScoreOutbox.kind.in_(kinds)
    ).limit(1)).first() is not None


def post_submission(launch: LaunchSession) -> bool:
    """Tell the platform the launch's learner submitted work that waits for grading (Submitted,
    PendingManual), unless a grade was posted for them on this link already: a score without
    `scoreGiven` empties the gradebook's grade and feedback (Moodle's scores.php sets them to
    null, Canvas likewise), so a resubmission leaves the last grade in the gradebook until the
    trainer grades the new version. In the caller's transaction; flushes."""
    link, user = launch.resource_link, launch.user
    if link is None or _enqueued(link, user, (GRADE,)):
        return False
    enqueue_score(db.session, link=link, user=user, kind=SUBMISSION, launch=launch)
    return True


def post_quiz_score(launch: LaunchSession, score: int, total: int) -> bool:
    """A learner's self-check quiz posts its own score (FullyGraded) while nothing else was posted
    for them on this link: once they submit or are graded, the trainer's grade owns the column.
    In the caller's transaction; flushes."""
    link, user = launch.resource_link, launch.user
    if link is None or total <= 0 or launch.role != "learner" or _enqueued(link, user, (SUBMISSION, GRADE)):
        return False
    enqueue_score(db.session, link=link, user=user, kind=QUIZ, score_given=float(score), score_maximum=float(total),
                  launch=launch)
    return True


def post_grade(launch: LaunchSession, learner: LtiUser, score: float, maximum: float, comment: str | None) -> None:
    """The trainer's grade of `learner` on the launch's link (Completed, FullyGraded), with the
    comment as the learner's feedback. In the caller's transaction, with the grade it reports."""
    enqueue_score(db.session, link=launch.resource_link, user=learner, kind=GRADE, score_given=score,
                  score_maximum=maximum, comment=comment, launch=launch)


def newer_sent_exists(session: Session, row: ScoreOutbox) -> bool:
    """Whether a later score for the same link and user already reached the platform."""
    return session.execute(
        select(ScoreOutbox.id).where(ScoreOutbox.resource_link_pk == row.resource_link_pk,
                                     ScoreOutbox.user_pk == row.user_pk, ScoreOutbox.id > row.id,
                                     ScoreOutbox.status == SENT).limit(1)
    ).first() is not None


def _send_again(session: Session, row: ScoreOutbox, now: datetime | None) -> State:
    """Put a failed (or not gradable) score back in the queue, unless a newer score replaced it,
    in which case it is marked superseded. Flushes."""
    newer_same_kind = session.execute(
        select(ScoreOutbox.id).where(ScoreOutbox.resource_link_pk == row.resource_link_pk,
                                     ScoreOutbox.user_pk == row.user_pk, ScoreOutbox.kind == row.kind,
                                     ScoreOutbox.id > row.id, ScoreOutbox.status != SUPERSEDED).limit(1)
    ).first() is not None
    if newer_same_kind or newer_sent_exists(session, row):
        row.status = SUPERSEDED  # sending it now would overwrite a newer grade
    else:
        row.status, row.attempts, row.conflicts = PENDING, 0, 0
        row.next_attempt_at = now or utcnow()
        row.error_code = row.last_error = None
        row.lease_until = row.lease_token = None
    session.flush()
    return _state(row)


def retry_failed(row_id: int, *, link_pk: int, now: datetime | None = None,
                 session: Session | None = None) -> State | None:
    """The trainer's "send again" for one failed (or not gradable) score of `link_pk` (see
    _send_again). None if there is no such row on this link (the caller checked the link is in
    its scope)."""
    session = session or db.session
    row = session.execute(
        select(ScoreOutbox).where(ScoreOutbox.id == row_id, ScoreOutbox.resource_link_pk == link_pk,
                                  ScoreOutbox.status.in_((FAILED, NOT_GRADABLE)))
    ).scalar_one_or_none()
    return None if row is None else _send_again(session, row, now)


def _latest_per_learner(link_pk: int, user_pks: list[int] | None = None):
    """SELECT of each learner's latest score on `link_pk` (of `user_pks` only, if given)."""
    latest = select(func.max(ScoreOutbox.id)).where(ScoreOutbox.resource_link_pk == link_pk)
    if user_pks is not None:
        latest = latest.where(ScoreOutbox.user_pk.in_(user_pks))
    return select(ScoreOutbox).where(ScoreOutbox.id.in_(latest.group_by(ScoreOutbox.user_pk)),
                                     ScoreOutbox.resource_link_pk == link_pk)


def retry_all_failed(link_pk: int, *, now: datetime | None = None, session: Session | None = None) -> int:
    """The trainer's "send all again": each learner whose latest score on `link_pk` is failed (or
    not gradable), as the roster shows it, is sent again (see _send_again). Flushes.
    Returns how many scores went back to the queue."""
    session = session or db.session
    failed = session.execute(_latest_per_learner(link_pk).where(ScoreOutbox.status.in_((FAILED, NOT_GRADABLE)))
                             .order_by(ScoreOutbox.id)).scalars().all()
    return sum(1 for row in failed if _send_again(session, row, now).status == "waiting")


def outbox_state(link_pk: int, user_pks: Iterable[int], *, session: Session | None = None) -> dict[int, State]:
    """For each user of `user_pks` with a score on `link_pk`, the state of their latest score."""
    session = session or db.session
    user_pks = list(user_pks)
    if not user_pks:
        return {}
    rows = session.execute(_latest_per_learner(link_pk, user_pks)).scalars()
    return {row.user_pk: _state(row) for row in rows}


def waiting_count(link_pk: int, *, session: Session | None = None) -> int:
    """Scores of the link not yet accepted by the platform (pending or being sent)."""
    session = session or db.session
    return session.execute(
        select(func.count()).select_from(ScoreOutbox)
        .where(ScoreOutbox.resource_link_pk == link_pk, ScoreOutbox.status.in_(WAITING_STATUSES))
    ).scalar_one()


# --- the gradebook's maximum ------------------------------------------------------------------

LINE_ITEM_TTL = 60  # seconds a line item's maximum is reused before the platform is asked again


@dataclass(frozen=True)
class GradebookMaximum:
    """The maximum of the link's grade item as the platform says it now (`value`), or why it is
    not known (`reason`: no_service, no_line_item, no_maximum, unavailable)."""

    value: float | None
    reason: str | None = None


def gradebook_maximum(launch: LaunchSession, link: ResourceLink, *,
                      tokens: ServiceTokens | None = None) -> GradebookMaximum:
    """Read the `scoreMaximum` of the link's line item (AGS, `lineitem` or `lineitem.readonly`
    scope), cached LINE_ITEM_TTL per link so that the grading pages do not ask at each click.
    Never raises: a platform that does not answer gives a reason instead."""
    store = current_app.extensions["lti_store"]
    key = f"gradebook:maximum:{link.id}"
    cached = store.get(key)
    if isinstance(cached, dict):
        return GradebookMaximum(cached.get("value"), cached.get("reason"))
    found = _read_maximum(launch, link, tokens)
    store.set(key, {"value": found.value, "reason": found.reason}, LINE_ITEM_TTL)
    return found


def _read_maximum(launch: LaunchSession, link: ResourceLink, tokens: ServiceTokens | None) -> GradebookMaximum:
    claim = launch.services.get("ags") if isinstance(launch.services, dict) else None
    if not isinstance(claim, dict):
        return GradebookMaximum(None, "no_service")
    url = link.lineitem_url or db.session.execute(
        select(LinkLineItem.url).where(LinkLineItem.resource_link_pk == link.id)).scalar_one_or_none()
    if not url:
        return GradebookMaximum(None, "no_line_item")
    scopes = [s for s in (SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY) if s in (claim.get("scope") or [])]
    if not scopes:
        return GradebookMaximum(None, "unavailable")
    client = ServiceClient(tokens or ServiceTokens.for_app(), TokenEndpoint.of(launch.platform), scopes[:1])
    try:
        value = line_item_maximum(client, url)
    except (ServiceError, TokenError, AddressRefused) as exc:
        log.warning("line item maximum unavailable", extra={"platform_id": link.platform_id,
                                                            "error": type(exc).__name__})
        return GradebookMaximum(None, "unavailable")
    return GradebookMaximum(value, None if value is not None else "no_maximum")
