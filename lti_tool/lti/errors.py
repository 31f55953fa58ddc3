"""Why a launch, login or registration was refused, in words a person can act on."""

from __future__ import annotations


from ..common.i18n import lazy_gettext as _l
from ..common.errors import ToolError

RELAUNCH = _l("Go back to your course and open the activity again.")

MESSAGES = {
    "missing_issuer": (400, _l("The platform did not say who it is (no issuer)."), RELAUNCH),
    "missing_login_hint": (400, _l("The platform did not send a login hint."), RELAUNCH),
    "unknown_issuer": (
        403,
        _l("This platform is not registered with Mentorat IA."),
        _l("Ask the tool administrator to register your Moodle (dynamic registration URL or add-platform)."),
    ),
    "unknown_client_id": (
        403,
        _l("This client id is not registered for this platform."),
        _l("Check the client id given to the tool administrator."),
    ),
    "unknown_deployment": (
        403,
        _l("This deployment of the tool is not registered."),
        _l("Ask the tool administrator to add the deployment id shown in Moodle's tool settings."),
    ),
    "foreign_target": (400, _l("The launch does not target this tool."), RELAUNCH),
    "missing_id_token": (400, _l("The launch carries no id_token."), RELAUNCH),
    # The platform answered the login with an OpenID error (Moodle's auth.php: access_denied, login_required…)
    "platform_refused": (
        403,
        _l("Your platform refused to open the activity."),
        _l("You may have been logged out of your course, or not be enrolled in it: log in again, then open "
           "the activity from your course."),
    ),
    "malformed_jwt": (400, _l("The launch message is not a valid JWT."), RELAUNCH),
    "missing_state": (400, _l("The launch has no state parameter."), RELAUNCH),
    "state_mismatch": (
        400,
        _l("This launch does not match the login that started it."),
        _l("Your browser may block cookies in embedded pages: open the activity in a new window from your course."),
    ),
    "bad_signature": (401, _l("The launch signature is not valid."), RELAUNCH),
    "unknown_key": (401, _l("The launch was signed with a key the platform does not publish."), RELAUNCH),
    "unsupported_algorithm": (401, _l("The launch is signed with an algorithm the tool does not accept."), RELAUNCH),
    "expired_token": (401, _l("The launch has expired."), RELAUNCH),
    "token_not_yet_valid": (
        401,
        _l("The launch is dated in the future."),
        _l("The platform's clock may be wrong; tell its administrator."),
    ),
    "wrong_audience": (401, _l("The launch is addressed to another tool."), RELAUNCH),
    "wrong_issuer": (401, _l("The launch issuer does not match the platform."), RELAUNCH),
    "missing_claim": (400, _l("The launch lacks required information."), RELAUNCH),
    "wrong_version": (400, _l("Only LTI 1.3.0 launches are supported."), RELAUNCH),
    "unsupported_message_type": (400, _l("This kind of LTI message is not supported by the tool."), RELAUNCH),
    "replayed_nonce": (
        401,
        _l("This launch has already been used or has expired."),
        _l("Do not reload the page after a launch: open the activity again from your course."),
    ),
    "platform_unreachable": (
        502,
        _l("The platform's public keys could not be fetched."),
        _l("Try again in a moment; if it persists, tell the platform administrator."),
    ),
    "session_expired": (
        401,
        _l("Your session has expired."),
        _l("Go back to your course and open the activity again."),
    ),
    "forbidden_role": (403, _l("Your role in this course does not give access to this page."), None),
    "not_in_scope": (404, _l("This activity does not exist in your course."), None),
    "invite_unknown": (
        403,
        _l("This registration link is not valid."),
        _l("Ask the tool administrator for a new registration link."),
    ),
    "invite_used": (
        410,
        _l("This registration link has already been used."),
        _l("Ask the tool administrator for a new registration link."),
    ),
    "invite_expired": (
        410,
        _l("This registration link has expired."),
        _l("Ask the tool administrator for a new registration link."),
    ),
    "registration_bad_request": (
        400,
        _l("The platform did not start the registration correctly (openid_configuration is missing or invalid)."),
        _l("Paste the registration URL in Moodle: Site administration > Plugins > External tool > Manage tools."),
    ),
    "registration_address_refused": (
        403,
        _l("The platform gave addresses the tool does not call: inside a private network, and not on the "
           "platform's own site."),
        _l("Check the registration URL pasted in the platform. If the platform is on the tool operator's own "
           "network, the operator can allow it (PLATFORM_ALLOW_INTERNAL_ENDPOINTS)."),
    ),
    "registration_platform_error": (
        502,
        _l("The platform refused or failed the registration."),
        _l("Try again with a new registration link; the details are in the tool's log."),
    ),
}


class LtiRefusal(ToolError):
    """A refusal of the LTI layer, known by its code."""

    def __init__(self, code: str, detail: str | None = None) -> None:
        status, message, hint = MESSAGES[code]
        super().__init__(message, status=status, code=code, hint=hint)
        # Technical detail for the log only; never shown (it may echo attacker input).
        self.detail = detail
