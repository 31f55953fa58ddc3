"""The site's own pages: the home page for administrators and the health check."""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, render_template
from marshmallow import fields, validate
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from .common.http import json_api
from .common.schemas import BaseSchema
from .extensions import db

log = logging.getLogger(__name__)

bp = Blueprint("site", __name__)


@bp.get("/")
def index():
    """What the tool is and the URLs a Moodle administrator needs."""
    return render_template("index.html")


class HealthOut(BaseSchema):
    """The tool's health: `ok` when its database and store answer, else `unavailable` (503)."""

    status = fields.String(validate=validate.OneOf(("ok", "unavailable")))
    database = fields.String(validate=validate.OneOf(("ok", "unreachable")))
    store = fields.String(validate=validate.OneOf(("ok", "unreachable")))


@bp.get("/healthz")
@json_api("The tool's health check", out=HealthOut, responses={503: HealthOut})
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
        database = "ok"
    except SQLAlchemyError as exc:
        db.session.rollback()
        log.error("health check: database unreachable: %s", exc.__class__.__name__)
        database = "unreachable"
    store = "ok"
    try:
        current_app.extensions["lti_store"].ping()
    except Exception as exc:  # any client error means the shared store is not usable
        log.error("health check: store unreachable: %s", exc.__class__.__name__)
        store = "unreachable"
    healthy = database == "ok" and store == "ok"
    body = HealthOut().dump({"status": "ok" if healthy else "unavailable", "database": database, "store": store})
    return body, 200 if healthy else 503
