"""LTI views: thin, they hand the request to pylti1p3 adapters and services."""

from __future__ import annotations

import logging

from flask import current_app, make_response, render_template, request

from ..common.csp import frame_ancestors
from ..common.http import json_api
from ..common.i18n import select_locale
from ..common.network import origins_of
from .dynreg import register_with_platform
from .errors import LtiRefusal
from .keys import JWKS_MAX_AGE, public_jwks
from .schemas import JWKS
from .landing import landing_page
from .services import check_invite, consume_invite, open_launch_session, platform_by_keys, save_platform
from .launch import message_launch
from .login import oidc_login
from .state import lti_cookie_attributes
from .toolconf import DbToolConf

log = logging.getLogger(__name__)

# Set on every login: a browser that sends it back keeps our cookies in this frame, so the
# cookie-check round trip is skipped on its next launches.
PROBE_COOKIE = "lti1p3-cookies-ok"


def login():
    login = oidc_login(DbToolConf())
    login.validate_oidc_login()  # refuse a bad login before any cookie check
    if not request.cookies.get(PROBE_COOKIE):
        login.enable_check_cookies()
    response = login.redirect(current_app.config["TOOL_BASE_URL"] + "/lti/launch")
    if response.status_code in (301, 302, 303):
        response.set_cookie(PROBE_COOKIE, "1", max_age=30 * 24 * 3600, **lti_cookie_attributes())
    return response


def launch():
    launch = message_launch(DbToolConf())
    try:
        launch.validate()
    except LtiRefusal as refusal:
        log.info("launch refused", extra={"code": refusal.code, "detail": refusal.detail})
        raise
    opened = open_launch_session(launch.platform.id, launch.body(), launch.locale or select_locale(),
                                 current_app.config["LAUNCH_SESSION_TTL"])
    # The first page is served with the launch response itself (one round trip less on a
    # phone); the page then replaces its address with its token URL, so a reload is a GET.
    response = make_response(landing_page(opened.session, opened.token))
    launch.expire_state_cookie(response)
    return response


@json_api("The tool's public keys (JWKS), for platforms to check its signed messages", out=JWKS)
def jwks():
    keys = public_jwks()
    response = current_app.json.response(keys)
    response.headers["Cache-Control"] = f"public, max-age={JWKS_MAX_AGE}"
    return response


def register():
    # Framed by the platform registering the tool: the origin its configuration is read from.
    frame_ancestors(origins_of([request.args.get("openid_configuration")]))
    invite = check_invite(request.args.get("invite"))
    spec = register_with_platform(
        current_app.extensions["lti_http"],
        request.args.get("openid_configuration"),
        request.args.get("registration_token"),
        current_app.config["TOOL_BASE_URL"],
        current_app.config["HTTP_TIMEOUT"],
        allow_internal=current_app.config["PLATFORM_ALLOW_INTERNAL_ENDPOINTS"],
    )
    # Moodle's "Update" of a tool it has (same domain) keeps its client id: the platform is
    # updated in place, and stays active in Moodle if it was; a new registration is pending there.
    updated = platform_by_keys(spec.issuer, spec.client_id) is not None
    platform = save_platform(spec)
    consume_invite(invite, platform)
    return render_template("lti/registered.html", platform=platform, deployment_ids=spec.deployment_ids,
                           updated=updated)
