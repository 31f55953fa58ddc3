"""The OIDC third-party initiated login, with our own refusals and cookie-check page."""

from __future__ import annotations

import secrets

from flask import current_app, render_template
from pylti1p3.contrib.flask import FlaskOIDCLogin

from ..common.csp import frame_ancestors
from .errors import LtiRefusal
from .services import issuer_origins, platform_origins
from .state import LOGIN_STATE_TTL, adapters, cookies_can_be_secure
from .toolconf import DbToolConf, ToolRegistration


class ToolOIDCLogin(FlaskOIDCLogin):
    """OIDC third-party initiated login with our own refusals and cookie-check page."""

    _validated: ToolRegistration | None = None

    def validate_oidc_login(self):
        """The login's registration, or the refusal that says why; checked once (the view asks
        before the cookie check, pylti1p3 again while it builds the redirect)."""
        if self._validated is None:
            self._validated = self._validate()
        return self._validated

    def _validate(self) -> ToolRegistration:
        iss = self._get_request_param("iss")
        if not iss:
            raise LtiRefusal("missing_issuer")
        frame_ancestors(issuer_origins(iss))  # the cookie check, or a refusal, shows in its frame
        if not self._get_request_param("login_hint"):
            raise LtiRefusal("missing_login_hint")
        target = self._get_request_param("target_link_uri")
        base = current_app.config["TOOL_BASE_URL"]
        if target and not (target == base or target.startswith(base + "/")):
            raise LtiRefusal("foreign_target", detail=target)
        client_id = self._get_request_param("client_id")
        registration = self._tool_config.find_registration_by_params(iss, client_id)
        if registration is None:
            if not self._tool_config.issuer_known(iss):
                raise LtiRefusal("unknown_issuer", detail=iss)
            raise LtiRefusal("unknown_client_id", detail=f"{iss} {client_id}")
        frame_ancestors(platform_origins(registration.platform))
        return registration

    def _generate_nonce(self) -> str:
        """256 random bits. pylti1p3's nonce ends with a uuid1, which gives the platform this
        server's MAC address and clock, and is slow to make."""
        return secrets.token_urlsafe(32)

    def get_cookies_allowed_js_check(self) -> str:
        params = {"lti1p3_new_window": "1"}
        for key in ("iss", "login_hint", "target_link_uri", "lti_message_hint", "lti_deployment_id", "client_id"):
            value = self._get_request_param(key)
            if value:
                params[key] = value
        return render_template("lti/cookie_check.html", params=params, secure=cookies_can_be_secure())


def oidc_login(tool_conf: DbToolConf) -> ToolOIDCLogin:
    adapter, session_service, cookie_service = adapters()
    login = ToolOIDCLogin(adapter, tool_conf, session_service, cookie_service)
    login.set_launch_data_lifetime(LOGIN_STATE_TTL)
    return login
