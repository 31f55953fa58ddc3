"""gunicorn settings for production: `gunicorn -c gunicorn.conf.py wsgi:app`."""

import os

from gunicorn.glogging import Logger

from lti_tool.common.logging import redact

# This file runs the tool in production unless the environment says otherwise.
os.environ.setdefault("LTI_TOOL_ENV", "production")

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
# Streamed AI answers hold a request for their whole length: threads keep other pages answering,
# and the timeout is the longest an answer may take (LLM_TIMEOUT plus margin), not 30 s.
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "8"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "120"))
accesslog = "-"
# gunicorn's default line, then the request's id (the tool's X-Request-ID answer header), as its log lines end.
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" request_id=%({x-request-id}o)s'


class RedactingLogger(Logger):
    """Access log lines without launch session tokens or invites."""

    def access(self, resp, req, environ, request_time):
        environ = dict(environ)
        environ["PATH_INFO"] = redact(environ.get("PATH_INFO", ""))
        environ["QUERY_STRING"] = redact(environ.get("QUERY_STRING", ""))
        environ["RAW_URI"] = redact(environ.get("RAW_URI", ""))
        super().access(resp, req, environ, request_time)


logger_class = RedactingLogger
