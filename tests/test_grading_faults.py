"""Every fault of the platform ends with exactly one accepted score per grade, or with a final
state that says why; nothing is retried forever, no error message carries a token."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import requests

from lti_tool.extensions import db
from lti_tool.gradebook.delivery import Outcome, claim, drain, record
from lti_tool.gradebook.models import LinkLineItem, ScoreOutbox
from lti_tool.gradebook.services import outbox_state, retry_failed
from sqlalchemy import select

from .grading_fixtures import T0, enqueue, launch, moodle, row, sender, settle  # noqa: F401


def scored(client, platform, moodle, kind="grade", **kw):
    item = moodle.add_line_item("M1", 20, resource_link_id="link-1")
    session = launch(client, platform, moodle)
    return item, session, enqueue(session, kind, **kw)


def at(now: datetime) -> datetime:
    return now.replace(tzinfo=None)


def test_timeout_then_accepted_once(client, platform, moodle, sender):
    _, _, queued = scored(client, platform, moodle)
    moodle.fail_next("scores", requests.exceptions.ConnectTimeout("connect timed out"))

    first = drain(now=T0, sender=sender)
    assert (first.retried, row(queued.id).status, row(queued.id).error_code) == (1, "pending", "unreachable")
    assert timedelta(seconds=15) <= row(queued.id).next_attempt_at - at(T0) <= timedelta(seconds=30)
    assert drain(now=T0 + timedelta(seconds=10), sender=sender).claimed == 0  # not before its time

    settle(sender, T0 + timedelta(seconds=31))
    assert len(moodle.accepted) == 1 and row(queued.id).attempts == 2 and row(queued.id).status == "sent"
    assert row(queued.id).error_code is None


def test_429_honours_retry_after(client, platform, moodle, sender):
    _, _, queued = scored(client, platform, moodle)
    moodle.fail_next("scores", (429, {"Retry-After": "120"}))

    drain(now=T0, sender=sender)
    wait = row(queued.id).next_attempt_at - at(T0)
    assert timedelta(seconds=120) <= wait <= timedelta(seconds=121)
    assert drain(now=T0 + timedelta(seconds=100), sender=sender).claimed == 0
    assert drain(now=T0 + timedelta(seconds=122), sender=sender).sent == 1
    assert len(moodle.accepted) == 1


def test_500_and_503_back_off_exponentially_then_one_score(client, platform, moodle, sender):
    _, _, queued = scored(client, platform, moodle)
    moodle.fail_next("scores", 500, 503, 502)

    _, reports = settle(sender)

    assert [r.retried for r in reports[:3]] == [1, 1, 1] and reports[-1].sent == 1
    assert len(moodle.accepted) == 1 and row(queued.id).attempts == 4
    stamps = [s.body["timestamp"] for s in moodle.seen if s.url.count("/scores")]
    assert len(stamps) == len(set(stamps)) == 4  # each attempt its own, later, timestamp


def test_401_refreshes_the_token_once(client, platform, moodle, sender):
    _, _, queued = scored(client, platform, moodle)
    drain(now=T0, sender=sender)  # a first score: a token is cached
    moodle.expire_tokens()  # the platform forgot it
    enqueue(launch(client, platform, moodle), "grade", score=19, maximum=20)

    report = drain(now=T0 + timedelta(seconds=5), sender=sender)

    assert report.sent == 1 and len(moodle.token_requests) == 2
    assert [s.status for s in moodle.seen if "/scores" in s.url] == [200, 401, 200]
    assert len(moodle.accepted) == 2


def test_authorization_stripped_fails_with_the_apache_hint_and_no_token(app, client, platform, moodle, sender):
    _, session, queued = scored(client, platform, moodle)
    moodle.strip_authorization = True

    report = drain(now=T0, sender=sender)

    assert report.failed == 1 and len(moodle.token_requests) == 2  # one refresh, no more
    failed = row(queued.id)
    assert (failed.status, failed.error_code) == ("failed", "unauthorized")
    assert "Authorization" in failed.last_error and "Apache" in failed.last_error
    tokens = [s.headers["Authorization"][7:] for s in moodle.seen if "Authorization" in s.headers]
    assert tokens and not any(t in failed.last_error for t in tokens)
    assert "eyJ" not in failed.last_error
    with app.test_request_context("/?lang=en"):
        assert "CGIPassAuth" in str(outbox_state(session.resource_link_pk, [session.user_pk])[session.user_pk].message)
    assert drain(now=T0 + timedelta(hours=1), sender=sender).claimed == 0  # final


def test_error_bodies_echoing_the_token_are_redacted(client, platform, moodle, sender):
    _, _, queued = scored(client, platform, moodle)
    moodle.fail_next("scores", 418)  # the injected body echoes our Authorization header

    settle(sender)

    failed = row(queued.id)
    # A client error is final at once: the same request would be refused again.
    assert (failed.status, failed.attempts, failed.error_code) == ("failed", 1, "http_error")
    echoed = [s.headers["Authorization"] for s in moodle.seen if "/scores" in s.url]
    assert "HTTP 418" in failed.last_error and "[redacted]" in failed.last_error
    assert not any(h[7:] in failed.last_error for h in echoed)


def test_404_forgets_the_line_item_and_recreates_it_once(client, platform, moodle, sender):
    item, session, queued = scored(client, platform, moodle)
    del moodle.line_items[item]  # deleted in Moodle's gradebook; the link's claim still names it

    report = drain(now=T0, sender=sender)

    assert report.sent == 1
    (new_item,) = moodle.line_items
    assert new_item != item and moodle.grades[(new_item, "user-1")]["result"] == 8.0
    record_ = db.session.execute(select(LinkLineItem)).scalar_one()
    assert (record_.url, record_.source, record_.gone_url) == (
        moodle.lineitem_url(new_item), "created", moodle.lineitem_url(item))
    # The next score goes straight to the new line item, although the stored claim names the old one.
    enqueue(session, "grade", score=10, maximum=20)
    drain(now=T0 + timedelta(seconds=3), sender=sender)
    assert [s.status for s in moodle.seen if "/scores" in s.url] == [404, 200, 200]


def test_404_without_the_right_to_recreate_is_final(client, platform, moodle, sender):
    moodle.grant_lineitem = False
    item, _, queued = scored(client, platform, moodle)
    del moodle.line_items[item]
    drain(now=T0, sender=sender)
    assert (row(queued.id).status, row(queued.id).error_code) == ("failed", "line_item_gone")


def test_400_is_not_gradable_and_not_retried(client, platform, moodle, sender):
    moodle.add_line_item("M1", 20, resource_link_id="link-1")
    session = launch(client, platform, moodle)
    queued = enqueue(session, "grade", sub="left-the-course")

    drain(now=T0, sender=sender)

    assert (row(queued.id).status, row(queued.id).attempts) == ("not_gradable", 1)
    assert drain(now=T0 + timedelta(days=1), sender=sender).claimed == 0
    assert len([s for s in moodle.seen if "/scores" in s.url]) == 1


def test_409_after_a_gradebook_edit_is_retried_once_with_a_fresh_timestamp(client, platform, moodle, sender):
    item, _, queued = scored(client, platform, moodle)
    # A teacher changed the grade in Moodle one second "after" our clock.
    moodle.grades[(item, "user-1")] = {"stamp": int(T0.timestamp()) + 1, "result": 5, "comment": None,
                                       "gradingProgress": "FullyGraded"}

    _, reports = settle(sender)

    assert [s.status for s in moodle.seen if "/scores" in s.url] == [409, 200]
    assert row(queued.id).status == "sent" and row(queued.id).conflicts == 1


def test_409_twice_is_final(client, platform, moodle, sender):
    item, _, queued = scored(client, platform, moodle)
    moodle.grades[(item, "user-1")] = {"stamp": int(T0.timestamp()) + 3600, "result": 5, "comment": None,
                                       "gradingProgress": "FullyGraded"}
    settle(sender)
    assert (row(queued.id).status, row(queued.id).error_code, row(queued.id).attempts) == ("failed", "conflict", 2)
    assert not moodle.accepted


def test_409_for_an_older_score_when_a_newer_one_was_sent_is_superseded(client, platform, moodle, sender):
    item, session, old = scored(client, platform, moodle)
    newer = enqueue(session, "quiz", score=9, maximum=10)
    # The old one failed for good earlier; the newer one reached Moodle.
    db.session.get(ScoreOutbox, old.id).status = "failed"
    db.session.commit()
    drain(now=T0, sender=sender)
    assert row(newer.id).status == "sent"
    # Someone puts the old one back in the queue by hand; Moodle holds a later score: 409.
    db.session.get(ScoreOutbox, old.id).status = "pending"
    db.session.commit()
    moodle.grades[(item, "user-1")]["stamp"] += 3600
    drain(now=T0 + timedelta(seconds=5), sender=sender)
    assert row(old.id).status == "superseded"
    assert retry_failed(old.id, link_pk=session.resource_link_pk) is None  # not failed: nothing to retry


def test_422_is_not_gradable_and_408_is_retried(client, platform, moodle, sender):
    """Canvas answers 422 for a user who is not a student or has no attempt left: final. A 408
    (request timeout) is worth another attempt."""
    _, session, refused = scored(client, platform, moodle)
    moodle.fail_next("scores", 422)
    settle(sender)
    assert (row(refused.id).status, row(refused.id).attempts) == ("not_gradable", 1)
    moodle.enrol("user-2")
    slow = enqueue(session, "grade", sub="user-2")
    moodle.fail_next("scores", 408)
    settle(sender)
    assert (row(slow.id).status, row(slow.id).attempts) == ("sent", 2)


def test_retry_failed_after_the_last_attempt(client, platform, moodle, sender):
    _, session, queued = scored(client, platform, moodle)
    moodle.fail_next("scores", *[503] * 6)

    now, _ = settle(sender)

    failed = row(queued.id)
    assert (failed.status, failed.attempts, failed.error_code) == ("failed", 6, "unreachable")
    assert "HTTP 503" in failed.last_error
    assert retry_failed(queued.id, link_pk=session.resource_link_pk + 999) is None  # another link: not found
    state = retry_failed(queued.id, link_pk=session.resource_link_pk)
    db.session.commit()
    assert state.status == "waiting"
    assert drain(now=datetime.now(timezone.utc) + timedelta(seconds=1), sender=sender).sent == 1
    assert len(moodle.accepted) == 1


def test_retry_of_an_old_failed_grade_does_not_overwrite_a_newer_one(client, platform, moodle, sender):
    _, session, old = scored(client, platform, moodle)
    moodle.fail_next("scores", *[503] * 6)
    settle(sender)
    newer = enqueue(session, "grade", score=18, maximum=20)
    settle(sender, T0 + timedelta(hours=1))
    assert (row(old.id).status, row(newer.id).status) == ("superseded", "sent")  # superseded on enqueue
    assert retry_failed(old.id, link_pk=session.resource_link_pk) is None


def test_lost_answer_then_retry_is_later_and_accepted(client, platform, moodle, sender):
    """The platform recorded the score but the answer timed out: the retry's timestamp is later
    than the first attempt's (not a 409), and the outcome is right."""
    item, _, queued = scored(client, platform, moodle)
    moodle.fail_next("scores", "lost")

    settle(sender)

    assert [s.status for s in moodle.seen if "/scores" in s.url] == [200, 200]
    first, second = (datetime.fromisoformat(s["timestamp"]) for s in moodle.accepted)
    assert int(second.timestamp()) > int(first.timestamp())
    assert row(queued.id).status == "sent"


