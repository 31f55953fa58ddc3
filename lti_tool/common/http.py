"""Reading a request: the one place the tool reads JSON bodies and forms, and marks the JSON API."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, TypeVar

from flask import request
from werkzeug.datastructures import MultiDict
from werkzeug.routing import IntegerConverter

from .i18n import lazy_gettext as _l
from .errors import ToolError

View = TypeVar("View", bound=Callable[..., Any])

NOT_A_JSON_OBJECT = _l("The request must be a JSON object.")
UNSTORABLE_TEXT = _l("Some text contains a character that cannot be saved (a null character, or half of an "
                     "emoji or symbol): remove it and try again.")
UNSTORABLE_FIELD = _l("This text contains a character that cannot be saved.")

# NUL, which PostgreSQL refuses in text; lone UTF-16 surrogates ("\ud800" in JSON), which have no
# UTF-8 form, so that a page or a database showing them fails. A well-formed pair ("\ud83d\ude00")
# is one character once parsed, and passes.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


@dataclass(frozen=True)
class ApiOperation:
    """What the API document (lti_tool.openapi) says of a JSON API view, declared beside it.

    `out`: the body of a success, a marshmallow schema (class) or a JSON Schema (dict), answered
    with `status` as `media_type`. `body`: the schema of the JSON object the view reads (its
    400, 413 and 422 are then documented), `example` one it accepts, `query`: the schema of its
    query string. `errors`:
    the other statuses it answers in the JSON error shape (401, and 403 for a view limited to
    roles, come from its launch token); `responses`: other statuses with a body of their own.
    """

    summary: str
    out: Any = None
    status: int = 200
    media_type: str = "application/json"
    body: Any = None
    example: Any = None
    query: Any = None
    errors: tuple[int, ...] = ()
    responses: dict[int, Any] = field(default_factory=dict)


def json_api(summary: str, **declaration: Any) -> Callable[[View], View]:
    """Mark a view as part of the JSON API, described by `summary` and `declaration` (the fields
    of ApiOperation). Its errors are answered in the JSON error shape whatever the client accepts
    (lti_tool.errors.wants_json reads the mark), and the API document (`/openapi.json`) describes
    it as declared here."""
    operation = ApiOperation(summary, **declaration)

    def mark(view: View) -> View:
        view.json_api = operation  # type: ignore[attr-defined]
        return view

    return mark


class RowIdConverter(IntegerConverter):
    """`<int:…>` in the tool's URLs (the app's `int` converter): an id of a row, so at most what
    the database's INTEGER holds (PostgreSQL's, 4 bytes). A larger number names no row: it is read
    as 0, which names none either, so that the view answers its own 404 (in the JSON error shape
    on the JSON API) instead of failing in the database driver."""

    LARGEST = 2**31 - 1

    def to_python(self, value: str) -> int:
        number = super().to_python(value)
        return number if number <= self.LARGEST else 0


def json_body() -> dict:
    """The request's JSON object, every text of which can be stored.

    Anything else is a 400 before a view sees it: no JSON, not an object (a list, a string), JSON
    nested deeper than the parser goes (`bad_json`); a text, value or key at any depth, with a NUL
    or a lone surrogate (`invalid_text`, naming one such text by its path, `answers.answers.0`).
    A body over MAX_CONTENT_LENGTH is a 413, refused before it is read.
    """
    try:
        body = request.get_json(silent=True)
    except RecursionError as exc:  # "[[[[…": deeper than Python's parser recurses
        raise ToolError(NOT_A_JSON_OBJECT, status=400, code="bad_json") from exc
    if not isinstance(body, dict):
        raise ToolError(NOT_A_JSON_OBJECT, status=400, code="bad_json")
    refuse_unstorable_text(body)
    return body


def form_body() -> MultiDict:
    """The request's form, every field name and value of which can be stored (else a 400
    `invalid_text` naming the field). A browser cannot send a lone surrogate in a form (the
    form's bytes are decoded as UTF-8, an invalid sequence becoming U+FFFD), but it can send a NUL."""
    form = request.form
    for name, value in form.items(multi=True):  # a field sent several times is named once
        refuse_unstorable_text({name: value})
    return form


def refuse_unstorable_text(data: Any) -> None:
    """Raise a 400 `invalid_text` for a text of `data` (dicts and lists at any depth, keys
    included) that holds a NUL or a lone surrogate, naming it by its dotted path. Iterative, so
    that no nesting the parser accepted can exhaust the stack; paths are built for containers and
    the refused text only, so that a body of numbers costs about what parsing it did."""
    pending: list[tuple[str, Any]] = [("", data)]
    while pending:
        path, value = pending.pop()
        if isinstance(value, str):  # `data` itself
            if UNSTORABLE.search(value):
                raise _unstorable(path)
            continue
        entries = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
        for key, item in entries:
            if (isinstance(key, str) and UNSTORABLE.search(key)) or (isinstance(item, str) and UNSTORABLE.search(item)):
                raise _unstorable(_join(path, key))
            if isinstance(item, (dict, list)):
                pending.append((_join(path, key), item))


def _join(path: str, key: str | int) -> str:
    name = UNSTORABLE.sub("\ufffd", str(key))  # the path itself is sent back: it must be storable too
    return f"{path}.{name}" if path else name


def _unstorable(path: str) -> ToolError:
    return ToolError(UNSTORABLE_TEXT, status=400, code="invalid_text", hint=path, fields={path: UNSTORABLE_FIELD})
