"""The model's answers as HTML: a small, escaped subset of Markdown.

Language models write Markdown (`**bold**`, lists, `## titles`). Shown as plain text it leaks
marks; rendered in full it could carry links, images or raw HTML from the model (or from text a
learner slipped into the prompt). markdown-it-py parses with raw HTML off (any `<` is escaped)
and only the rules below; nh3 (the ammonia sanitizer) then keeps only the tags of that subset and
no attribute at all, so nothing in an answer can run script, load a resource or link away.
Titles become bold paragraphs: an answer's title is not a heading of the page.
"""

from __future__ import annotations

import re

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

_PARSER = (MarkdownIt("zero", {"html": False, "breaks": True, "linkify": False, "typographer": False})
           .enable(["emphasis", "list", "heading", "backticks", "newline", "blockquote", "lheading"]))
ALLOWED_TAGS = {"p", "br", "strong", "em", "ul", "ol", "li", "code", "blockquote"}
_HEADING = re.compile(r"<h[1-6]>(.*?)</h[1-6]>", re.DOTALL)


def answer_html(text: str | None) -> Markup:
    """`text` (a model's answer) as safe HTML of the subset: paragraphs, line breaks, bold,
    italics, lists, inline code, quotes. Everything else shows as the text it is."""
    if not text:
        return Markup("")
    rendered = _HEADING.sub(r"<p><strong>\1</strong></p>", _PARSER.render(text))
    return Markup(nh3.clean(rendered, tags=ALLOWED_TAGS, attributes={}, link_rel=None, strip_comments=True))


_MARKS = (
    (re.compile(r"^\s{0,3}#{1,6}\s+", re.MULTILINE), ""),  # ## Title
    (re.compile(r"\*\*(.+?)\*\*|__(.+?)__"), lambda m: m.group(1) or m.group(2)),  # **bold**
    (re.compile(r"^\s{0,3}[*+]\s+", re.MULTILINE), "- "),  # * item
)


def plain_text(text: str) -> str:
    """A model's answer for a plain-text field (a comment for the gradebook): titles and bold
    marks dropped, bullets as "- "."""
    for pattern, replacement in _MARKS:
        text = pattern.sub(replacement, text)
    return text
