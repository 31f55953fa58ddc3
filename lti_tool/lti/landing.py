"""The page a launch lands on. lti imports no feature area: the area that draws the tool's pages
(activities) hands its renderer to lti when its blueprint is registered."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, current_app

from .models import LaunchSession

LandingPage = Callable[[LaunchSession, str], str]
_KEY = "lti_tool.landing_page"


def set_landing_page(app: Flask, render: LandingPage) -> None:
    """`render(session, token)` draws the first page of every launch of `app`."""
    app.extensions[_KEY] = render


def landing_page(session: LaunchSession, token: str) -> str:
    """The first page of the launch that opened `session` (its bearer `token` goes in its URLs)."""
    return current_app.extensions[_KEY](session, token)
