"""Fixtures: an app on a migrated database (SQLite, or PostgreSQL with DATABASE_URL), emptied
after each test; a client; a test platform whose JWKS is served through `responses`."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import responses
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import create_engine, text

from lti_tool import create_app
from lti_tool.common.store import MemoryStore
from lti_tool.extensions import db

from .lti_platform import TestPlatform


def pytest_addoption(parser):
    parser.addoption("--moodle", action="store_true", default=False,
                     help="run tests/moodle: the centre's journey through a real Moodle 5.1 (make test-moodle)")


def pytest_ignore_collect(collection_path: Path, config):
    """tests/moodle needs a real Moodle (PHP, its package): only `make test-moodle` (--moodle) runs it."""
    if collection_path == Path(__file__).parent / "moodle" and not config.getoption("--moodle"):
        return True
    return None


def reset_database(url: str) -> None:
    """Drop everything so the migrations, not `create_all`, build the schema."""
    engine = create_engine(url)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
    reset_database(url)
    app = create_app("test", SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return url


class IsolatedClient(FlaskClient):
    """Each request in its own app context, as in production: its own `g` and DB session,
    not the test's (Flask would otherwise reuse the context the test pushed)."""

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


def empty_tables() -> None:
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(table.delete())
    db.session.commit()


@pytest.fixture
def app(database_url):
    app = create_app("test", SQLALCHEMY_DATABASE_URI=database_url, LTI_STORE=MemoryStore(),
                     SERVER_NAME="tool.test", PREFERRED_URL_SCHEME="https")
    app.test_client_class = IsolatedClient
    with app.app_context():
        yield app
        db.session.rollback()
        empty_tables()
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def http_mock():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def platform(app, http_mock) -> TestPlatform:
    platform = TestPlatform()
    platform.serve_jwks(http_mock)
    platform.register()
    return platform


@pytest.fixture
def llm_call(client):
    """Ask the tool's AI assistant from a launch URL ("/t/<token>/"), as the page does, once its
    user acknowledged the notice about it, and return its JSON answer (text, call_id, usage…). The
    provider is the environment's: the built-in fake."""

    def call(url: str, prompt: str, **body):
        assert client.post(url + "ai/notice").status_code == 200  # "I understand", under the notice
        response = client.post(url + "ai/complete", json={"purpose": "assistant", "prompt": prompt, **body})
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()

    return call
