"""Parts of pages that every user sees the same, rendered once per process and language."""

from __future__ import annotations

from collections.abc import Callable, Hashable

import flask_babel
from flask import current_app
from markupsafe import Markup

FRAGMENTS_MAX = 4096  # catalogue parts × languages × a flag or two: far fewer in practice


def shared_fragment(part: str, *key: Hashable, caller: Callable[[], str]) -> Markup:
    """`{% call shared_fragment("theme", catalogue.language, catalogue.version, theme.id) %}…{% endcall %}`:
    the HTML of the block, rendered once per process for `part`, `key` and the interface
    language, then reused (a theme's text is most of its page).

    Only fixed text (catalogue content, scales, interface strings) may go inside, and every
    variable the block uses must be in `key`: never a launch token, a URL carrying one, or
    anything of a learner's. Off with FRAGMENT_CACHE = False (while templates or content are
    edited under a running server).
    """
    if not current_app.config["FRAGMENT_CACHE"]:
        return Markup(caller())
    fragments: dict[tuple, Markup] = current_app.extensions.setdefault("lti_tool_fragments", {})
    full_key = (str(flask_babel.get_locale()), part, *key)
    html = fragments.get(full_key)
    if html is None:
        if len(fragments) >= FRAGMENTS_MAX:
            fragments.clear()
        html = fragments[full_key] = Markup(caller())
    return html
