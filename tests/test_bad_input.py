"""Bad input at the edges (issue 25): text no page or database can hold, JSON nested too deep,
bodies, lists and maps too large."""

from __future__ import annotations

import html
import importlib
import json
import pkgutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from marshmallow import Schema, fields
from sqlalchemy import select

import lti_tool
from config import ConfigError, load_config
from lti_tool.activities.models import Draft
from lti_tool.common.schemas import BaseSchema, BoundedDict, BoundedList
from lti_tool.declarations.models import ChecklistTicks, Submission
from lti_tool.extensions import db
from lti_tool.grading.models import Grade
from lti_tool.llm.models import LlmConfig
from lti_tool.lti.models import LtiUser

from .lti_platform import landing_url
from .test_submissions import REQUIRED, declaration, open_item, tick

UNSTORABLE_FIELD = "Ce texte contient un caractère impossible à enregistrer."
TOO_LARGE = "Ce que vous avez envoyé est trop volumineux pour l’outil : raccourcissez-le, puis réessayez."
REFLECTION = "m1.t1"  # a theme whose first exercise, m1.t1.e1, is a reflection (answers: a list of texts)
LONG_ANSWERS = {"answers": ["Mon tuteur m’a appris à poser des questions. " * 6] * 3}


def pk_of(sub: str) -> int:
    return db.session.execute(select(LtiUser.id).where(LtiUser.sub == sub)).scalar_one()


def stored(model) -> list:
    db.session.expire_all()
    return list(db.session.execute(select(model)).scalars())


def refused_text(response, field: str) -> None:
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    error = response.get_json()["error"]
    assert (error["code"], error["hint"], error["fields"]) == ("invalid_text", field, {field: UNSTORABLE_FIELD})


# --- 1. text that cannot be stored ---------------------------------------------------------------------------


def test_a_lone_surrogate_is_refused_naming_the_field_and_every_page_keeps_working(client, platform):
    """The issue's case: a lone surrogate saved in a draft, a declaration or a comment used to be
    stored (its JSON escape kept, on SQLite and PostgreSQL alike), then break the learner's page,
    the receipt, the grading page and the draft comment with a 500 for good."""
    learner = open_item(platform, client, REFLECTION, name="Camille Martin")
    draft = learner + "exercises/m1.t1.e1/draft"
    # As the issue sent it: the escape itself in the body, as JSON.stringify writes half an emoji.
    bad = client.put(draft, data='{"answers": {"answers": ["SURR\\ud800X"]}}', content_type="application/json")
    refused_text(bad, "answers.answers.0")
    assert stored(Draft) == []
    assert client.put(draft, json={"answers": LONG_ANSWERS}).status_code == 200
    assert tick(client, learner, *REQUIRED).status_code == 200
    refused_text(client.post(learner + "submissions", json=declaration(verification="V\udfff")),
                 "declaration.verification")
    assert stored(Submission) == []
    assert client.post(learner + "submissions", json=declaration()).status_code == 201

    trainer = open_item(platform, client, REFLECTION, sub="trainer-1", role="trainer")
    grade = trainer + f"grading/{pk_of('learner-a')}/"
    refused_text(client.post(grade + "grade", json={"score": 12, "comment": "Bien\udfff"}), "comment")
    assert stored(Grade) == []

    assert client.get(learner).status_code == 200
    assert client.get(learner + "submissions/1/receipt").status_code == 200
    assert client.get(grade.rstrip("/")).status_code == 200
    assert client.post(grade + "draft-comment", json={}).status_code == 200
    # A well-formed pair (an emoji) is one character once parsed: it is kept.
    assert client.put(draft, data='{"answers": {"answers": ["Bravo \\ud83d\\ude00"]}}',
                      content_type="application/json").status_code == 200
    assert client.get(learner).status_code == 200 and "Bravo 😀" in client.get(learner).get_data(as_text=True)


