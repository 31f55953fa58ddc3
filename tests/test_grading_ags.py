"""Scores reach the right line item, in exactly the shape AGS 2.0 and Moodle expect."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from lti_tool.extensions import db
from lti_tool.gradebook.ags import iso_timestamp, score_url
from lti_tool.gradebook.delivery import drain, score_timestamp
from lti_tool.gradebook.models import LinkLineItem
from lti_tool.gradebook.services import outbox_state, retry_failed
from lti_tool.lti.models import LtiUser

from .ags_platform import CONTAINER_TYPE, LINEITEM_TYPE, SCORE_TYPE
from .grading_fixtures import T0, enqueue, launch, moodle, row, sender, settle  # noqa: F401

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+00:00$")


def posts(moodle, path_part: str, method: str = "POST"):
    return [s for s in moodle.seen if s.method == method and path_part in s.url]


def test_score_url_goes_before_the_query_string():
    assert score_url("https://m.test/mod/lti/services.php/2/lineitems/5/lineitem?type_id=1") == \
        "https://m.test/mod/lti/services.php/2/lineitems/5/lineitem/scores?type_id=1"
    assert score_url("https://lms.test/ags/items/5/") == "https://lms.test/ags/items/5/scores"


def test_timestamps_have_milliseconds_and_an_offset_and_go_forward_by_whole_seconds():
    assert iso_timestamp(T0) == "2036-11-23T10:15:30.123+00:00"
    assert score_timestamp(T0, None) == T0
    later = score_timestamp(T0, T0.replace(tzinfo=None))  # same second as the last one: one second on
    assert later == datetime(2036, 11, 23, 10, 15, 31, tzinfo=timezone.utc)
    assert score_timestamp(T0 + timedelta(seconds=5), T0) == T0 + timedelta(seconds=5)


def test_line_item_from_the_claim_and_the_exact_score_document(client, platform, moodle, sender):
    item = moodle.add_line_item("Objectifs SMART", 100, resource_id="m1.t2", resource_link_id="link-1")
    session = launch(client, platform, moodle)
    assert session.resource_link.lineitem_url == moodle.lineitem_url(item)
    queued = enqueue(session, "quiz", score=8, maximum=10)

    report = drain(now=T0, sender=sender)

    assert (report.claimed, report.sent) == (1, 1)
    assert not posts(moodle, "/lineitems?", "GET"), "the claim's line item needs no search"
    (sent,) = posts(moodle, "/scores")
    assert sent.url == moodle.lineitem_url(item).replace("/lineitem?", "/lineitem/scores?")
    assert sent.headers["Content-Type"] == SCORE_TYPE
    assert sent.body == {"userId": "user-1", "scoreGiven": 8.0, "scoreMaximum": 10.0, "activityProgress": "Completed",
                         "gradingProgress": "FullyGraded", "timestamp": "2036-11-23T10:15:30.123+00:00"}
    assert moodle.grades[(item, "user-1")]["result"] == 80.0  # rescaled to the item's maximum
    stored = row(queued.id)
    assert (stored.status, stored.attempts, stored.lineitem_url) == ("sent", 1, moodle.lineitem_url(item))
    state = outbox_state(session.resource_link_pk, [session.user_pk])[session.user_pk]
    assert (state.status, state.message) == ("sent", None)


def test_submission_and_trainer_grade_payloads(client, platform, moodle, sender):
    item = moodle.add_line_item("M1", 100, resource_link_id="link-1")
    learner = launch(client, platform, moodle)
    enqueue(learner, "submission")
    trainer = launch(client, platform, moodle, "trainer", sub="teacher-1")
    graded = enqueue(trainer, "grade", sub="user-1", score=15, maximum=20, comment="  Bon travail.  ")

    settle(sender)

    submission, grade = [s.body for s in posts(moodle, "/scores")]
    assert submission == {"userId": "user-1", "activityProgress": "Submitted", "gradingProgress": "PendingManual",
                          "timestamp": submission["timestamp"]}
    assert grade == {"userId": "user-1", "scoreGiven": 15.0, "scoreMaximum": 20.0, "comment": "Bon travail.",
                     "activityProgress": "Completed", "gradingProgress": "FullyGraded",
                     "timestamp": grade["timestamp"]}
    for body in (submission, grade):
        assert TIMESTAMP.match(body["timestamp"]), body["timestamp"]
    # Same user and line item: at least one whole second apart, in the order they were enqueued.
    first, second = (int(datetime.fromisoformat(b["timestamp"]).timestamp()) for b in (submission, grade))
    assert second >= first + 1
    assert moodle.grades[(item, "user-1")] == {"stamp": second, "result": 75.0, "comment": "Bon travail.",
                                               "gradingProgress": "FullyGraded"}
    assert row(graded.id).status == "sent"


def test_line_item_found_by_resource_id_across_pages(client, platform, moodle, sender):
    """A platform that pages its container and ignores the filters: the tool follows `next` and
    picks the item by itself; once found, the line item is remembered."""
    moodle.page_size, moodle.ignore_filters = 2, True
    for n in range(4):
        moodle.add_line_item(f"Other {n}", 10, resource_id=f"m9.t{n}")
    target = moodle.add_line_item("SMART", 20, resource_id="m1.t2")
    session = launch(client, platform, moodle, catalogue_item="m1.t2")
    assert "lineitem" not in session.services["ags"]
    enqueue(session, "quiz")
    enqueue(session, "quiz", sub="user-2")
    moodle.enrol("user-2")

    settle(sender)

    searches = posts(moodle, "/lineitems", "GET")
    assert len(searches) == 3  # pages 1, 2, 3: once, not once per score
    assert "resource_id=m1.t2" in searches[0].url and "resource_link_id=link-1" in searches[0].url
    assert "type_id=7" in searches[0].url
    assert all(s.headers["Accept"] == CONTAINER_TYPE for s in searches)
    assert not posts(moodle, "/lineitems?")  # nothing created
    assert {s["_item"] for s in moodle.accepted} == {target}
    record = db.session.execute(select(LinkLineItem)).scalar_one()
    assert (record.url, record.source) == (moodle.lineitem_url(target), "found")


def test_line_item_created_when_the_lineitem_scope_is_granted(client, platform, moodle, sender):
    session = launch(client, platform, moodle, catalogue_item="m2.t1")
    enqueue(session, "quiz", score=3, maximum=4)

    settle(sender)

    (created,) = posts(moodle, "/lineitems?")
    assert created.headers["Content-Type"] == LINEITEM_TYPE
    assert created.body == {"scoreMaximum": 4.0, "label": "Module 1", "resourceLinkId": "link-1", "resourceId": "m2.t1"}
    (item_id,) = moodle.line_items
    assert moodle.grades[(item_id, "user-1")]["result"] == 3.0
    # The next launch names the line item itself (now coupled to the link).
    assert launch(client, platform, moodle).services["ags"]["lineitem"] == moodle.lineitem_url(item_id)


def test_no_line_item_and_no_lineitem_scope_is_a_state_the_trainer_is_told(app, client, platform, moodle, sender):
    moodle.grant_lineitem = False
    session = launch(client, platform, moodle)
    queued = enqueue(session, "quiz")

    report = drain(now=T0, sender=sender)

    assert report.failed == 1
    assert not posts(moodle, "/lineitems?"), "no line item may be created without the lineitem scope"
    assert len(posts(moodle, "/lineitems", "GET")) == 1  # it looked, with the read-only scope
    state = outbox_state(session.resource_link_pk, [session.user_pk])[session.user_pk]
    assert (state.status, state.error_code, state.can_retry) == ("failed", "no_line_item", True)
    with app.test_request_context("/?lang=en"):
        assert "column management" in str(state.message)
    # The Moodle admin gives the activity a grade item; the trainer presses "send again".
    item = moodle.add_line_item("M1", 10, resource_link_id="link-1")
    assert retry_failed(queued.id, link_pk=session.resource_link_pk).status == "waiting"
    db.session.commit()
    settle(sender, T0 + timedelta(minutes=5))
    assert row(queued.id).status == "sent"
    assert moodle.grades[(item, "user-1")]["result"] == 8.0


def test_no_ags_claim_is_a_state_too(client, platform, moodle, sender):
    session = launch(client, platform, None)
    queued = enqueue(session, "quiz")
    drain(now=T0, sender=sender)
    assert (row(queued.id).status, row(queued.id).error_code) == ("failed", "no_ags_service")
    assert not moodle.seen and not moodle.token_requests


def test_a_newer_score_supersedes_an_older_unsent_one_of_the_same_kind(client, platform, moodle, sender):
    item = moodle.add_line_item("M1", 20, resource_link_id="link-1")
    session = launch(client, platform, moodle)
    submitted = enqueue(session, "submission")
    first = enqueue(session, "grade", score=10, maximum=20)
    second = enqueue(session, "grade", score=12, maximum=20, comment="Revu")

    settle(sender)

    assert [row(r.id).status for r in (submitted, first, second)] == ["sent", "superseded", "sent"]
    assert [s.get("scoreGiven") for s in moodle.accepted] == [None, 12.0]
    assert moodle.grades[(item, "user-1")]["result"] == 12.0


def test_state_per_user_is_the_latest_score(client, platform, moodle, sender):
    moodle.add_line_item("M1", 20, resource_link_id="link-1")
    session = launch(client, platform, moodle)
    enqueue(session, "quiz")
    enqueue(session, "quiz", sub="stranger")  # not enrolled: 400
    settle(sender)
    stranger = db.session.execute(select(LtiUser.id).where(LtiUser.sub == "stranger")).scalar_one()
    states = outbox_state(session.resource_link_pk, [session.user_pk, stranger, 999999])
    assert set(states) == {session.user_pk, stranger}
    assert states[session.user_pk].status == "sent"
    assert (states[stranger].status, states[stranger].error_code) == ("not_gradable", "not_gradable")
    assert outbox_state(session.resource_link_pk + 1000, [session.user_pk]) == {}
