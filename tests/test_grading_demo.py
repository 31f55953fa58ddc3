"""The demo platform is a real AGS/NRPS platform: grades sent by the outbox land in its gradebook.

The tool's HTTP calls to the demo platform (https://demo-platform.test) are routed into the app
itself, as under `make run` where one server plays both parts."""

from __future__ import annotations

import html
import json
import random
import re
import time
import uuid
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import jwt
import pytest
from sqlalchemy import select

from lti_tool.demo import gradebook
from lti_tool.demo.models import DemoLineItem, DemoPlacedItem, DemoScore
from lti_tool.extensions import db
from lti_tool.gradebook.delivery import Sender, drain
from lti_tool.gradebook.nrps import learner_roster
from lti_tool.gradebook.services import enqueue_score, outbox_state
from lti_tool.lti.keys import signing_material
from lti_tool.lti.models import LaunchSession

from .lti_platform import rsa_key

DEMO = "https://demo-platform.test"
FIELD = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')
ACTION = re.compile(r'<form[^>]+action="([^"]+)"')


@pytest.fixture
def demo(app, client, http_mock):
    """Requests to the demo platform answered by the app (its /demo blueprint)."""

    def forward(request):
        parts = urlsplit(request.url)
        answer = app.test_client().open(parts.path + ("?" + parts.query if parts.query else ""), method=request.method,
                                        headers=dict(request.headers), data=request.body)
        return answer.status_code, dict(answer.headers), answer.get_data()

    for method in ("GET", "POST", "PUT", "DELETE"):
        http_mock.add_callback(method, re.compile(re.escape(DEMO) + r"/.*"), callback=forward)
    assert client.get("/demo").status_code == 200  # registers the demo platform
    return client


def autopost(response) -> tuple[str, dict[str, str]]:
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page[:400]
    fields = {name: html.unescape(value) for name, value in FIELD.findall(page)}
    return html.unescape(ACTION.search(page).group(1)), fields


def demo_launch(client, kind: str, item: dict[str, str] | None = None):
    """The browser's part of a launch from the demo course page."""
    form = {"kind": kind, "locale": "fr"}
    if item:
        form.update(item_id=item["id"], item_title=item["title"], catalogue_id=item["catalogue_id"])
    _, login = autopost(client.post("/demo/launch", data=form))
    client.set_cookie("lti1p3-cookies-ok", "1", domain="tool.test", path="/lti/")
    redirect = client.post("/lti/login", data=login)
    assert redirect.status_code == 302
    auth = urlsplit(redirect.headers["Location"])
    _, launch_fields = autopost(client.get(auth.path + "?" + auth.query))
    page = client.post("/lti/launch", data=launch_fields)
    assert page.status_code == 200, page.get_data(as_text=True)[:400]
    session = db.session.execute(select(LaunchSession).order_by(LaunchSession.id.desc()).limit(1)).scalar_one()
    return session, page


def place(client, catalogue_id: str, title: str, score_maximum: str):
    """A trainer places an activity through Deep Linking; the demo keeps it with its column."""
    _, page = demo_launch(client, "deeplink")
    token_url = re.search(r'history\.replaceState\(null, "", "(/t/[^"]+)"\)', page.get_data(as_text=True)).group(1)
    action, fields = autopost(client.post(token_url + "deep-link", data={
        "item": catalogue_id, f"title-{catalogue_id}": title, f"score-{catalogue_id}": score_maximum}))
    assert action == DEMO + "/demo/deep-link-return"
    placed = client.post("/demo/deep-link-return", data=fields)
    assert 'data-testid="placed-items"' in placed.get_data(as_text=True)
    return db.session.execute(select(DemoPlacedItem).where(DemoPlacedItem.catalogue_id == catalogue_id)).scalar_one()


def sender() -> Sender:
    return Sender.for_app(rng=random.Random(3))


def test_grade_lands_in_the_demo_gradebook_through_a_created_line_item(demo):
    session, _ = demo_launch(demo, "learner")
    ags = session.services["ags"]
    assert ags["lineitems"] == DEMO + "/demo/services/demo-course-1/lineitems?type_id=1"
    assert "lineitem" not in ags  # nothing coupled to the sample link yet
    enqueue_score(db.session, link=session.resource_link, user=session.user, kind="quiz", score_given=7,
                  score_maximum=10, launch=session)
    db.session.commit()

    assert drain(sender=sender()).sent == 1

    column = db.session.execute(select(DemoLineItem)).scalar_one()
    assert (column.resource_link_id, column.score_maximum) == ("demo-link-1", 10.0)
    score = db.session.execute(select(DemoScore)).scalar_one()
    assert (score.user_id, score.result, score.grading_progress) == ("demo-learner-1", 7.0, "FullyGraded")
    page = demo.get("/demo/gradebook").get_data(as_text=True)
    assert f'data-testid="grade-demo-learner-1-{column.id}"' in page and 'data-result="7.0"' in page
    assert 'data-testid="gradebook-row-demo-learner-2"' in page  # never launched, listed all the same
    # The next launch of the link names its line item, as Moodle does once one is coupled.
    relaunched, _ = demo_launch(demo, "learner")
    assert relaunched.services["ags"]["lineitem"] == gradebook.lineitem_url(column)


