"""A database outage (issue 25, item 7): every request answers 503 with `Retry-After`, a page that
says the work typed is safe or the JSON error shape, one log line without a traceback naming the
request's id; after a restart no request fails (pool_pre_ping) and no acknowledged write is lost."""

from __future__ import annotations

import html
import http.client
import json
import logging
import re
import threading
import time
from dataclasses import dataclass, field

import pytest
from flask_migrate import upgrade
from sqlalchemy import select

from lti_tool import create_app
from lti_tool.activities.models import Draft
from lti_tool.extensions import db

from .conftest import IsolatedClient, reset_database
from .live_server import live_server
from .lti_platform import TestPlatform
from .pg_cluster import pg_cluster
from .test_submissions import SMART, open_item

# Nothing listens on port 1: every connection is refused at once, as when PostgreSQL is down.
UNREACHABLE = "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2"
TOKEN = "A" * 43


@pytest.fixture
def outage_app():
    app = create_app("test", SQLALCHEMY_DATABASE_URI=UNREACHABLE)
    yield app
    app.extensions["lti_http"].close()


def outage_lines(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if "database unavailable" in r.getMessage()]


def test_the_json_api_answers_503_with_retry_after_and_the_error_shape(outage_app, caplog):
    client = outage_app.test_client()
    with caplog.at_level(logging.INFO):
        response = client.put(f"/t/{TOKEN}/exercises/m1.t2.e1/draft", json={"answers": {"text": "mon brouillon"}},
                              headers={"X-Request-ID": "moodle-proxy-7f3a9c"})
    assert response.status_code == 503 and response.mimetype == "application/json"
    assert response.headers["Retry-After"] == "5"
    assert response.headers["X-Request-ID"] == "moodle-proxy-7f3a9c"
    error = response.get_json()["error"]
    assert error["code"] == "database_unavailable" and "base de données" in error["message"]
    assert error["hint"].startswith("Ce que vous avez saisi ne risque rien")
    [line] = outage_lines(caplog)
    assert line.levelno == logging.ERROR and line.exc_info is None
    assert "request_id=moodle-proxy-7f3a9c" in line.getMessage() and TOKEN not in line.getMessage()
    assert "Traceback" not in caplog.text


def test_a_page_answers_503_saying_the_work_is_safe_and_retrying_by_itself(outage_app, caplog):
    client = outage_app.test_client()
    with caplog.at_level(logging.INFO):
        response = client.get(f"/t/{TOKEN}/", headers={"X-Request-ID": "ok; forged=log line"})
    assert response.status_code == 503 and response.mimetype == "text/html"
    assert response.headers["Retry-After"] == "5"
    # An inbound id that could pass for more fields of a log line is replaced by one of the tool's own.
    request_id = response.headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{16}", request_id)
    page = response.get_data(as_text=True)
    assert "Ce que vous avez saisi ne risque rien" in page
    assert '<meta http-equiv="refresh" content="5">' in page and request_id in page
    [line] = outage_lines(caplog)
    assert f"request_id={request_id}" in line.getMessage() and "forged" not in caplog.text
    assert "Traceback" not in caplog.text


def test_every_request_gets_an_id_in_its_answer(client):
    first, second = client.get("/healthz"), client.get("/healthz")
    assert first.headers["X-Request-ID"] != second.headers["X-Request-ID"]
    assert client.get("/healthz", headers={"X-Request-ID": "lb-0123456789"}).headers["X-Request-ID"] == "lb-0123456789"
    assert client.get("/no-such-page").headers["X-Request-ID"]


def test_postgresql_connections_are_tested_when_taken_from_the_pool(app):
    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["pool_pre_ping"] is True


# --- a real outage: the test's own PostgreSQL cluster stopped and started under load ---------------

CLIENTS = 4


@dataclass
class Answer:
    phase: str
    kind: str  # save | page
    status: int  # 0: no answer (connection error)
    headers: dict
    body: str
    text: str | None = None  # the draft text a save sent


@dataclass
class Learner:
    """One client: saves its draft (a new text each time) and loads its page, in turn."""

    url: str
    answers: list[Answer] = field(default_factory=list)
    sent: list[str] = field(default_factory=list)  # every draft text sent, in order

    def request(self, port: int, phase: str, kind: str, number: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
        text = None
        try:
            if kind == "save":
                text = f"{self.url[3:11]} save {number}"
                self.sent.append(text)
                body = json.dumps({"answers": {**SMART, "specific": text}})
                connection.request("PUT", self.url + "exercises/m1.t2.e1/draft", body=body,
                                   headers={"Content-Type": "application/json"})
            else:
                connection.request("GET", self.url, headers={"Accept": "text/html"})
            response = connection.getresponse()
            self.answers.append(Answer(phase, kind, response.status, dict(response.getheaders()),
                                       response.read().decode("utf-8", "replace"), text))
        except OSError as exc:
            self.answers.append(Answer(phase, kind, 0, {}, repr(exc), text))
        finally:
            connection.close()


class Load:
    """CLIENTS threads, each a learner saving and loading in turn, tagged with the phase they
    started in; a phase ends when its last request is answered."""

    def __init__(self, port: int, learners: list[Learner]) -> None:
        self.port, self.learners = port, learners
        self.phase = "before"
        self.running = False
        self.in_flight = 0
        self.lock = threading.Condition()
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self._run, args=(learner,), daemon=True) for learner in learners]

    def _run(self, learner: Learner) -> None:
        number = 0
        while not self.stopping.is_set():
            with self.lock:
                if not self.running:
                    self.lock.wait(0.05)
                    continue
                self.in_flight += 1
                phase = self.phase
            number += 1
            try:
                learner.request(self.port, phase, "save" if number % 2 else "page", number)
            finally:
                with self.lock:
                    self.in_flight -= 1
                    self.lock.notify_all()
            time.sleep(0.02)

    def run(self, phase: str, seconds: float) -> None:
        with self.lock:
            self.phase, self.running = phase, True
            self.lock.notify_all()
        time.sleep(seconds)
        with self.lock:
            self.running = False
            while self.in_flight:
                self.lock.wait(1)

    def answers(self, phase: str) -> list[Answer]:
        return [a for learner in self.learners for a in learner.answers if a.phase == phase]


