"""Views behind a launch session: the token in the URL finds it; roles are checked here."""

from __future__ import annotations

from functools import wraps

from flask import g

from ..common.csp import frame_ancestors
from ..common.i18n import use_locale, use_timezone
from .errors import LtiRefusal
from .models import LaunchSession
from .services import find_launch_session, platform_origins


def launch_required(*roles: str):
    """Resolve `token` (a view argument) to the launch session, in `g.launch`.

    Expired or unknown tokens get a clear 401; a role outside `roles` (if given) a 403. The
    page, or its refusal, may be framed by the session's platform only.
    The token is dropped from the view's arguments so views never handle it.
    """

    def decorator(view):
        @wraps(view)
        def wrapper(*args, token: str, **kwargs):
            session = find_launch_session(token)
            if session is not None:  # its platform frames its pages, and the refusal of an expired one
                frame_ancestors(platform_origins(session.platform))
            if session is None or not session.is_live:
                raise LtiRefusal("session_expired")
            use_locale(session.locale)
            use_timezone(session.platform.timezone)
            if roles and session.role not in roles:
                raise LtiRefusal("forbidden_role")
            g.launch = session
            g.launch_token = token
            return view(*args, **kwargs)

        wrapper.launch_roles = roles  # type: ignore[attr-defined]  # read by the API document (lti_tool.openapi)
        return wrapper

    return decorator


def current_launch() -> LaunchSession:
    return g.launch