def test_a_killed_workers_row_is_sent_after_its_lease_expires(client, platform, moodle, sender):
    _, _, queued = scored(client, platform, moodle)
    (dead,) = claim(10, T0, lease_seconds=60)  # claimed, then the worker died before sending
    assert (row(queued.id).status, row(queued.id).attempts) == ("sending", 1)

    assert drain(now=T0 + timedelta(seconds=59), sender=sender).claimed == 0
    report = drain(now=T0 + timedelta(seconds=61), sender=sender)

    assert report.sent == 1 and len(moodle.accepted) == 1 and row(queued.id).attempts == 2
    # The dead worker wakes up: its outcome is not written over the new one.
    assert record(dead, Outcome("failed", "http_error", "late"), sender) == "lease_lost"
    assert row(queued.id).status == "sent"


def test_a_slow_platform_makes_the_worker_hand_back_what_it_cannot_send_within_its_lease(
        client, platform, moodle, sender):
    moodle.add_line_item("M1", 20, resource_link_id="link-1")
    session = launch(client, platform, moodle)
    rows = [enqueue(session, "quiz", sub=f"learner-{n}") for n in range(3)]
    for n in range(3):
        moodle.enrol(f"learner-{n}")
    ticks = iter([0.0, 0.0, 11.0])  # start; before row 2 (sent); before row 3: the budget (60 - 5 x 10 s) is spent
    slow = replace(sender, timer=lambda: next(ticks))

    report = drain(now=T0, sender=slow)

    assert (report.claimed, report.sent, report.released) == (3, 2, 1)
    left = row(rows[-1].id)
    assert (left.status, left.attempts, left.lease_token) == ("pending", 0, None)
    assert drain(now=T0, sender=sender).sent == 1  # due at once, not after a lease
