"""A learner's id from another platform opens nothing: every endpoint that takes a learner id
answers 404 to the staff of platform A asking for platform B's learner, shows nothing of them,
and changes nothing (no grade given, no erasure), even when both platforms use the same course
and link ids."""

from __future__ import annotations

import html
import json
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from lti_tool.declarations.models import Submission
from lti_tool.extensions import db
from lti_tool.gradebook.models import ScoreOutbox
from lti_tool.grading.models import Grade
from lti_tool.lti.models import LtiUser

from .lti_platform import TestPlatform
from .test_submissions import REQUIRED, SMART, open_item, submit, tick

# What platform B's learner wrote and is called: none of it may reach platform A's staff.
B_NAME = "Ysolde Quennec"
B_SUB = "moodle-b-learner-4471"
B_ANSWER = "quokka-answer-8812"
B_PROMPT = "quokka-prompt-8812"
B_MARKERS = (B_NAME, "Quennec", B_SUB, B_ANSWER, B_PROMPT)


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # under the launch URL; {pk} is the learner id
    role: str  # who on platform A calls it
    json: dict | None = None
    form: dict | None = None

    def call(self, client, launch_url: str, pk: int):
        url = launch_url + self.path.format(pk=pk)
        if self.method == "GET":
            return client.get(url)
        return client.post(url, json=self.json) if self.json is not None else client.post(url, data=self.form)


ENDPOINTS = {
    "submissions": Endpoint("GET", "learners/{pk}/submissions", "trainer"),
    "submission": Endpoint("GET", "learners/{pk}/submissions/1", "trainer"),
    "submission_view": Endpoint("GET", "learners/{pk}/submissions/1/view", "trainer"),
    "grading_page": Endpoint("GET", "grading/{pk}", "trainer"),
    "grade": Endpoint("POST", "grading/{pk}/grade", "trainer", json={"score": 18, "comment": "Très bon travail."}),
    "draft_comment": Endpoint("POST", "grading/{pk}/draft-comment", "trainer", json={}),
    "follow_up": Endpoint("GET", "follow-up/{pk}", "trainer"),
    "follow_up_csv": Endpoint("GET", "follow-up/{pk}.csv", "trainer"),
    "follow_up_json": Endpoint("GET", "follow-up/{pk}.json", "trainer"),
    "person_data": Endpoint("GET", "admin/people/{pk}/data.json", "admin"),
    "erase": Endpoint("POST", "admin/people/{pk}/erase", "admin", form={"confirm": "yes"}),
}


def submitted(platform: TestPlatform, client, *, sub: str, name: str, answer: str, prompt: str) -> str:
    """A learner who wrote, ticked the required items and submitted version 1 on link-1 (m1.t2)."""
    url = open_item(platform, client, sub=sub, name=name)
    draft = client.put(url + "exercises/m1.t2.e1/draft", json={"answers": {**SMART, "specific": answer}})
    assert draft.status_code == 200
    assert tick(client, url, *REQUIRED).status_code == 200
    assert submit(client, url, external_prompts=prompt).status_code == 201
    return url


def everything_stored() -> dict[str, list[str]]:
    """Every row of every table, to compare before and after."""
    db.session.expire_all()
    return {table.name: sorted(repr(tuple(row)) for row in db.session.execute(select(table)))
            for table in db.metadata.sorted_tables}


@pytest.fixture
def platform_b(platform, http_mock) -> TestPlatform:
    """A second Moodle, with the same deployment, course and link ids as the first."""
    other = TestPlatform(issuer="https://moodle-b.test", client_id="client-b", key_name="platform-b")
    other.serve_jwks(http_mock)
    other.register()
    return other


@pytest.mark.parametrize("endpoint", list(ENDPOINTS.values()), ids=list(ENDPOINTS))
def test_staff_of_one_platform_reach_no_learner_of_another(app, client, platform, platform_b, endpoint):
    # Platform B: a learner who submitted work (their trainer graded nobody yet).
    submitted(platform_b, app.test_client(), sub=B_SUB, name=B_NAME, answer=B_ANSWER, prompt=B_PROMPT)
    b_pk = db.session.execute(select(LtiUser.id).where(LtiUser.sub == B_SUB)).scalar_one()
    # Platform A, same course and link ids: a learner of its own who submitted, and its staff.
    submitted(platform, client, sub="learner-a", name="Camille Martin", answer="Accueillir mon apprentie",
              prompt="Donne-moi des idées")
    staff_a = open_item(platform, client, sub=f"{endpoint.role}-a", role=endpoint.role, name="Alex Dupont")
    a_pk = db.session.execute(select(LtiUser.id).where(LtiUser.sub == "learner-a")).scalar_one()
    assert endpoint.call(client, staff_a, a_pk).status_code < 400, "the endpoint works for platform A's own learner"
    before = everything_stored()

    response = endpoint.call(client, staff_a, b_pk)

    body = response.get_data(as_text=True)
    readable = html.unescape(body)
    if response.is_json:
        readable += json.dumps(response.get_json(), ensure_ascii=False)
    assert response.status_code == 404, f"{response.status_code}: {readable[:500]}"
    revealed = [marker for marker in B_MARKERS if marker in readable]
    assert not revealed, f"platform B's learner shown to platform A: {revealed}"
    assert everything_stored() == before, "a request about platform B's learner changed something"
    db.session.expire_all()
    assert db.session.get(LtiUser, b_pk) is not None, "platform B's learner was erased"
    assert db.session.execute(select(Submission.version).where(Submission.user_pk == b_pk)).scalars().all() == [1]
    assert db.session.execute(select(Grade.id).where(Grade.user_pk == b_pk)).first() is None, "a grade was stored"
    # Their submission told B's gradebook it waits for grading; no grade went after it.
    assert db.session.execute(select(ScoreOutbox.kind).where(ScoreOutbox.user_pk == b_pk)).scalars().all() \
        == ["submission"]
