"""Fixtures and helpers of the grade passback tests: a Moodle with services, launches that carry
the AGS/NRPS claims, a sender with seeded randomness, a clock the tests move."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from lti_tool.extensions import db
from lti_tool.gradebook.delivery import DrainReport, Sender, drain
from lti_tool.gradebook.models import PENDING, SENDING, ScoreOutbox
from lti_tool.gradebook.services import enqueue_score
from lti_tool.lti.models import LaunchSession, LtiUser
from lti_tool.lti.services import AGS_CLAIM

from .ags_platform import INSTRUCTOR, FakeMoodle
from .lti_platform import CLAIM

# Later than any real "now": rows enqueued now are due at T0. The fake clock moves from there.
T0 = datetime(2036, 11, 23, 10, 15, 30, 123000, tzinfo=timezone.utc)


@pytest.fixture
def moodle(app, client, platform, http_mock) -> FakeMoodle:
    fake = FakeMoodle(platform, jwks=lambda: app.test_client().get("/lti/jwks").get_json())
    fake.enrol("user-1", name="Camille Martin")
    fake.enrol("teacher-1", INSTRUCTOR, name="Alex Dupont")
    return fake.serve(http_mock)


@pytest.fixture
def sender(app) -> Sender:
    return Sender.for_app(rng=random.Random(7))


def launch(client, platform, moodle: FakeMoodle | None, role: str = "learner", *, sub: str = "user-1",
           link_id: str = "link-1", catalogue_item: str | None = None, nrps: bool = True,
           **claims) -> LaunchSession:
    """A launch carrying the services' claims; the launch session it opened."""
    extra = dict(moodle.claims(link_id, nrps=nrps)) if moodle else {}
    if catalogue_item:
        extra[CLAIM + "custom"] = {"catalogue_item": catalogue_item}
    extra.update(claims)
    response = platform.launch(client, role, sub=sub, link_id=link_id, **extra)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return db.session.execute(select(LaunchSession).order_by(LaunchSession.id.desc()).limit(1)).scalar_one()


def user(platform_id: int, sub: str) -> LtiUser:
    found = db.session.execute(select(LtiUser).where(LtiUser.platform_id == platform_id, LtiUser.sub == sub)
                               ).scalar_one_or_none()
    if found is None:
        found = LtiUser(platform_id=platform_id, sub=sub, name=sub)
        db.session.add(found)
        db.session.flush()
    return found


def enqueue(session: LaunchSession, kind: str = "quiz", *, sub: str | None = None, score: float | None = 8,
            maximum: float | None = 10, comment: str | None = None) -> ScoreOutbox:
    """Enqueue and commit, as the app does with the grade it reports."""
    learner = session.user if sub is None else user(session.platform_id, sub)
    if kind == "submission":
        score = maximum = None
    row = enqueue_score(db.session, link=session.resource_link, user=learner, kind=kind, score_given=score,
                        score_maximum=maximum, comment=comment, launch=session)
    db.session.commit()
    return row


def waiting() -> int:
    return db.session.execute(select(func.count()).select_from(ScoreOutbox)
                              .where(ScoreOutbox.status.in_((PENDING, SENDING)))).scalar_one()


def settle(sender: Sender, start: datetime = T0, rounds: int = 40) -> tuple[datetime, list[DrainReport]]:
    """Drain, moving the clock to the next due time, until nothing waits. Returns the clock."""
    now, reports = start, []
    for _ in range(rounds):
        reports.append(drain(now=now, sender=sender))
        db.session.expire_all()
        if not waiting():
            return now, reports
        due = db.session.execute(select(func.min(ScoreOutbox.next_attempt_at))
                                 .where(ScoreOutbox.status == PENDING)).scalar_one()
        lease = db.session.execute(select(func.min(ScoreOutbox.lease_until))
                                   .where(ScoreOutbox.status == SENDING)).scalar_one()
        nxt = min(d for d in (due, lease) if d is not None).replace(tzinfo=timezone.utc)
        now = max(now + timedelta(seconds=1), nxt)
    raise AssertionError("the outbox did not settle")


def row(row_id: int) -> ScoreOutbox:
    db.session.expire_all()
    return db.session.get(ScoreOutbox, row_id)


__all__ = ["AGS_CLAIM", "T0", "enqueue", "launch", "moodle", "row", "sender", "settle", "user", "waiting"]
