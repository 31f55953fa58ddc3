"""The JSON API described: an OpenAPI 3 document built by apispec from the URL map and the
marshmallow schemas, served at `/openapi.json`.

Every view marked `common.http.json_api` is in it, as its mark declares it (summary, schemas of
its body, query and answer, the errors it answers); the URL rule gives its path and parameters,
`lti.access.launch_required` the roles its launch token must have. Nothing is written by hand
here that a view or a schema already says, so the document cannot drift from the code: the
tests (tests/test_openapi.py) check it lists every JSON view and run schemathesis against it.
"""

from __future__ import annotations

import re
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Blueprint, Flask, current_app
from marshmallow import Schema
from werkzeug.routing import Rule

from .common.http import ApiOperation
from .common.schemas import BoundedDict, BoundedList, ErrorOut, UtcTime

bp = Blueprint("openapi", __name__)

OPENAPI_VERSION = "3.0.3"
ROLES = ("learner", "trainer", "admin")
IGNORED_METHODS = {"HEAD", "OPTIONS"}

# The statuses the JSON error shape answers, and what each means on this API.
ERRORS = {
    400: ("BadRequest", "The body is not a JSON object, is nested too deep, or holds a text that cannot be "
                        "stored (a NUL, a lone surrogate): `bad_json`, `invalid_text`; or a bad query value."),
    401: ("LaunchExpired", "The launch token is unknown or expired (`session_expired`): launch the activity "
                           "again from the platform."),
    403: ("Forbidden", "The launch's role may not do this (`forbidden_role`), or the product refuses it to this "
                       "person (`learners_only`, `assistant_off`)."),
    404: ("NotFound", "What the path names is not part of the launched activity or course (`unknown_exercise`, "
                      "`unknown_learner`, `unknown_submission`, `no_activity`…)."),
    409: ("Conflict", "The launch's link delivers no activity yet (`not_configured`), or the state forbids it "
                      "now (`nothing_to_grade`, `ai_notice_required`…)."),
    413: ("TooLarge", "The body is over the tool's MAX_CONTENT_LENGTH; refused before it is read."),
    422: ("InvalidFields", "The body is a JSON object the schema refuses; `fields` names each invalid field by "
                          "its path (`declaration.level_used`)."),
    429: ("QuotaReached", "The AI assistant's quota for the learner or the centre is reached (`quota_reached`)."),
    503: ("AiUnavailable", "The centre's AI service cannot answer now (`unavailable`, `rate_limited`, "
                          "`circuit_open`, `bad_config`…)."),
}
BODY_ERRORS = (400, 413, 422)

# The path parameters of the tool's URLs.
PARAMETERS = {
    "token": ("The launch session's token, from the page the launch opened (`/t/<token>/`): 256 random bits, "
              "valid 8 h. It authenticates every call under `/t/`.", None),
    "user_pk": ("A learner of the launch's course, by the tool's id for them.", 1),
    "version": ("A submitted version, from 1.", 1),
    "row_id": ("A grade's entry in the outbox to the platform's gradebook.", 1),
    "exercise_id": ("An exercise of the launched activity, as the catalogue names it.", "m1.t2.e1"),
    "theme_id": ("A theme of the launched activity, as the catalogue names it.", "m1.t2"),
}
RULE_ARGUMENT = re.compile(r"<(?:(?P<converter>\w+)(?:\([^)]*\))?:)?(?P<name>\w+)>")


@bp.get("/openapi.json")
def openapi_json():
    """The document, built once per app (its URL map is fixed once it serves)."""
    document = current_app.extensions.get("openapi")
    if document is None:
        document = current_app.extensions["openapi"] = build_document(current_app)
    response = current_app.json.response(document)
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


def build_document(app: Flask) -> dict[str, Any]:
    """The OpenAPI document of `app`'s JSON API: one operation per method of each rule whose view
    carries the `json_api` mark."""
    plugin = MarshmallowPlugin(schema_name_resolver=_schema_name)
    spec = APISpec(title="Mentorat IA — JSON API", version=_version(), openapi_version=OPENAPI_VERSION,
                   plugins=[plugin], info={"description": _DESCRIPTION})
    plugin.map_to_openapi_type(UtcTime, "string", "date-time")
    plugin.converter.add_attribute_function(_bounds)
    spec.components.schema("Error", schema=ErrorOut)
    for status, (name, description) in ERRORS.items():
        spec.components.response(name, {"description": description,
                                         "content": {"application/json": {"schema": "Error"}}})
    paths: dict[str, dict[str, Any]] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda rule: (rule.rule, rule.endpoint)):
        view = app.view_functions[rule.endpoint]
        declared = getattr(view, "json_api", None)
        if not isinstance(declared, ApiOperation):
            continue
        path, parameters = _path_of(rule)
        entry = paths.setdefault(path, {"parameters": parameters, "operations": {}})
        roles = getattr(view, "launch_roles", None)  # None: no launch token
        for method in sorted((rule.methods or set()) - IGNORED_METHODS):
            entry["operations"][method.lower()] = _operation(rule.endpoint, declared, roles)
    for path, entry in paths.items():
        spec.path(path=path, parameters=entry["parameters"], operations=entry["operations"])
    return _every_field_given(spec.to_dict())


