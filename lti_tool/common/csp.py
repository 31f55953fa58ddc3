"""The Content-Security-Policy of the tool's HTML pages.

Scripts, styles and everything else come from the tool itself (the one inline script, the launch
page's address change, carries this response's nonce); no plugin, no <base>. Forms post to the tool,
and to the places a view names (the platform's Deep Linking return URL). A page is framed only by
the origins a view names (its platform's), and by no one when no view does.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable

from flask import g


def nonce() -> str:
    """This response's script nonce (128 random bits), made on first use."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def frame_ancestors(origins: Iterable[str]) -> None:
    """Let this response be framed by `origins` only (replacing what was named before; empty
    values are left out)."""
    g.csp_frame_ancestors = frozenset(o for o in origins if o)


def allow_form_action(*origins: str) -> None:
    """Let this response's forms post to `origins` too."""
    g.csp_form_action = g.get("csp_form_action", frozenset()) | {o for o in origins if o}


def allow_frames(*origins: str) -> None:
    """Let this response frame `origins` too."""
    g.csp_frame_src = g.get("csp_frame_src", frozenset()) | {o for o in origins if o}


def policy() -> str:
    """The Content-Security-Policy header value of this response."""
    ancestors = g.get("csp_frame_ancestors") or frozenset()
    directives = [
        "default-src 'self'",
        f"script-src 'self' 'nonce-{nonce()}'",
        "style-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        " ".join(["form-action 'self'", *sorted(g.get("csp_form_action", ()))]),
        " ".join(["frame-ancestors", *sorted(ancestors)]) if ancestors else "frame-ancestors 'none'",
    ]
    if "csp_frame_src" in g:
        directives.append(" ".join(["frame-src 'self'", *sorted(g.csp_frame_src)]))
    return "; ".join(directives)