@dataclass(frozen=True)
class BadText:
    who: str  # learner or trainer, on REFLECTION's link
    method: str
    path: str
    body: str  # JSON as sent, escapes included
    field: str  # the path the refusal names


BAD_TEXTS = {
    "draft_nul": BadText("learner", "PUT", "exercises/m1.t1.e1/draft", '{"answers": {"answers": ["a", "b\\u0000"]}}',
                         "answers.answers.1"),
    "draft_unknown_key": BadText("learner", "PUT", "exercises/m1.t1.e1/draft",
                                 '{"answers": {"answers\\udc00": ["a"]}}', "answers.answers\ufffd"),
    "tick_key": BadText("learner", "PUT", "checklist/ticks", '{"ticks": {"before.frame\\u0000": true}}',
                        "ticks.before.frame\ufffd"),
    "quiz_in_an_unread_key": BadText("learner", "POST", "themes/m1.t1/quiz", '{"answers": [0], "x": ["\\ud800"]}',
                                     "x.0"),
    "assistant_prompt": BadText("learner", "POST", "ai/complete",
                                '{"purpose": "assistant", "prompt": "Bonjour\\udbff"}', "prompt"),
    "chat_message": BadText("learner", "POST", "ai/chat",
                            '{"purpose": "assistant", "messages": [{"role": "user", "content": "\\u0000"}]}',
                            "messages.0.content"),
    "policy_note": BadText("trainer", "PUT", "policy", '{"level": "planning", "note": "\\ud800\\ud800"}', "note"),
    "checklist_item": BadText("trainer", "PUT", "checklist",
                              '{"items": [{"moment": "after", "text": "Relire\\u0000", "required": true}]}',
                              "items.0.text"),
}


@pytest.mark.parametrize("case", BAD_TEXTS.values(), ids=BAD_TEXTS.keys())
def test_every_json_endpoint_refuses_a_nul_or_a_lone_surrogate_anywhere_in_the_body(client, platform, case):
    url = open_item(platform, client, REFLECTION, sub=f"{case.who}-1", role=case.who)
    response = client.open(url + case.path, method=case.method, data=case.body, content_type="application/json")
    refused_text(response, case.field)
    assert stored(Draft) == [] and stored(ChecklistTicks) == []


def test_forms_refuse_a_nul_naming_the_field(client, platform):
    """Forms whose text is kept or sent on: the centre's AI settings and the Deep Linking picker.
    A browser cannot put a lone surrogate in a form (invalid UTF-8 becomes U+FFFD), a NUL it can."""
    admin = open_item(platform, client, sub="admin-1", role="admin")
    settings = {"provider": "mistral", "model": "mistral-small-latest", "server": "eu", "api_key": "sk-\x00"}
    response = client.post(admin + "admin/llm", data=settings)
    assert response.status_code == 400 and response.mimetype == "text/html"
    assert "Un texte contient un caractère impossible à enregistrer" in html.unescape(response.get_data(as_text=True))
    assert stored(LlmConfig) == []
    assert client.post(admin + "admin/llm", data={**settings, "api_key": "sk-1"}).status_code == 303
    picker = landing_url(platform.launch(client, "trainer", message_type="LtiDeepLinkingRequest"))
    picked = {"item": "m1.t2", "title-m1.t2": "Objectifs\x00", "score-m1.t2": "20"}
    response = client.post(picker + "deep-link", data=picked, headers={"Accept": "application/json"})
    refused_text(response, "title-m1.t2")


def test_the_json_error_shape_is_valid_json_even_for_a_refused_key(client, platform):
    """The path named for a refused key replaces its bad characters: the answer itself is storable."""
    url = open_item(platform, client, "m1.t2")
    response = client.put(url + "checklist/ticks", data='{"ticks": {"\\udfff": true}}', content_type="application/json")
    refused_text(response, "ticks.\ufffd")
    json.dumps(response.get_json()).encode("utf-8")


# --- 2. JSON nested too deep ---------------------------------------------------------------------------------

