"""The course roster through NRPS 2.0: every page, active learners only, cached briefly."""

from __future__ import annotations

from lti_tool.gradebook.nrps import MEMBERSHIP_MEDIA_TYPE, RosterUnavailable, course_members, learner_roster

from .grading_fixtures import launch, moodle  # noqa: F401


def roster_calls(moodle):
    return [s for s in moodle.seen if "/memberships" in s.url]


def test_roster_follows_pages_and_keeps_active_learners(client, platform, moodle):
    moodle.page_size = 2
    moodle.enrol("user-2", name="Léa Bernard")  # never launched the tool
    moodle.enrol("user-3", "Learner")  # short role name
    moodle.enrol("user-4", name="Yanis Petit", status="Inactive")
    moodle.enrol("ta-1", "http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant")
    moodle.enrol("user-5", "http://purl.imsglobal.org/vocab/lis/v2/membership/Learner#Learner")
    session = launch(client, platform, moodle, "trainer", sub="teacher-1")

    learners = learner_roster(session)

    assert [m.user_id for m in learners] == ["user-1", "user-2", "user-3", "user-5"]
    assert learners[1].display_name == "Léa Bernard" and learners[1].given_name == "Léa"
    calls = roster_calls(moodle)
    assert len(calls) == 3  # 5 learners (the staff filtered out by the platform), pages of 2
    assert all(c.headers["Accept"] == MEMBERSHIP_MEDIA_TYPE and c.status == 200 for c in calls)
    assert "role=http%3A%2F%2Fpurl.imsglobal.org%2Fvocab%2Flis%2Fv2%2Fmembership%23Learner" in calls[0].url
    assert moodle.token_requests[0]["scope"] == "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
    members = course_members(session)
    assert {m.user_id for m in members} == {"user-1", "user-2", "user-3", "user-4", "user-5"}
    assert len(roster_calls(moodle)) == 3, "cached for a minute"


def test_staff_sent_by_a_platform_ignoring_the_role_filter_are_never_kept(client, platform, moodle):
    moodle.ignore_filters = True
    moodle.enrol("ta-1", "http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant")
    session = launch(client, platform, moodle, "trainer", sub="teacher-1")
    assert [m.user_id for m in learner_roster(session)] == ["user-1"]
    key = f"grading:roster:{session.platform_id}:{session.context_pk}"
    cached = client.application.extensions["lti_store"].get(key)
    assert [m["user_id"] for m in cached] == ["user-1"]  # no staff name kept in the shared store


def test_no_nrps_claim_is_said_plainly(app, client, platform, moodle):
    session = launch(client, platform, moodle, "trainer", sub="teacher-1", nrps=False)
    roster = learner_roster(session)
    assert isinstance(roster, RosterUnavailable) and roster.code == "no_service"
    with app.test_request_context("/?lang=en"):
        assert "names and roles" in str(roster.message)
    assert not moodle.seen


def test_roster_refused_or_unreachable(client, platform, moodle):
    session = launch(client, platform, moodle, "trainer", sub="teacher-1")
    moodle.fail_next("token", 401)
    assert learner_roster(session).code == "token_refused"
    moodle.fail_next("memberships", 503)
    assert learner_roster(session).code == "unreachable"
    moodle.strip_authorization = True
    assert learner_roster(session).code == "token_refused"
    moodle.strip_authorization = False
    key = f"grading:roster:{session.platform_id}:{session.context_pk}"
    assert client.application.extensions["lti_store"].get(key) is None  # failures are not cached
    assert [m.user_id for m in learner_roster(session)] == ["user-1"]