def test_placed_activity_relaunches_from_the_course_page_and_its_grade_is_rescaled(demo):
    placed = place(demo, "m1.t2", "Objectifs SMART", "20")
    column = db.session.execute(select(DemoLineItem)).scalar_one()
    assert (column.resource_link_id, column.label, column.score_maximum, column.resource_id) == (
        placed.link_id, "Objectifs SMART", 20.0, "m1.t2")
    course_page = demo.get("/demo").get_data(as_text=True)
    assert f'data-testid="course-activity-{placed.link_id}"' in course_page
    assert 'data-testid="launch-learner"' in course_page and 'data-testid="launch-deeplink"' in course_page

    item = {"id": placed.link_id, "title": placed.title, "catalogue_id": placed.catalogue_id}
    learner, page = demo_launch(demo, "learner", item)
    assert 'id="m1.t2"' in page.get_data(as_text=True)
    assert learner.services["ags"]["lineitem"] == gradebook.lineitem_url(column)
    trainer, _ = demo_launch(demo, "trainer", item)
    enqueue_score(db.session, link=learner.resource_link, user=learner.user, kind="submission", launch=learner)
    enqueue_score(db.session, link=trainer.resource_link, user=learner.user, kind="grade", score_given=8,
                  score_maximum=10, comment="Objectifs précis et mesurables.", launch=trainer)
    db.session.commit()

    first = drain(sender=sender())
    second = drain(now=datetime.now(timezone.utc) + timedelta(seconds=1), sender=sender())

    assert first.sent + second.sent == 2
    score = db.session.execute(select(DemoScore)).scalar_one()
    assert (score.result, score.score_given, score.comment) == (16.0, 8.0, "Objectifs précis et mesurables.")
    assert outbox_state(learner.resource_link_pk, [learner.user_pk])[learner.user_pk].status == "sent"
    page = demo.get("/demo/gradebook").get_data(as_text=True)
    assert "Objectifs précis et mesurables." in page and 'data-result="16.0"' in page


def test_the_demo_administrator_reaches_the_centre_and_ai_settings(demo):
    """Launched as Moodle launches a site administrator (Instructor + Administrator roles)."""
    placed = place(demo, "m1.t2", "Objectifs SMART", "20")
    assert 'data-testid="launch-admin"' in demo.get("/demo").get_data(as_text=True)
    item = {"id": placed.link_id, "title": placed.title, "catalogue_id": placed.catalogue_id}
    admin, page = demo_launch(demo, "admin", item)
    assert admin.role == "admin"
    html_page = page.get_data(as_text=True)
    assert 'data-testid="centre-link"' in html_page and 'data-testid="llm-settings-link"' in html_page
    token_url = re.search(r'history\.replaceState\(null, "", "(/t/[^"]+)"\)', html_page).group(1)
    assert demo.get(token_url + "admin/centre").status_code == 200
    assert demo.get(token_url + "admin/llm").status_code == 200
    trainer, _ = demo_launch(demo, "trainer", item)
    assert trainer.role == "trainer"


def test_roster_from_the_demo_course(demo):
    trainer, _ = demo_launch(demo, "trainer")
    learners = learner_roster(trainer)
    assert [m.user_id for m in learners] == ["demo-learner-1", "demo-learner-2", "demo-learner-3", "demo-learner-4"]
    assert learners[1].display_name == "Léa Bernard"


# --- the demo platform's rules, spoken to directly --------------------------------------------


def assertion(app, **overrides) -> str:
    kid, key = signing_material()
    db.session.commit()
    now = int(time.time())
    claims = {"iss": "mentorat-ia-demo", "sub": "mentorat-ia-demo", "aud": DEMO + "/demo/token", "iat": now,
              "exp": now + 300, "jti": uuid.uuid4().hex, **overrides}
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