BODY_ENDPOINTS = {  # every endpoint that reads a JSON body: who calls it, how, where
    "draft": ("learner", "PUT", "exercises/m1.t2.e1/draft"),
    "wheel": ("learner", "POST", "exercises/m4.t3.e1/wheel"),
    "quiz": ("learner", "POST", "themes/m1.t2/quiz"),
    "ticks": ("learner", "PUT", "checklist/ticks"),
    "submit": ("learner", "POST", "submissions"),
    "chat": ("learner", "POST", "ai/chat"),
    "complete": ("learner", "POST", "ai/complete"),
    "policy": ("trainer", "PUT", "policy"),
    "checklist": ("trainer", "PUT", "checklist"),
    "grade": ("trainer", "POST", "grading/{pk}/grade"),
    "centre": ("admin", "PUT", "admin/centre"),
}


@pytest.mark.parametrize("endpoint", BODY_ENDPOINTS.values(), ids=BODY_ENDPOINTS.keys())
def test_json_nested_deeper_than_the_parser_goes_is_a_400(client, platform, endpoint):
    who, method, path = endpoint
    item = "m4.t3" if "m4.t3" in path else "m1.t2"
    learner = open_item(platform, client, item, name="Camille Martin")
    if item == "m1.t2":  # work, for the trainer to grade
        assert client.put(learner + "exercises/m1.t2.e1/draft", json={"answers": {"specific": "x"}}).status_code == 200
    url = learner if who == "learner" else open_item(platform, client, item, sub=f"{who}-1", role=who)
    path = path.format(pk=pk_of("learner-a"))
    for deep in ("[" * 100_000 + "]" * 100_000, '{"answers": ' + "[" * 100_000 + "]" * 100_000 + "}"):
        response = client.open(url + path, method=method, data=deep, content_type="application/json")
        assert response.status_code == 400, response.get_data(as_text=True)[:300]
        assert response.get_json()["error"]["code"] == "bad_json"


# --- 3. sizes ------------------------------------------------------------------------------------------------


def test_a_body_over_the_limit_is_a_413_without_being_read(app, client, platform):
    assert app.config["MAX_CONTENT_LENGTH"] == 1024 * 1024
    url = open_item(platform, client, REFLECTION)
    # Parsed, this body would be a 422 (an answer over 20,000 characters) or, cut short, a 400.
    answer = "x" * app.config["MAX_CONTENT_LENGTH"]
    response = client.put(url + "exercises/m1.t1.e1/draft", json={"answers": {"answers": [answer]}})
    assert response.status_code == 413
    assert response.get_json() == {"error": {"code": "http_413", "message": TOO_LARGE}}
    response = client.put(url + "exercises/m1.t1.e1/draft", data=b"\x00" * (1024 * 1024 + 1),
                          content_type="application/json", headers={"Accept-Language": "en"})
    assert response.status_code == 413 and response.get_json()["error"]["code"] == "http_413"
    assert stored(Draft) == []
    admin = open_item(platform, client, sub="admin-1", role="admin")
    page = client.post(admin + "admin/llm", data={"provider": "openai", "model": "m" * (1024 * 1024)})
    assert page.status_code == 413 and page.mimetype == "text/html" and TOO_LARGE in page.get_data(as_text=True)


def test_the_body_limit_is_a_setting(tmp_path, monkeypatch):
    monkeypatch.setenv("MAX_CONTENT_LENGTH", "2097152")
    assert load_config("test", tmp_path).MAX_CONTENT_LENGTH == 2 * 1024 * 1024
    monkeypatch.setenv("MAX_CONTENT_LENGTH", "0")
    with pytest.raises(ConfigError, match="MAX_CONTENT_LENGTH"):
        load_config("test", tmp_path)


def test_a_million_quiz_answers_and_a_hundred_thousand_ticks_are_refused_at_the_default_limit(client, platform):
    url = open_item(platform, client, "m1.t2")
    assert client.post(url + "themes/m1.t2/quiz", json={"answers": [0] * 1_000_000}).status_code == 413
    ticks = {f"item-{n}": True for n in range(100_000)}
    assert client.put(url + "checklist/ticks", json={"ticks": ticks}).status_code == 413


