"""The JSON API answers its errors in the JSON error shape, whatever the client accepts (issue 25,
item 9); pages keep answering theirs as pages."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from lti_tool import create_app

from .lti_platform import landing_url
from .test_submissions import open_item


@dataclass(frozen=True)
class JsonError:
    who: str  # learner/trainer/admin on m1.t2's link; unconfigured: a learner on a link with no content; none
    method: str
    path: str  # under the launch URL ({pk}: an unknown learner), or from the root
    status: int
    code: str


UNKNOWN = 999_999
JSON_ERRORS = {
    "get_policy": JsonError("unconfigured", "GET", "policy", 409, "not_configured"),
    "put_policy": JsonError("learner", "PUT", "policy", 403, "forbidden_role"),
    "put_checklist": JsonError("learner", "PUT", "checklist", 403, "forbidden_role"),
    "delete_checklist": JsonError("learner", "DELETE", "checklist", 403, "forbidden_role"),
    "put_ticks": JsonError("learner", "PUT", "checklist/ticks", 400, "bad_json"),
    "get_submissions": JsonError("unconfigured", "GET", "submissions", 409, "not_configured"),
    "post_submissions": JsonError("trainer", "POST", "submissions", 403, "learners_only"),
    "get_submission": JsonError("learner", "GET", "submissions/1", 404, "unknown_submission"),
    "learner_submissions": JsonError("trainer", "GET", "learners/{pk}/submissions", 404, "unknown_learner"),
    "learner_submission": JsonError("trainer", "GET", "learners/{pk}/submissions/1", 404, "unknown_learner"),
    "overview_json": JsonError("learner", "GET", "overview.json", 403, "forbidden_role"),
    "put_centre": JsonError("trainer", "PUT", "admin/centre", 403, "forbidden_role"),
    "draft": JsonError("learner", "PUT", "exercises/m9.t9.e9/draft", 404, "unknown_exercise"),
    "done": JsonError("learner", "POST", "exercises/m9.t9.e9/done", 404, "unknown_exercise"),
    "wheel": JsonError("learner", "POST", "exercises/m1.t2.e1/wheel", 404, "unknown_exercise"),
    "read": JsonError("learner", "POST", "themes/m9.t9/read", 404, "unknown_theme"),
    "quiz": JsonError("learner", "POST", "themes/m1.t2/quiz", 400, "bad_json"),
    "ai_chat": JsonError("learner", "POST", "ai/chat", 400, "bad_json"),
    "ai_complete": JsonError("learner", "POST", "ai/complete", 400, "bad_json"),
    "grade": JsonError("trainer", "POST", "grading/{pk}/grade", 404, "unknown_learner"),
    "draft_comment": JsonError("trainer", "POST", "grading/{pk}/draft-comment", 404, "unknown_learner"),
    "retry": JsonError("trainer", "POST", "grading/outbox/{pk}/retry", 404, "unknown_outbox_row"),
    "retry_all": JsonError("learner", "POST", "grading/outbox/retry-all", 403, "forbidden_role"),
    "usage_json": JsonError("learner", "GET", "admin/usage.json", 403, "forbidden_role"),
    "follow_up_json": JsonError("learner", "GET", "follow-up.json", 403, "forbidden_role"),
    "record_json": JsonError("trainer", "GET", "follow-up/{pk}.json", 404, "unknown_learner"),
    "person_data": JsonError("trainer", "GET", "admin/people/{pk}/data.json", 403, "forbidden_role"),
    "expired_launch": JsonError("none", "GET", "/t/no-such-launch/policy", 401, "session_expired"),
    "catalogue": JsonError("none", "GET", "/catalogue.json?lang=xx", 400, "bad_language"),
}


@pytest.mark.parametrize("case", JSON_ERRORS.values(), ids=JSON_ERRORS.keys())
def test_the_json_api_answers_its_errors_as_json_without_an_accept_header(client, platform, case):
    if case.who == "none":
        url = ""
    elif case.who == "unconfigured":
        url = landing_url(platform.launch(client, "learner"))
    else:
        url = open_item(platform, client, "m1.t2", sub=f"{case.who}-1", role=case.who)
    # No Accept header, no body: nothing in the request says JSON, the route does.
    response = client.open(url + case.path.format(pk=UNKNOWN), method=case.method)
    assert (response.status_code, response.mimetype) == (case.status, "application/json"), \
        response.get_data(as_text=True)[:200]
    error = response.get_json()["error"]
    assert error["code"] == case.code and error["message"]


def test_pages_keep_answering_their_errors_as_pages(client, platform):
    learner = open_item(platform, client, "m1.t2")
    for path in ("submissions/1/receipt", "overview", "grading", "follow-up"):
        response = client.get(learner + path)
        assert response.status_code in (403, 404) and response.mimetype == "text/html", path
    response = client.get("/t/no-such-launch/")
    assert response.status_code == 401 and response.mimetype == "text/html"
    # The learner's grade is a page too (JSON to programs that ask for it).
    unconfigured = landing_url(platform.launch(client, "learner", sub="learner-2", link_id="link-empty"))
    response = client.get(unconfigured + "grade")
    assert response.status_code == 409 and response.mimetype == "text/html"
    response = client.get(unconfigured + "grade", headers={"Accept": "application/json"})
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "not_configured"
    # …unless the client asks for JSON.
    response = client.get(learner + "submissions/1/receipt", headers={"Accept": "application/json"})
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "unknown_submission"


def test_the_keyset_answers_a_failure_as_json(database_url):
    app = create_app("test", SQLALCHEMY_DATABASE_URI="postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2")
    response = app.test_client().get("/lti/jwks")
    assert response.status_code == 503 and response.get_json()["error"]["code"] == "database_unavailable"
    response = app.test_client().get("/healthz")
    assert response.status_code == 503 and response.get_json()["database"] == "unreachable"