def lost_writes(app, learners: list[Learner]) -> int:
    """How many learners' last acknowledged save is not what the database holds. A draft is
    overwritten by each save, so the database must hold the last text acknowledged (2xx), or one
    sent after it (whose commit may have landed though its answer was an error)."""
    with app.app_context():
        kept = {answers["specific"] for answers in db.session.execute(select(Draft.answers)).scalars()}
        db.session.remove()
    lost = 0
    for learner in learners:
        acknowledged = [a.text for a in learner.answers if a.kind == "save" and a.status == 200]
        stored = [number for number, text in enumerate(learner.sent) if text in kept]
        if acknowledged and (not stored or stored[-1] < learner.sent.index(acknowledged[-1])):
            lost += 1
    return lost


@pytest.fixture
def own_cluster():
    try:
        with pg_cluster() as cluster:
            yield cluster
    except LookupError as missing:
        pytest.skip(str(missing))


def test_an_outage_answers_503_and_a_restart_loses_neither_requests_nor_writes(own_cluster, http_mock, caplog):
    reset_database(own_cluster.url)
    # An app on the cluster builds the schema and launches the learners (as the platform's tool,
    # https://tool.test); the live server, another app on the same database, serves their tokens.
    launcher = create_app("test", SQLALCHEMY_DATABASE_URI=own_cluster.url, SERVER_NAME="tool.test",
                          PREFERRED_URL_SCHEME="https")
    launcher.test_client_class = IsolatedClient
    platform = TestPlatform()
    platform.serve_jwks(http_mock)
    root = logging.getLogger()
    handlers = root.handlers[:]
    with launcher.app_context():
        upgrade()
        root.handlers[:] = handlers  # the migrations' logging configuration replaced them (caplog's included)
        platform.register()
        db.session.commit()
        learners = [Learner(open_item(platform, launcher.test_client(), sub=f"learner-{n}")) for n in range(CLIENTS)]
        db.engine.dispose()
    launcher.extensions["lti_http"].close()
    with live_server(own_cluster.url) as live:
        load = Load(live.port, learners)
        for thread in load.threads:
            thread.start()
        caplog.set_level(logging.INFO)
        try:
            load.run("before", 1.0)
            own_cluster.stop()  # PostgreSQL goes away under load
            load.run("outage", 2.0)
            own_cluster.start()
            checkpoints = [lost_writes(live.app, learners)]  # what the crash might have lost
            load.run("after restart", 2.0)
            # A restart while nobody is using the tool: every pooled connection is dead, unknown to the pool.
            own_cluster.stop()
            own_cluster.start()
            load.run("after a quiet restart", 1.5)
            checkpoints.append(lost_writes(live.app, learners))
        finally:
            load.stopping.set()
            for thread in load.threads:
                thread.join(20)

        before, outage = load.answers("before"), load.answers("outage")
        after = load.answers("after restart") + load.answers("after a quiet restart")
        assert before and all(a.status == 200 for a in before), {a.status for a in before}
        # The outage: 503 with Retry-After, the JSON error shape for the API, a page for people.
        refused = [a for a in outage if a.status == 503]
        assert len(refused) >= 8 and all(a.status in (200, 503) for a in outage), {a.status for a in outage}
        for answer in refused:
            assert answer.headers["Retry-After"] == "5" and answer.headers["X-Request-ID"]
            if answer.kind == "save":
                assert json.loads(answer.body)["error"]["code"] == "database_unavailable"
            else:
                assert "Ce que vous avez saisi ne risque rien" in html.unescape(answer.body)
        # After each restart, not one request fails (pool_pre_ping).
        failed_after = [a for a in after if a.status != 200]
        assert after and not failed_after, [(a.phase, a.status, a.body[:200]) for a in failed_after]
        # One log line per refused request, naming its id, and not a single traceback.
        lines = outage_lines(caplog)
        assert len(lines) == len(refused)
        assert {line.getMessage().rsplit("request_id=", 1)[1] for line in lines} == \
            {a.headers["X-Request-ID"] for a in refused}
        assert not [r for r in caplog.records if r.exc_info] and "Traceback" not in caplog.text
        lost = sum(checkpoints)
        report = {"503": len(refused), "outage requests": len(outage), "requests after restarts": len(after),
                  "errors after restarts": len(failed_after), "acknowledged writes lost": lost}
        print("database outage:", report)
        assert lost == 0
