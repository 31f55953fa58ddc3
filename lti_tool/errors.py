"""One place that turns errors into an HTML page or a JSON body, in the user's language."""

from __future__ import annotations

import logging

from flask import Flask, current_app, render_template, request
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException

from .common.errors import ToolError
from .common.i18n import lazy_gettext as _l
from .common.logging import redact, request_id
from .extensions import db

log = logging.getLogger(__name__)


HTTP_MESSAGES = {
    400: _l("The request is not valid."),
    401: _l("You need to open this page from your course."),
    403: _l("You are not allowed to see this page."),
    404: _l("This page does not exist."),
    405: _l("This address does not accept this kind of request."),
    413: _l("What you sent is too large for the tool: shorten it, then try again."),
    429: _l("Too many requests: wait a moment and try again."),
    500: _l("Something went wrong on our side. Try again in a moment."),
}

# The database is down, restarting or unreachable: a 503 the client retries after this many seconds.
DATABASE_RETRY_AFTER = 5
DATABASE_UNAVAILABLE = _l("The tool cannot reach its database for a moment.")
DATABASE_UNAVAILABLE_HINT = _l("What you typed is safe: it stays in this page, and the page saves it by itself "
                               "as soon as the tool answers again. Nothing to do but wait a few seconds.")


def wants_json() -> bool:
    """Whether this request's error is answered in the JSON error shape rather than as a page.

    Always on the JSON API, whatever the client accepts: the views marked `common.http.json_api`
    (the mark is the one list of them). Elsewhere (the pages, and URLs no view answers: an unknown
    path, a method a path does not take) when the client sent JSON or prefers it to HTML.
    """
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    if getattr(view, "json_api", False):
        return True
    if request.is_json:
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def error_response(status: int, code: str, message, hint=None, fields=None, retry_after: int | None = None):
    headers = {"Retry-After": str(retry_after)} if retry_after else {}
    if wants_json():
        body = {"error": {"code": code, "message": str(message)}}
        if hint:
            body["error"]["hint"] = str(hint)
        if fields:
            body["error"]["fields"] = {name: str(text) for name, text in fields.items()}
        return body, status, headers
    # A page asked for by GET loads itself again once the database may be back.
    refresh = retry_after if retry_after and request.method == "GET" else None
    page = render_template("errors/error.html", status=status, code=code, message=message, hint=hint,
                           refresh=refresh, request_id=request_id())
    return page, status, headers


def is_database_unavailable(exc: BaseException) -> bool:
    """Whether `exc` says the database cannot be used right now (down, restarting, unreachable,
    a connection cut), rather than that a statement is wrong: the request may simply be tried again."""
    if isinstance(exc, (OperationalError, InterfaceError)):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def database_unavailable(exc: BaseException):
    """The 503 for a database outage: `Retry-After`, and one log line (no traceback: an outage
    fails every request alike, and a traceback each would bury the log)."""
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001  the connection is gone already; the pool replaces it
        pass
    cause = getattr(exc, "orig", None) or exc
    # The driver's first line says which (refused, terminated, timed out); never a password (none in it).
    detail = (str(cause).strip().splitlines() or [""])[0][:200]
    log.error("database unavailable: %s.%s (%s) on %s %s", type(cause).__module__, type(cause).__qualname__, detail,
              request.method, redact(request.path))
    return error_response(503, "database_unavailable", DATABASE_UNAVAILABLE, DATABASE_UNAVAILABLE_HINT,
                          retry_after=DATABASE_RETRY_AFTER)


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ToolError)
    def handle_tool_error(exc: ToolError):
        db.session.rollback()
        log.info("refused request", extra={"code": exc.code, "status": exc.status, "path": redact(request.path)})
        return error_response(exc.status, exc.code, exc.message, exc.hint, exc.fields)

    @app.errorhandler(HTTPException)
    def handle_http_error(exc: HTTPException):
        status = exc.code or 500
        return error_response(status, f"http_{status}", HTTP_MESSAGES.get(status, exc.description))

    @app.errorhandler(DBAPIError)
    def handle_database_error(exc: DBAPIError):
        if is_database_unavailable(exc):
            return database_unavailable(exc)
        return handle_unexpected(exc)

    @app.errorhandler(Exception)
    def handle_unexpected(exc: Exception):
        db.session.rollback()
        log.exception("unhandled error on %s", request.path)  # the tool's loggers redact tokens (common.logging)
        return error_response(500, "internal_error", HTTP_MESSAGES[500])
