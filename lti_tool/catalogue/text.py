"""Catalogue text as HTML: paragraphs, numbered steps and bullet lists (see FORMAT.md, "Text")."""

from __future__ import annotations

import re
from functools import lru_cache

from markupsafe import Markup, escape

_NUMBERED = re.compile(r"(\d{1,2})\. +(\S.*)")  # "1. Do this"
_BULLET = re.compile(r"- +(\S.*)")  # "- this"


def _block(lines: list[str]) -> list[Markup]:
    """One block (the lines between blank lines): runs of plain lines become a paragraph, runs of
    "1. " lines a numbered list, runs of "- " lines a bullet list."""
    html: list[Markup] = []
    kind, run, start = "", [], 1

    def flush() -> None:
        if not run:
            return
        if kind == "p":
            html.append(Markup("<p>%s</p>") % escape("\n".join(run)))
        else:
            items = Markup("").join(Markup("<li>%s</li>") % escape(item) for item in run)
            opening = Markup('<ol start="%d">') % start if kind == "ol" and start != 1 else Markup("<%s>" % kind)
            html.append(opening + items + Markup("</%s>" % kind))
        run.clear()

    for line in lines:
        numbered, bullet = _NUMBERED.fullmatch(line), _BULLET.fullmatch(line)
        line_kind = "ol" if numbered else "ul" if bullet else "p"
        if line_kind != kind:
            flush()
            kind = line_kind
            start = int(numbered.group(1)) if numbered else 1
        run.append(numbered.group(2) if numbered else bullet.group(1) if bullet else line)
    flush()
    return html


@lru_cache(maxsize=8192)  # catalogue texts only: a bounded set, formatted once per process
def paragraphs(text: str) -> Markup:
    """`text` as escaped HTML: a blank line separates two paragraphs; in a paragraph, lines
    starting with "1. ", "2. "… are a numbered list and lines starting with "- " a bullet list."""
    blocks = [[line.strip() for line in part.split("\n") if line.strip()] for part in text.split("\n\n")]
    return Markup("").join(piece for lines in blocks if lines for piece in _block(lines))