def test_lists_and_maps_are_counted_before_their_items_are_read(app, client, platform):
    """Refused as a whole (one field named), not item by item: a million items used to be read,
    each refused (a million fields named back), for seconds of CPU."""
    app.config["MAX_CONTENT_LENGTH"] = 32 * 1024 * 1024  # the schemas' own bounds are what refuse here
    url = open_item(platform, client, "m1.t2")
    response = client.post(url + "themes/m1.t2/quiz", json={"answers": ["x"] * 1_000_000})
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"] == {"answers": "Cette valeur n’est pas valide."}
    ticks = {f"item-{n}": "x" for n in range(100_000)}
    response = client.put(url + "checklist/ticks", json={"ticks": ticks})
    assert response.status_code == 422 and list(response.get_json()["error"]["fields"]) == ["ticks"]
    assert stored(ChecklistTicks) == []
    # An object whose keys are refused unless known: refused as a whole, its first unknown key named.
    unknown = {f"k{n}": 1 for n in range(100_000)}
    response = client.post(url + "submissions", json={"declaration": unknown})
    assert response.status_code == 422 and list(response.get_json()["error"]["fields"]) == ["declaration.k0"]
    response = client.put(url + "exercises/m1.t2.e1/draft", json={"answers": unknown})
    assert response.status_code == 422 and list(response.get_json()["error"]["fields"]) == ["k0"]


def input_schemas() -> list[type[Schema]]:
    """Every schema that loads what a request or a platform sends: the areas' BaseSchemas but
    those that only dump (named …Out). The catalogue's own schemas load our content files."""
    for area in pkgutil.iter_modules(lti_tool.__path__):
        if area.ispkg and (Path(lti_tool.__path__[0]) / area.name / "schemas.py").exists():
            importlib.import_module(f"lti_tool.{area.name}.schemas")
    found, pending = [], list(BaseSchema.__subclasses__())
    while pending:
        schema = pending.pop()
        pending.extend(schema.__subclasses__())
        if not schema.__name__.endswith("Out"):
            found.append(schema)
    return found


def test_every_list_and_map_a_schema_loads_is_bounded():
    schemas = input_schemas()
    assert {"QuizAnswersSchema", "TicksSchema", "ChatRequestSchema", "OpenIdConfigurationSchema"} <= {
        s.__name__ for s in schemas}
    unbounded = [f"{schema.__name__}.{name}" for schema in schemas for name, field in schema._declared_fields.items()
                 if (isinstance(field, fields.List) and not isinstance(field, BoundedList))
                 or (isinstance(field, fields.Mapping) and not isinstance(field, BoundedDict))]
    assert unbounded == []


HUGE_ID = "19975062419168751616"  # past any database's integer (found by the schemathesis pass, tests/test_openapi.py)


@pytest.mark.parametrize("who,path,mimetype", [
    ("trainer", f"learners/{HUGE_ID}/submissions", "application/json"),
    ("trainer", f"learners/{2**31}/submissions", "application/json"),  # past PostgreSQL's INTEGER, not SQLite's
    ("trainer", f"follow-up/{HUGE_ID}.json", "application/json"),
    ("admin", f"admin/people/{HUGE_ID}/data.json", "application/json"),
    ("learner", f"submissions/{HUGE_ID}", "application/json"),
    ("trainer", f"grading/{HUGE_ID}", "text/html"),
    ("trainer", f"links/{HUGE_ID}", "text/html"),
])
def test_an_id_past_what_the_database_holds_names_nothing(client, platform, who, path, mimetype):
    url = open_item(platform, client, "m1.t2", sub=f"{who}-1", role=who)
    response = client.get(url + path)
    assert (response.status_code, response.mimetype) == (404, mimetype), response.get_data(as_text=True)[:300]