def _every_field_given(document: dict[str, Any]) -> dict[str, Any]:
    """An answer's schema (`…Out`) gives every field it declares (null where a field allows it),
    unless it names its required fields itself (ErrorDetailOut: `hint` and `fields` only when
    there are some)."""
    for name, schema in document["components"]["schemas"].items():
        if name.endswith("Out") and "required" not in schema and schema.get("properties"):
            schema["required"] = sorted(schema["properties"])
    return document


_DESCRIPTION = (
    "The tool's JSON API. Calls under `/t/{token}/` are authenticated by the launch token in their path (no "
    "cookie, no header) and scoped to the launch: its platform, course, link and user. `x-roles` lists the "
    "launch roles an operation accepts. Every error is answered as `{\"error\": {\"code\", \"message\", "
    "\"hint\", \"fields\"}}` (the `Error` schema), in the launch's language."
)


def _operation(endpoint: str, declared: ApiOperation, roles: tuple[str, ...] | None) -> dict[str, Any]:
    operation: dict[str, Any] = {"operationId": endpoint, "summary": declared.summary,
                                 "tags": [endpoint.split(".")[0]]}
    errors = set(declared.errors)
    if roles is not None:  # behind a launch token
        errors.add(401)
        operation["x-roles"] = list(roles or ROLES)
        if roles:
            errors.add(403)
    if declared.body is not None:
        errors.update(BODY_ERRORS)
        content: dict[str, Any] = {"schema": declared.body}
        if declared.example is not None:
            content["example"] = declared.example
        operation["requestBody"] = {"required": True, "content": {"application/json": content}}
    if declared.query is not None:
        operation["parameters"] = [{"in": "query", "schema": declared.query}]
    responses: dict[int | str, Any] = {declared.status: _answer(declared.media_type, declared.out)}
    for status, out in declared.responses.items():
        responses[status] = _answer(declared.media_type, out)
    for status in sorted(errors):
        responses[status] = ERRORS[status][0]
    operation["responses"] = responses
    return operation


def _answer(media_type: str, out: Any) -> dict[str, Any]:
    answer: dict[str, Any] = {"description": "Success" if out is None else _first_line(out)}
    if out is not None:
        answer["content"] = {media_type: {"schema": out}}
    return answer


def _first_line(out: Any) -> str:
    doc = out.get("description", "") if isinstance(out, dict) else (out.__doc__ or "")
    return " ".join(doc.strip().split("\n\n")[0].split()) or "Success"


def _path_of(rule: Rule) -> tuple[str, list[dict[str, Any]]]:
    """`/t/<token>/learners/<int:user_pk>/submissions` → `/t/{token}/learners/{user_pk}/submissions`
    and its parameters: an `int` as werkzeug matches one (digits, no sign), a string one path
    segment."""
    parameters = []
    for match in RULE_ARGUMENT.finditer(rule.rule):
        name, converter = match["name"], match["converter"] or "default"
        description, example = PARAMETERS.get(name, ("", None))
        if converter == "int":
            schema: dict[str, Any] = {"type": "integer", "minimum": 0}
        else:
            schema = {"type": "string", "minLength": 1, "pattern": "^[^/]+$"}
        parameter = {"in": "path", "name": name, "required": True, "schema": schema, "description": description}
        if example is not None:
            parameter["example"] = example
        parameters.append(parameter)
    return RULE_ARGUMENT.sub(lambda match: "{" + match["name"] + "}", rule.rule), parameters


def _bounds(self, field, ret, **kwargs) -> dict[str, Any]:
    """The bounds a BoundedList or BoundedDict checks before reading its items."""
    if isinstance(field, BoundedList):
        return {"minItems": field.min_items, "maxItems": field.max_items}
    if isinstance(field, BoundedDict):
        return {"maxProperties": field.max_items}
    return {}


def _schema_name(schema: type[Schema] | Schema) -> str:
    cls = schema if isinstance(schema, type) else type(schema)
    name = cls.__name__
    return name[: -len("Schema")] if name.endswith("Schema") and name != "Schema" else name


def _version() -> str:
    try:
        return version("lti_tool")
    except PackageNotFoundError:  # pragma: no cover - run from a tree that was not installed
        return "0.0.0"
