"""The tool as production runs it: `gunicorn -c gunicorn.conf.py wsgi:app`, in a child process.

One worker of the shipped settings serves two streamed answers and a page at once; two instances
(two gunicorns on two ports, sharing the database and Redis) serve one learner: launched on one,
they stream and submit on the other. Not timed: the fake LLM holds the answers open until the test
releases them (an Event), and the timeouts only keep a broken server from hanging the suite.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from sqlalchemy import select

from lti_tool.declarations.models import Submission
from lti_tool.extensions import db

from .live_server import free_port
from .llm_fake_servers import FakeChatServer
from .llm_helpers import PROMPT_EXERCISE, calls, configure, fresh_breakers  # noqa: F401  (fixture)
from .lti_platform import CLAIM, TestPlatform
from .test_submissions import REQUIRED, declaration

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
AI_ITEM = "m1.t4"  # its first exercise, m1.t4.e1 (PROMPT_EXERCISE), asks the assistant
GUARD = 60  # seconds: only a broken server ever waits this long
LANDING = re.compile(r'history\.replaceState\(null, "", "(/t/[^"]+)"\)')
PROBE_COOKIE = "lti1p3-cookies-ok"  # lti_tool.lti.views.PROBE_COOKIE: the browser passed the cookie check
REDIS_URL = "redis://127.0.0.1:6379/0"  # as tests/test_site.py: the instances' shared login state
# What the test's environment must not pass on: the instances get the settings below.
UNSET = ("LTI_TOOL_ENV", "DATABASE_URL", "REDIS_URL", "TOOL_BASE_URL", "DEMO_PLATFORM", "SECRET_KEY", "BEHIND_PROXY",
         "FLASK_APP", "OUTBOX_THREAD")


# --- the platform, its key set served over HTTP ----------------------------------------------


class _KeySetHandler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's naming)
        body = json.dumps(self.server.platform.jwks()).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def platform(app) -> Iterator[TestPlatform]:
    """The test platform, registered, with its issuer and key set on 127.0.0.1: the tool in
    another process fetches its keys over HTTP."""
    keys = ThreadingHTTPServer((HOST, 0), _KeySetHandler)
    keys.daemon_threads = True
    platform = keys.platform = TestPlatform(issuer=f"http://{HOST}:{keys.server_address[1]}")
    thread = threading.Thread(target=keys.serve_forever, daemon=True)
    thread.start()
    platform.register()
    yield platform
    keys.shutdown()
    keys.server_close()


@pytest.fixture
def llm() -> Iterator[FakeChatServer]:
    with FakeChatServer(answer="Première piste : partir d'une situation réelle. Deuxième piste : une échéance.",
                        chunks=6) as server:
        yield server


# --- the tool under gunicorn -----------------------------------------------------------------


class Instance:
    """One `gunicorn -c gunicorn.conf.py wsgi:app` of this checkout, one worker, on a free port."""

    def __init__(self, database_url: str, log: Path) -> None:
        self.port = free_port()
        self.base = f"http://{HOST}:{self.port}"
        env = {k: v for k, v in os.environ.items() if k not in UNSET and not k.startswith("GUNICORN_")}
        env |= {
            "GUNICORN_WORKERS": "1", "GUNICORN_BIND": f"{HOST}:{self.port}",
            "LTI_TOOL_ENV": "development",  # production refuses an http:// TOOL_BASE_URL
            "DEMO_PLATFORM": "0", "OUTBOX_THREAD": "0",  # as in production
            "SECRET_KEY": "test-secret",  # the test app's (TestConfig): the centre's AI key is encrypted with it
            "DATABASE_URL": database_url, "REDIS_URL": REDIS_URL, "TOOL_BASE_URL": self.base,
        }
        self.log = log
        with open(log, "wb") as out:  # its own process group: the worker ends with it
            self.proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
                                         cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                         start_new_session=True)

    def wait_ready(self) -> None:
        deadline = threading.Event()
        for _ in range(GUARD * 10):
            assert self.proc.poll() is None, f"gunicorn exited:\n{self.log.read_text()}"
            connection = http.client.HTTPConnection(HOST, self.port, timeout=2)
            try:
                connection.request("GET", "/healthz")
                if connection.getresponse().status == 200:
                    return
            except OSError:
                pass
            finally:
                connection.close()
            deadline.wait(0.1)
        raise AssertionError(f"gunicorn did not answer within {GUARD} s:\n{self.log.read_text()}")

    def worker_count(self) -> int:
        with open(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children") as children:
            return len(children.read().split())

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=GUARD)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


@contextmanager
def instances(database_url: str, tmp_path: Path, count: int) -> Iterator[list[Instance]]:
    started = [Instance(database_url, tmp_path / f"gunicorn-{n}.log") for n in range(count)]
    try:
        for instance in started:
            instance.wait_ready()
        yield started
    finally:
        for instance in started:
            instance.stop()


# --- a browser, over HTTP --------------------------------------------------------------------


def request(instance: Instance, method: str, path: str, body: dict | str | None = None,
            headers: dict[str, str] | None = None) -> tuple[http.client.HTTPResponse, bytes]:
    """One request on its own connection: (response, body)."""
    connection = http.client.HTTPConnection(HOST, instance.port, timeout=GUARD)
    headers = dict(headers or {})
    if isinstance(body, dict):
        body, headers["Content-Type"] = json.dumps(body), "application/json"
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response, data


def launch(instance: Instance, platform: TestPlatform, item: str, sub: str) -> str:
    """A learner's launch on `instance` (OIDC login, then the id_token): their token URL."""
    target = instance.base + "/lti/launch"
    form = {"iss": platform.issuer, "login_hint": sub, "target_link_uri": target, "lti_message_hint": "hint-1",
            "client_id": platform.client_id, "lti_deployment_id": platform.deployment_id}
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": f"{PROBE_COOKIE}=1"}
    response, data = request(instance, "POST", "/lti/login", urlencode(form), headers)
    assert response.status == 302, data
    query = {k: v[0] for k, v in parse_qs(urlsplit(response.getheader("Location")).query).items()}
    # The state cookies are `Secure`: a browser on http:// would drop them, this one sends them back.
    headers["Cookie"] = "; ".join([f"{PROBE_COOKIE}=1"] + [cookie.split(";", 1)[0]
                                                             for cookie in response.headers.get_all("Set-Cookie")])
    claims = platform.claims(query["nonce"], sub=sub, link_id="link-" + item, **{
        CLAIM + "custom": {"catalogue_item": item}, CLAIM + "target_link_uri": target})
    response, data = request(instance, "POST", "/lti/launch",
                             urlencode({"id_token": platform.sign(claims), "state": query["state"]}), headers)
    assert response.status == 200, data
    return LANDING.search(data.decode()).group(1)


