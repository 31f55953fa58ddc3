"""The JSON API described (issue 25, item 11): `/openapi.json` is a valid OpenAPI 3 document that
lists every JSON view, and schemathesis runs every operation it lists against the app, with the
tokens of real launches: no answer is a server error, every answer is one the document gives
(status, content type, body)."""

from __future__ import annotations

import os
import re
import time
from collections import Counter, defaultdict
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from openapi_spec_validator import validate
from schemathesis.core.failures import FailureGroup
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from lti_tool.extensions import db
from lti_tool.lti.services import find_launch_session

from .test_submissions import ITEM, declaration, open_item, tick, work

IGNORED_METHODS = {"HEAD", "OPTIONS"}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# Examples per operation and launch: bounded, and the same on every run (derandomized).
MAX_EXAMPLES = int(os.environ.get("OPENAPI_MAX_EXAMPLES", "25"))
REPORT = Path(__file__).resolve().parent.parent / "test-output" / "openapi" / "schemathesis.txt"


def json_views(app) -> set[tuple[str, str]]:
    """(endpoint, method) of every view with the JSON API's mark (common.http.json_api)."""
    return {(rule.endpoint, method.lower()) for rule in app.url_map.iter_rules()
            if getattr(app.view_functions[rule.endpoint], "json_api", None) is not None
            for method in (rule.methods or set()) - IGNORED_METHODS}


def test_openapi_json_is_a_valid_document_of_every_json_view(app, client):
    response = client.get("/openapi.json")  # public: no launch
    assert response.status_code == 200 and response.mimetype == "application/json"
    document = response.get_json()
    validate(document)  # OpenAPI 3, its schemas and references included
    assert document["openapi"].startswith("3.")
    documented = {(operation["operationId"], method) for item in document["paths"].values()
                  for method, operation in item.items() if method != "parameters"}
    assert documented == json_views(app), "a JSON view is missing from /openapi.json, or a page is in it"
    assert len(documented) >= 30
    # Built once per app, then served as built.
    built = app.extensions["openapi"]
    assert client.get("/openapi.json").get_json() == document and app.extensions["openapi"] is built


def test_the_document_describes_the_error_shape_and_the_launch_token(client):
    document = client.get("/openapi.json").get_json()
    error = document["components"]["schemas"]["Error"]
    assert error["required"] == ["error"]
    detail = document["components"]["schemas"][error["properties"]["error"]["$ref"].rsplit("/", 1)[1]]
    assert set(detail["properties"]) == {"code", "message", "hint", "fields"}
    policy = document["paths"]["/t/{token}/policy"]
    assert [p["name"] for p in policy["parameters"]] == ["token"]
    assert policy["put"]["x-roles"] == ["trainer", "admin"]
    assert set(policy["put"]["responses"]) == {"200", "400", "401", "403", "404", "409", "413", "422"}
    assert policy["put"]["responses"]["401"] == {"$ref": "#/components/responses/LaunchExpired"}


def token_of(url: str) -> str:
    return re.search(r"/t/([^/]+)/", url).group(1)


def launch_everyone(platform, client) -> dict[str, str]:
    """A learner with work submitted, a trainer who graded it, an administrator: their launch URLs,
    each on the same link, each having acknowledged the notice about the AI assistant."""
    urls = {role: open_item(platform, client, ITEM, sub=f"{role}-1", role=role, name=f"{role.title()} Test")
            for role in ("learner", "trainer", "admin")}
    learner = urls["learner"]
    work(client, learner)
    tick(client, learner, "before.frame", "during.confidential", "after.explain")
    assert client.post(learner + "submissions", json=declaration()).status_code == 201
    learner_pk = find_launch_session(token_of(learner)).user_pk
    assert client.post(urls["trainer"] + f"grading/{learner_pk}/grade",
                       json={"score": 15, "comment": "Bien."}).status_code == 201
    for url in urls.values():
        assert client.post(url + "ai/notice").status_code == 200
    return {"learner_pk": learner_pk, **urls}


def runs_of(operation: dict, launched: dict) -> list[tuple[str, dict]]:
    """The launches each operation is run as (the roles it accepts: a learner, a trainer, or an
    administrator for what only they reach), each twice: every path parameter but the token drawn
    by schemathesis, then all of them naming what the launch holds (its learner, version 1, the
    activity's exercise and theme), so that calls go past the 404s."""
    roles = operation.get("x-roles")
    if roles is None:
        return [("public", {})]
    picked = [role for role in ("learner", "trainer") if role in roles] or ["admin"]
    runs = []
    for role in picked:
        token = token_of(launched[role])
        runs.append((role, {"token": token}))
        runs.append((role + "+ids", {"token": token, "user_pk": launched["learner_pk"], "version": 1,
                                      "exercise_id": f"{ITEM}.e1", "theme_id": ITEM, "row_id": 1}))
    return runs


def test_schemathesis_runs_every_operation_as_documented(app, client, platform):
    launched = launch_everyone(platform, client)
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)  # the import of the document
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == len(json_views(app))
    examples, statuses, server_errors, failures = Counter(), Counter(), [], set()
    by_operation: dict[str, Counter] = defaultdict(Counter)
    started = time.monotonic()
    for operation in operations:
        declared = operation.definition.raw
        names = {parameter.name for parameter in operation.path_parameters}
        for role, path_parameters in runs_of(declared, launched):
            fixed = {name: value for name, value in path_parameters.items() if name in names}
            if role.endswith("+ids") and set(fixed) == {"token"}:
                continue  # no id in its path: the first run was this one

            @settings(max_examples=MAX_EXAMPLES, derandomize=True, deadline=None, database=None,
                      phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
            @given(case=operation.as_strategy(path_parameters=fixed))
            def run(case):
                with app.app_context():  # each call in its own context, as in production
                    response = case.call(base_url="https://tool.test")
                examples[operation.label] += 1
                statuses[response.status_code] += 1
                by_operation[operation.label][response.status_code] += 1
                if response.status_code >= 500:
                    server_errors.append(f"{operation.label}: {response.status_code} {response.text[:200]}")
                try:  # a failure is kept, not raised: one run lists every operation's failures
                    case.validate_response(response, checks=CHECKS)
                except (AssertionError, FailureGroup) as failure:
                    failures.add(f"{operation.label} as {role}: {str(failure).strip()[:600]}")

            run()
    elapsed = time.monotonic() - started
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(
        f"operations: {len(operations)}\nexamples: {sum(examples.values())}\n"
        f"5xx: {len(server_errors)}\nstatuses: {dict(sorted(statuses.items()))}\nseconds: {elapsed:.1f}\n"
        f"database: {db.engine.dialect.name}\n"
        + "".join(f"  {label}: {count} {dict(sorted(by_operation[label].items()))}\n"
                  for label, count in sorted(examples.items())), encoding="utf-8")
    assert not server_errors, server_errors
    assert not failures, "\n\n".join(sorted(failures))
    assert set(examples) == {operation.label for operation in operations}
    assert statuses[200] + statuses[201] > 0
