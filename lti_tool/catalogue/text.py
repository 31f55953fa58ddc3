"""Catalogue text as HTML."""

from __future__ import annotations

from functools import lru_cache

from markupsafe import Markup, escape


@lru_cache(maxsize=8192)  # catalogue texts only: a bounded set, formatted once per process
def paragraphs(text: str) -> Markup:
    """`text` as escaped HTML paragraphs; a blank line separates two paragraphs."""
    return Markup("").join(Markup("<p>%s</p>") % escape(part.strip()) for part in text.split("\n\n") if part.strip())