class Stream:
    """`POST …/ai/chat`, read as the page reads it: events as they arrive."""

    def __init__(self, instance: Instance, url: str) -> None:
        self.connection = http.client.HTTPConnection(HOST, instance.port, timeout=GUARD)
        self.connection.request("POST", url + "ai/chat", headers={"Content-Type": "application/json",
                                                                  "Accept": "text/event-stream"},
                                body=json.dumps({"purpose": "exercise", "exercise_id": PROMPT_EXERCISE,
                                                 "prompt": "Comment fixer un objectif à une apprentie ?"}))
        self.response = self.connection.getresponse()
        assert self.response.status == 200, self.response.read()
        self.events: list[tuple[str, dict]] = []

    def next_event(self) -> tuple[str, dict]:
        name = None
        while True:
            line = self.response.readline().decode()
            assert line, "the stream was cut"
            if line.startswith("event: "):
                name = line[7:].strip()
            elif line.startswith("data: "):
                self.events.append((name, json.loads(line[6:])))
                return self.events[-1]

    def rest(self) -> str:
        """Every event up to the end: the answer's text."""
        while self.events[-1][0] == "delta":
            self.next_event()
        self.connection.close()
        return "".join(data["text"] for name, data in self.events if name == "delta")


# --- the tests -------------------------------------------------------------------------------


def test_one_worker_serves_two_streams_and_a_page_at_once(app, platform, llm, database_url, tmp_path):
    """The production settings, with one worker: two answers streaming (held open by the LLM) do
    not keep a page from being answered, and both end whole and logged once released."""
    configure(llm)
    llm.hold = threading.Event()
    with instances(database_url, tmp_path, 1) as [tool]:
        assert tool.worker_count() == 1
        learners = [launch(tool, platform, AI_ITEM, f"learner-{n}") for n in (1, 2)]
        for url in learners:
            assert request(tool, "POST", url + "ai/notice")[0].status == 200
        streams = [Stream(tool, url) for url in learners]
        for stream in streams:
            assert stream.next_event()[0] == "delta"  # the first words arrived; the rest is held
        assert llm.wait_held(2, GUARD)

        page, data = request(tool, "GET", learners[0], headers={"Accept": "text/html"})
        saved, _ = request(tool, "PUT", learners[1] + f"exercises/{PROMPT_EXERCISE}/draft",
                           {"answers": {"prompt": "Mon brouillon"}})
        assert page.status == 200 and b'data-testid="learner-page"' in data and saved.status == 200
        assert llm.wait_held(2, 0)  # both answers were still open meanwhile

        llm.hold.set()
        texts = [stream.rest() for stream in streams]
    assert texts == [llm.answer, llm.answer]
    logged = calls()
    assert [(call.outcome, call.answer) for call in logged] == [("ok", llm.answer)] * 2
    assert sorted(data["call_id"] for stream in streams for name, data in stream.events if name == "done") == \
        [call.id for call in logged]


def test_a_learner_launched_on_one_instance_streams_and_submits_on_the_other(app, platform, llm, database_url,
                                                                           tmp_path):
    """Two instances share the database and Redis, nothing else: the launch session, the notice's
    acknowledgement, the AI log and the submission are the same wherever the request lands."""
    configure(llm)
    with instances(database_url, tmp_path, 2) as (first, second):
        url = launch(first, platform, AI_ITEM, "learner-a")
        assert request(second, "POST", url + "ai/notice")[0].status == 200
        stream = Stream(second, url)
        stream.next_event()
        assert stream.rest() == llm.answer and stream.events[-1][0] == "done"
        draft = {"answers": {"prompt": "Comment fixer un objectif ?", "answer": llm.answer}}
        assert request(first, "PUT", url + f"exercises/{PROMPT_EXERCISE}/draft", draft)[0].status == 200
        assert request(first, "PUT", url + "checklist/ticks", {"ticks": dict.fromkeys(REQUIRED, True)})[0].status == 200
        response, data = request(second, "POST", url + "submissions", declaration())
        assert response.status == 201, data
    [call] = calls()
    db.session.expire_all()
    [submission] = db.session.execute(select(Submission)).scalars()
    assert (call.outcome, stream.events[-1][1]["call_id"]) == ("ok", call.id)
    assert [frozen["id"] for frozen in submission.ai_log] == [call.id]