def token(client, app, scope: str, **overrides):
    return client.post("/demo/token", data={
        "grant_type": "client_credentials", "scope": scope,
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": overrides.pop("_assertion", None) or assertion(app, **overrides)})


def test_demo_token_endpoint_checks_the_assertion_and_the_scopes(app, demo):
    granted = token(demo, app, f"{gradebook.SCOPE_SCORE} https://example.test/other")
    assert granted.status_code == 200
    assert granted.get_json()["scope"] == gradebook.SCOPE_SCORE and granted.get_json()["expires_in"] == 3600
    replay = assertion(app)
    assert token(demo, app, gradebook.SCOPE_SCORE, _assertion=replay).status_code == 200
    assert token(demo, app, gradebook.SCOPE_SCORE, _assertion=replay).get_json()["error"] == "invalid_grant"
    assert token(demo, app, "https://example.test/other").get_json()["error"] == "invalid_scope"
    assert token(demo, app, gradebook.SCOPE_SCORE, aud="https://elsewhere.test").status_code == 401
    kid, _ = signing_material()
    forged = jwt.encode({"iss": "mentorat-ia-demo", "sub": "mentorat-ia-demo", "aud": DEMO + "/demo/token",
                         "iat": int(time.time()), "exp": int(time.time()) + 300, "jti": "x"},
                        rsa_key("intruder"), algorithm="RS256", headers={"kid": kid})
    assert token(demo, app, gradebook.SCOPE_SCORE, _assertion=forged).get_json()["error"] == "invalid_client"


def test_demo_scores_follow_moodle_rules(app, demo):
    item = gradebook.create_line_item("demo-course-1", {"label": "Quiz", "scoreMaximum": 50})
    db.session.commit()
    url = urlsplit(gradebook.lineitem_url(item))
    scores = url.path + "/scores?" + url.query
    bearer = {"Authorization": "Bearer " + token(demo, app, gradebook.SCOPE_SCORE).get_json()["access_token"]}
    media = {"Content-Type": gradebook.SCORE_TYPE}
    base = {"userId": "demo-learner-2", "activityProgress": "Completed", "gradingProgress": "FullyGraded",
            "scoreGiven": 3, "scoreMaximum": 4, "timestamp": "2026-11-23T10:15:30.123+00:00"}

    def post(body, headers=None):
        return demo.post(scores, data=json.dumps(body), headers=headers if headers is not None else {**bearer, **media})

    assert post(base, media).status_code == 401
    assert post(base, {**bearer, "Content-Type": "application/json"}).status_code == 415
    assert post(base).status_code == 204
    assert post({**base, "timestamp": "2026-11-23T10:15:30.999+00:00"}).status_code == 409  # same second
    assert post({**base, "timestamp": "2026-11-23T10:15:31+00:00", "gradingProgress": "PendingManual"}
                ).status_code == 204
    pending = db.session.execute(select(DemoScore)).scalar_one()
    assert (pending.result, pending.score_given, pending.grading_progress) == (None, None, "PendingManual")
    assert post({**base, "timestamp": "2026-11-23T10:15:32+00:00"}).status_code == 204
    db.session.expire_all()
    assert db.session.execute(select(DemoScore.result)).scalar_one() == 37.5  # 3/4 of 50
    later = {**base, "timestamp": "2026-11-23T11:00:00+00:00"}
    for refused in ({**later, "userId": "demo-trainer-1"},  # not a learner
                    {**later, "userId": "demo-learner-5"},  # enrolment suspended
                    {**later, "userId": "nobody"},
                    {k: v for k, v in later.items() if k != "scoreMaximum"},
                    {**later, "timestamp": "2026-11-23 11:00:00"}):  # no offset
        assert post(refused).status_code == 400, refused
    nrps_only = {"Authorization": "Bearer " + token(demo, app, gradebook.SCOPE_NRPS).get_json()["access_token"]}
    assert post(base, {**nrps_only, **media}).status_code == 403


def test_demo_line_items_container_filters_and_pages(app, demo):
    for n in range(5):
        gradebook.create_line_item("demo-course-1", {"label": f"L{n}", "scoreMaximum": 10, "resourceId": f"r{n % 2}"})
    db.session.commit()
    bearer = {"Authorization": "Bearer " + token(demo, app, gradebook.SCOPE_LINEITEM).get_json()["access_token"]}
    first = demo.get("/demo/services/demo-course-1/lineitems?type_id=1&limit=2", headers=bearer)
    assert first.mimetype == gradebook.CONTAINER_TYPE and len(first.get_json()) == 2
    nxt = re.match(r'<([^>]+)>; rel="next"', first.headers["Link"]).group(1)
    assert "page=2" in nxt and "type_id=1" in nxt
    filtered = demo.get("/demo/services/demo-course-1/lineitems?resource_id=r1", headers=bearer).get_json()
    assert [i["label"] for i in filtered] == ["L1", "L3"]
    assert demo.get("/demo/services/other-course/lineitems", headers=bearer).status_code == 404
