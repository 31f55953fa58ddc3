"""Logging that never writes a launch session token, even in access logs."""

from __future__ import annotations

import logging
import re

TOKEN_IN_PATH = re.compile(r"/t/[A-Za-z0-9_\-]{16,}")
TOKEN_IN_QUERY = re.compile(r"((?:invite|registration_token|token)=)[^&\s\"]+")


def redact(text: str) -> str:
    return TOKEN_IN_QUERY.sub(r"\1[redacted]", TOKEN_IN_PATH.sub("/t/[redacted]", text))


class RedactTokens(logging.Filter):
    """Rewrite a record's message with bearer tokens in URLs masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
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
