"""Health check, configuration guards, the shared store, role mapping and log redaction."""

from __future__ import annotations

import base64
import logging
import secrets
import uuid

import pytest

from config import ConfigError, load_config
from lti_tool import create_app
from lti_tool.common.logging import RedactTokens, redact
from lti_tool.common.store import MemoryStore, RedisStore
from lti_tool.extensions import db
from lti_tool.lti.roles import map_roles

from .lti_platform import LIS, landing_url

# What `python -c "import secrets; print(secrets.token_urlsafe(48))"` prints: a key production takes.
STRONG_KEY = "q5yC0cD8m3Wf1xJvKpR7tLzN2bHs9GaE4uYoVi6eXwTn-jMk_QdZrUlFgBhS0aPc"


def test_healthz_reports_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok", "store": "ok"}


def test_healthz_is_503_when_the_database_is_unreachable(database_url):
    app = create_app("test", SQLALCHEMY_DATABASE_URI="postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2")
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["database"] == "unreachable"


def test_production_refuses_the_demo_platform(tmp_path, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", STRONG_KEY)
    monkeypatch.setenv("TOOL_BASE_URL", "https://tool.example")
    monkeypatch.setenv("DEMO_PLATFORM", "1")
    with pytest.raises(ConfigError, match="DEMO_PLATFORM"):
        load_config("production", tmp_path)


def test_production_needs_a_secret_key_and_https(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_config("production", tmp_path)
    monkeypatch.setenv("SECRET_KEY", STRONG_KEY)
    monkeypatch.setenv("TOOL_BASE_URL", "http://tool.example")
    with pytest.raises(ConfigError, match="https"):
        load_config("production", tmp_path)


@pytest.mark.parametrize("weak", [
    "a",
    "dev-only-secret-change-me",  # the development default
    "test-secret",  # the tests' default
    "change-me-to-a-long-random-string",  # .env.example's placeholder, copied as is
    "  change-me-to-a-long-random-string ",
    "0b4f7c1e9a2d8b3f6e5c0a1d7b9e2f4c",  # 16 random bytes in hexadecimal: half what is needed
    "Mentorat-IA-2026!" * 6,  # long, but a pattern repeated
    "a" * 200,
])
def test_production_refuses_a_weak_or_published_secret_key(tmp_path, monkeypatch, weak):
    """SECRET_KEY derives the key that encrypts the tool's private keys and the centres' AI keys:
    a guessable one lets whoever holds a copy of the database decrypt them offline."""
    for name, value in (("SECRET_KEY", weak), ("TOOL_BASE_URL", "https://tool.example"), ("DEMO_PLATFORM", "0"),
                        ("REDIS_URL", "redis://127.0.0.1:6379/0")):
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match="SECRET_KEY") as refused:
        load_config("production", tmp_path)
    assert 'python -c "import secrets; print(secrets.token_urlsafe(48))"' in str(refused.value)
    monkeypatch.setenv("LTI_TOOL_ENV", "development")
    assert load_config("development", tmp_path).SECRET_KEY == weak  # development takes any key


@pytest.mark.parametrize("make", [
    lambda: secrets.token_urlsafe(48), lambda: secrets.token_urlsafe(32), lambda: secrets.token_hex(32),
    lambda: base64.b64encode(secrets.token_bytes(32)).decode(),  # openssl rand -base64 32
])
def test_production_takes_a_key_of_32_random_bytes_or_more(tmp_path, monkeypatch, make):
    for name, value in (("TOOL_BASE_URL", "https://tool.example"), ("DEMO_PLATFORM", "0"),
                        ("REDIS_URL", "redis://127.0.0.1:6379/0")):
        monkeypatch.setenv(name, value)
    for _ in range(200):  # whatever the draw
        monkeypatch.setenv("SECRET_KEY", make())
        assert load_config("production", tmp_path).ENV_NAME == "production"


def test_production_needs_redis_and_the_compiled_french_interface(tmp_path, monkeypatch, database_url):
    import lti_tool

    for name, value in (("SECRET_KEY", STRONG_KEY), ("TOOL_BASE_URL", "https://tool.example"), ("DEMO_PLATFORM", "0"),
                        ("DATABASE_URL", database_url)):
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("REDIS_URL", raising=False)
    with pytest.raises(ConfigError, match="REDIS_URL"):
        load_config("production", tmp_path)
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    assert create_app("production").config["ENV_NAME"] == "production"  # compiled by `make install`
    monkeypatch.setattr(lti_tool, "TRANSLATIONS", tmp_path / "translations")  # not compiled
    with pytest.raises(ConfigError, match="pybabel compile"):
        create_app("production")
    assert create_app("development").config["ENV_NAME"] == "development"  # works, in English


def test_no_environment_named_means_development_only_on_this_machine(tmp_path, monkeypatch):
    """Development turns the demo platform on with a known secret key: never by default on a
    public address (a forgotten LTI_TOOL_ENV in production)."""
    monkeypatch.delenv("LTI_TOOL_ENV", raising=False)
    monkeypatch.delenv("DEMO_PLATFORM", raising=False)
    for local in (None, "http://localhost:5000", "http://127.0.0.1:8000"):
        if local is None:
            monkeypatch.delenv("TOOL_BASE_URL", raising=False)
        else:
            monkeypatch.setenv("TOOL_BASE_URL", local)
        settings = load_config(None, tmp_path)
        assert settings.ENV_NAME == "development" and settings.DEMO_PLATFORM
    monkeypatch.setenv("TOOL_BASE_URL", "https://mentorat.example.org")
    with pytest.raises(ConfigError, match="LTI_TOOL_ENV"):
        load_config(None, tmp_path)
    monkeypatch.setenv("LTI_TOOL_ENV", "development")  # said explicitly: the operator's choice
    assert load_config(None, tmp_path).DEMO_PLATFORM


def test_demo_platform_is_absent_when_off(database_url):
    app = create_app("test", DEMO_PLATFORM=False, SQLALCHEMY_DATABASE_URI=database_url)
    assert app.test_client().get("/demo").status_code == 404


@pytest.mark.parametrize("store", ["memory", "redis"])
def test_store_pop_is_single_use(store):
    kv = MemoryStore() if store == "memory" else RedisStore("redis://127.0.0.1:6379/0", prefix=f"t-{uuid.uuid4().hex}:")
    kv.set("nonce", True, 60)
    assert kv.get("nonce") is True
    assert kv.pop("nonce") is True
    assert kv.pop("nonce") is None and kv.get("nonce") is None


def test_launch_and_replay_with_redis_store(database_url, http_mock):
    """Several gunicorn workers share nonces through Redis: a replay on any worker is refused."""
    from .conftest import IsolatedClient, empty_tables
    from .lti_platform import TestPlatform

    prefix = f"t-{uuid.uuid4().hex}:"
    workers = [create_app("test", SQLALCHEMY_DATABASE_URI=database_url, SERVER_NAME="tool.test",
                          LTI_STORE=RedisStore("redis://127.0.0.1:6379/0", prefix=prefix)) for _ in range(2)]
    for worker in workers:
        worker.test_client_class = IsolatedClient
    platform = TestPlatform()
    platform.serve_jwks(http_mock)
    with workers[0].app_context():
        platform.register()
    try:
        browser = workers[0].test_client()
        auth = platform.login(browser)
        id_token = platform.sign(platform.claims(auth["nonce"]))
        # The launch lands on the other worker; the browser's cookies come along.
        second = workers[1].test_client()
        second._cookies = browser._cookies
        assert second.post("/lti/launch", data={"id_token": id_token, "state": auth["state"]}).status_code == 200
        # The launch deleted its state cookie; a replay carrying a copy of it meets the spent nonce.
        browser.set_cookie("lti1p3-" + auth["state"], auth["state"], domain="tool.test", path="/lti/")
        replay = browser.post("/lti/launch", data={"id_token": id_token, "state": auth["state"]})
        assert replay.status_code == 401 and "replayed_nonce" in replay.get_data(as_text=True)
    finally:
        with workers[0].app_context():
            empty_tables()
        for worker in workers:
            with worker.app_context():
                db.engine.dispose()


@pytest.mark.parametrize("roles, expected", [
    ([LIS + "membership#Learner"], "learner"),
    ([LIS + "membership#Instructor"], "trainer"),
    ([LIS + "membership/Instructor#TeachingAssistant"], "trainer"),
    ([LIS + "membership#ContentDeveloper"], "trainer"),
    (["Instructor"], "trainer"),
    ([LIS + "system/person#Administrator", LIS + "institution/person#Instructor"], "admin"),
    ([LIS + "institution/person#Instructor"], "learner"),  # institution role, not a course role
    ([LIS + "membership#Learner", LIS + "system/person#Administrator"], "admin"),
    # What Moodle sends for a site administrator (lti_get_ims_role): Instructor, then both admins
    ([LIS + "membership#Instructor", LIS + "system/person#Administrator",
      LIS + "institution/person#Administrator"], "admin"),
    ([LIS + "membership#Administrator"], "trainer"),  # a course's administrator, not the site's
    ([LIS + "membership#Mentor"], "learner"),  # scoped to its mentees by LTI: never the whole course
    ([LIS + "membership#Mentor", LIS + "membership#Instructor"], "trainer"),
    ([], "learner"),
    (["http://example.com/unknown#Role"], "learner"),
])
def test_role_mapping(roles, expected):
    assert map_roles(roles) == expected


def test_tokens_never_reach_the_logs(caplog):
    token = "Abcdefghijklmnopqrstuvwxyz0123456789_-XYZ"
    assert redact(f'GET /t/{token}/links/3 HTTP/1.1') == "GET /t/[redacted]/links/3 HTTP/1.1"
    assert "secret-invite" not in redact("GET /lti/register?invite=secret-invite&x=1")
    logger = logging.getLogger("werkzeug.test-redaction")
    logger.addFilter(RedactTokens())
    with caplog.at_level(logging.INFO, logger="werkzeug.test-redaction"):
        logger.info('"%s" 200', f"GET /t/{token}/ HTTP/1.1")
    assert token not in caplog.text and "/t/[redacted]/" in caplog.text


def test_an_unhandled_error_under_a_token_url_logs_no_token(app, client, platform, caplog, monkeypatch):
    """`lti_tool.errors` logs the failing path: the redaction must hold on that child logger too
    (a logger's filters never see what its children pass up)."""
    import lti_tool.activities.views as activity_views

    url = landing_url(platform.launch(client, "learner"))
    token = url.split("/")[2]

    def broken(*args, **kwargs):
        raise RuntimeError("template bug")

    monkeypatch.setattr(activity_views, "_link_page", broken)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    with caplog.at_level(logging.INFO):
        assert client.get(url).status_code == 500
        assert client.get(url + "links/999999").status_code in (403, 404)  # a refusal, logged with its path
        # Any of the tool's loggers, not only the one named at set-up
        logging.getLogger("lti_tool.gradebook.delivery").warning("retrying %s", "https://tool.test" + url)
    logged = "\n".join(f"{r.getMessage()} {getattr(r, 'path', '')}" for r in caplog.records)
    assert "unhandled error on /t/[redacted]/" in logged and "retrying https://tool.test/t/[redacted]/" in logged
    assert token not in logged and token not in caplog.text


def test_times_are_shown_in_the_centres_time_zone_and_language(app):
    """Stored in UTC; a learner in France reads a receipt at French time (summer time included)."""
    from datetime import datetime

    from lti_tool.common.i18n import local_time, use_locale

    with app.test_request_context(headers={"Accept-Language": "fr"}):
        winter = datetime(2026, 12, 3, 17, 5, 7)
        assert local_time(winter) == "03/12/2026 18:05"
        # One format: receipts add the seconds and the offset, nothing else changes.
        assert local_time(winter, seconds=True) == "03/12/2026 18:05:07 (UTC+01:00)"
        assert local_time("2026-07-01T10:00:00Z") == "01/07/2026 12:00"  # JSON columns' ISO text
        assert local_time(None) == ""
        use_locale("en")
        assert local_time(winter) == "3 Dec 2026, 18:05"
        assert local_time(winter, seconds=True) == "3 Dec 2026, 18:05:07 (UTC+01:00)"


def test_a_centre_shows_its_times_in_its_own_time_zone(client, platform):
    """A centre overseas sets its time zone: its pages, receipts and the times the pages' scripts
    show follow it; another centre's stay in the operator's (Paris)."""
    import html
    import re

    from .test_learner_receipts import launch
    from .test_submissions import REQUIRED

    admin = launch(platform, client, "m1.t2", "admin-1", role="admin")
    assert 'id="timezone"' in client.get(admin + "admin/centre").get_data(as_text=True)
    refused = client.put(admin + "admin/centre", json={"scale": "aias", "timezone": "Mars/Olympus"})
    assert refused.status_code == 422 and "timezone" in refused.get_json()["error"]["fields"]
    learner = launch(platform, client, "m1.t2", "learner-1")
    paris = client.put(learner + "checklist/ticks", json={"ticks": {REQUIRED[0]: True}}).get_json()
    assert client.put(admin + "admin/centre", json={"scale": "aias", "timezone": "America/Cayenne"}).status_code == 200
    learner = launch(platform, client, "m1.t2", "learner-1")  # a new launch: the new setting
    cayenne = client.put(learner + "checklist/ticks", json={"ticks": {REQUIRED[1]: True}}).get_json()
    hour = lambda text: int(re.search(r" (\d{2}):\d{2}", text).group(1))  # noqa: E731
    # The same tick, shown in each centre's time: Paris (UTC+1 or +2) is 4 or 5 hours ahead of Cayenne (UTC-3).
    from datetime import datetime
    from zoneinfo import ZoneInfo

    at = datetime.fromisoformat(paris["ticks"][REQUIRED[0]])
    ahead = (at.astimezone(ZoneInfo("Europe/Paris")).utcoffset() - at.astimezone(ZoneInfo("America/Cayenne")).utcoffset())
    assert (hour(paris["ticks_shown"][REQUIRED[0]]) - hour(cayenne["ticks_shown"][REQUIRED[0]])) % 24 == ahead.seconds // 3600
    page = html.unescape(client.get(learner).get_data(as_text=True))
    assert cayenne["ticks_shown"][REQUIRED[0]] in page
    assert 'value="America/Cayenne" selected' in client.get(admin + "admin/centre").get_data(as_text=True)


def test_the_language_a_launch_fixes_applies_to_strings_read_before_it(app):
    """Strings are translated through one lookup per request (common.i18n.translations); a
    language fixed later in the request (the launch's locale) still wins, in code and templates."""
    from flask import render_template_string

    from lti_tool.common.i18n import gettext, lazy_gettext, use_locale

    with app.test_request_context(headers={"Accept-Language": "fr-FR,fr;q=0.9"}):
        stop = lazy_gettext("Stop")
        assert gettext("Stop") == "Arrêter" and str(stop) == "Arrêter"
        assert render_template_string("{{ _('Learner') }}") == "Apprenant"
        use_locale("en-GB")
        assert gettext("Stop") == "Stop" and str(stop) == "Stop"
        assert render_template_string("{{ _('Learner') }}") == "Learner"
        use_locale("de")  # not a supported language: the request keeps English
        assert gettext("Stop") == "Stop"
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert gettext("Stop") == "Stop"  # nothing carried over from the previous request
    with app.app_context():
        assert gettext("Stop") == "Arrêter"  # outside a request (CLI, worker): the default language
