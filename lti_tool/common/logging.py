"""Logging that never writes a launch session token, even in access logs, and that names the
request each line comes from (its request id, echoed in the `X-Request-ID` response header)."""

from __future__ import annotations

import logging
import re
import secrets

from flask import g, has_request_context, request

TOKEN_IN_PATH = re.compile(r"/t/[A-Za-z0-9_\-]{16,}")
TOKEN_IN_QUERY = re.compile(r"((?:invite|registration_token|token)=)[^&\s\"]+")


def redact(text: str) -> str:
    return TOKEN_IN_QUERY.sub(r"\1[redacted]", TOKEN_IN_PATH.sub("/t/[redacted]", text))


# An inbound X-Request-ID (a proxy's, a load balancer's) is kept when it looks like an id: no
# spaces or control characters that would forge a log line, nothing long.
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:@/+=-]{8,128}")
REQUEST_ID_HEADER = "X-Request-ID"


def request_id() -> str | None:
    """This request's id: the inbound `X-Request-ID` when it is sane, else 16 random hex
    digits, chosen once per request. None outside a request (the CLI, the worker)."""
    if not has_request_context():
        return None
    chosen = g.get("request_id")
    if chosen is None:
        inbound = request.headers.get(REQUEST_ID_HEADER, "")
        chosen = inbound if SANE_REQUEST_ID.fullmatch(inbound) else secrets.token_hex(8)
        g.request_id = chosen
    return chosen


class RedactTokens(logging.Filter):
    """Rewrite a record's message with bearer tokens in URLs masked, and, in a request, ending
    with the request's id (`request_id=…`, also the record's `request_id` attribute)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        current = request_id()
        if current is not None and getattr(record, "request_id", None) is None:
            record.request_id = current
            cleaned = f"{cleaned} request_id={current}"
        if cleaned != message:
            record.msg = cleaned
            record.args = None
        return True


def install_redaction(*logger_names: str) -> None:
    """Attach the filter to the named loggers and to every logger below them that exists (`lti_tool`
    → `lti_tool.errors`, …; idempotent). A logger's filters only see the records logged on that
    logger itself, never those its children pass up, so each one needs its own."""
    manager = logging.Logger.manager
    for name in logger_names:
        children = [n for n in list(manager.loggerDict) if n.startswith(name + ".")]
        for logger in (logging.getLogger(name), *(logging.getLogger(n) for n in children)):
            if not any(isinstance(f, RedactTokens) for f in logger.filters):
                logger.addFilter(RedactTokens())
