"""gunicorn settings for production: `gunicorn -c gunicorn.conf.py wsgi:app`."""

import gc
import os

from gunicorn.glogging import Logger

from lti_tool.common.logging import redact

# This file runs the tool in production unless the environment says otherwise.
os.environ.setdefault("LTI_TOOL_ENV", "production")

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
# Threaded workers: a streamed AI answer holds a thread for its whole length (seconds), and
# nothing else: it gives its database connection back before the answer (activities/assistant.py)
# and waits on the network, not the CPU. So many threads per worker, a class's answers at once
# with threads left for pages; the work itself takes little CPU (bench/README.md, classroom.py).
# The timeout is the longest an answer may take (LLM_TIMEOUT plus margin), not 30 s.
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "128"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "120"))
accesslog = "-"
# gunicorn's default line, then the request's id (the tool's X-Request-ID answer header), as its log lines end.
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" request_id=%({x-request-id}o)s'
# The app is loaded once, in the master, and the workers fork from it: what it imported and built
# (Flask, SQLAlchemy, the catalogue's code, the LLM SDKs below) is shared by the workers, page for
# page, instead of each worker holding its own copy. The factory opens no connection
# (STYLE.md): the workers start with empty database and Redis pools.
preload_app = True


def when_ready(server):
    """In the master, before the first worker forks: the LLM SDKs, imported here, are shared by
    every worker (about 23 MB for openai, 15 MB for mistralai), where a worker would otherwise
    import its own copy with its first answer (lti_tool/llm/openai_compat.py, mistral.py)."""
    import openai  # noqa: F401
    from mistralai.client import Mistral  # noqa: F401


def pre_fork(server, worker):
    # What the master holds is never collected again (Python's gc.freeze, made for pre-fork
    # servers): a worker's garbage collector then leaves those pages shared instead of copying them.
    gc.freeze()


class RedactingLogger(Logger):
    """Access log lines without launch session tokens or invites."""

    def access(self, resp, req, environ, request_time):
        environ = dict(environ)
        environ["PATH_INFO"] = redact(environ.get("PATH_INFO", ""))
        environ["QUERY_STRING"] = redact(environ.get("QUERY_STRING", ""))
        environ["RAW_URI"] = redact(environ.get("RAW_URI", ""))
        super().access(resp, req, environ, request_time)


logger_class = RedactingLogger
