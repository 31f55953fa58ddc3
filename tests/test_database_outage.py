"""A database outage (issue 25, item 7): every request answers 503 with `Retry-After`, a page that
says the work typed is safe or the JSON error shape, one log line without a traceback naming the
request's id; after a restart no request fails (pool_pre_ping) and no acknowledged write is lost."""

from __future__ import annotations

import logging
import re

import pytest

from lti_tool import create_app

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
