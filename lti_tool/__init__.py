"""Mentorat IA: the application factory. It wires; it does no I/O."""

from __future__ import annotations

from pathlib import Path

import requests
from flask import Flask, request
from flask.sessions import SessionInterface
from flask_babel import get_locale
from werkzeug.middleware.proxy_fix import ProxyFix

from config import Config, ConfigError, load_config

from . import models  # noqa: F401  every area's models, so that migrations see them
from .activities.blueprint import bp as activities_bp
from .declarations.blueprint import bp as declarations_bp
from .grading.blueprint import bp as grading_bp
from .records.blueprint import bp as records_bp
from .catalogue.blueprint import bp as catalogue_bp
from .cli import cli
from .common import csp
from .common.markdown import answer_html
from .common.fragments import shared_fragment
from .common.http import RowIdConverter
from .common.i18n import install_template_gettext, local_time, missing_catalogues, select_locale, select_timezone
from .common.logging import REQUEST_ID_HEADER, install_redaction, request_id
from .common.store import make_store
from .errors import database_unavailable, is_database_unavailable, register_error_handlers
from .demo.blueprint import bp as demo_bp
from .extensions import babel, db, migrate
from .gradebook.worker import init_outbox
from .lti.blueprint import bp as lti_bp
from .llm.blueprint import bp as llm_bp
from .openapi import bp as openapi_bp
from .site import bp as site_bp

ROOT = Path(__file__).resolve().parent.parent
USER_AGENT = "MentoratIA-LTI-Tool/0.1"


def create_app(config: str | Config | None = None, **overrides) -> Flask:
    """Build the app for the environment `config` (name or settings object), with `overrides`."""
    app = Flask(__name__, template_folder=str(ROOT / "templates"), static_folder=str(ROOT / "static"),
                instance_path=str(ROOT / "instance"))
    settings = config if isinstance(config, Config) else load_config(config, Path(app.instance_path))
    app.config.from_object(settings)
    app.config.update(overrides)

    configure_request_ids(app)
    configure_extensions(app)
    configure_services(app)
    configure_blueprints(app)
    configure_security_headers(app)
    configure_transactions(app)
    app.session_interface = NoSession()
    register_error_handlers(app)
    install_redaction("werkzeug", "gunicorn.access", "gunicorn.error", "lti_tool")
    app.cli.add_command(cli)
    if app.config.get("BEHIND_PROXY"):
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1, x_port=1)  # type: ignore[method-assign]
    return app


TRANSLATIONS = Path(__file__).parent / "translations"


def configure_extensions(app: Flask) -> None:
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    missing = missing_catalogues(TRANSLATIONS, app.config["SUPPORTED_LOCALES"])
    if missing and app.config["ENV_NAME"] == "production":
        raise ConfigError(f"The {', '.join(missing)} interface is not compiled: run "
                          "`pybabel compile -d lti_tool/translations` (make install does) before starting.")
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone,
                   default_translation_directories=str(TRANSLATIONS))
    install_template_gettext(app)
    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.globals["shared_fragment"] = shared_fragment
    app.jinja_env.globals["csp_nonce"] = csp.nonce
    app.jinja_env.filters["local_time"] = local_time
    app.jinja_env.filters["ai_markdown"] = answer_html  # a model's answer: a small, escaped Markdown subset


def configure_services(app: Flask) -> None:
    app.extensions["lti_store"] = app.config.get("LTI_STORE") or make_store(app.config["REDIS_URL"])
    http = requests.Session()
    http.headers["User-Agent"] = USER_AGENT
    app.extensions["lti_http"] = http
    init_outbox(app)  # the grade outbox thread, under the dev server only (OUTBOX_THREAD)


def configure_blueprints(app: Flask) -> None:
    app.url_map.converters["int"] = RowIdConverter  # before any rule is added: rules bind their converters then
    app.register_blueprint(site_bp)
    app.register_blueprint(openapi_bp)
    app.register_blueprint(lti_bp)
    app.register_blueprint(activities_bp)
    app.register_blueprint(catalogue_bp)
    app.register_blueprint(declarations_bp)
    app.register_blueprint(llm_bp)
    app.register_blueprint(grading_bp)
    app.register_blueprint(records_bp)
    if app.config["DEMO_PLATFORM"]:
        app.register_blueprint(demo_bp)


class NoSession(SessionInterface):
    """No Flask session, nor its signed cookie: a launch is carried by its token in the tool's
    own URLs (lti.services), never by a cookie, which a browser may block in Moodle's iframe.
    Every request gets the read-only null session; writing to it raises."""

    def open_session(self, app, request):
        return self.make_null_session(app)

    def save_session(self, app, session, response) -> None:
        pass


def configure_request_ids(app: Flask) -> None:
    """Every request has an id (a sane inbound `X-Request-ID`, else a new one), in its log lines
    (common.logging) and echoed in the response's `X-Request-ID`, so that a person's report and
    the log meet."""

    @app.after_request
    def echo_request_id(response):
        response.headers[REQUEST_ID_HEADER] = request_id()
        return response


def configure_transactions(app: Flask) -> None:
    """One commit per request (STYLE.md, pattern 5): services flush, and what a request wrote is
    committed here, once, when it answers without an error; an error rolls everything back. A
    commit the database cannot take (it went away during the request) is the outage's 503, so
    that the client knows its write was not kept and tries again. The one exception is a streamed
    AI answer (activities/assistant.py, chat_stream): it commits before the answer starts, so as
    not to hold a connection while it streams, and logs the call at the end in a transaction of
    its own."""

    @app.after_request
    def commit_or_roll_back(response):
        if response.status_code >= 400:
            db.session.rollback()
            return response
        try:
            db.session.commit()
        except Exception as exc:
            if not is_database_unavailable(exc):
                raise
            return app.make_response(database_unavailable(exc))
        return response


def configure_security_headers(app: Flask) -> None:
    @app.after_request
    def headers(response):
        # Launch tokens travel in our URLs: never leak them through the Referer header.
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        # Pages are not cached, nor anything behind a launch token (learners' work as JSON or CSV
        # included).
        if response.mimetype == "text/html" or request.path.startswith("/t/"):
            response.headers.setdefault("Cache-Control", "no-store")
        # Framed only where the view said (its platform), scripts only the tool's (common.csp).
        if response.mimetype == "text/html":
            response.headers.setdefault("Content-Security-Policy", csp.policy())
        return response

