"""French typography: the spaces that never break before `: ; ? !` and inside « », and the
typographic apostrophe.

The interface's French (messages.po) and the French catalogue are written this way at the
source (`tools/french_typography.py` applies and checks it); the tests read every French page
for what `problems` finds. Conventions (Imprimerie nationale, as French publishers apply them):

- a narrow no-break space (U+202F) before `;`, `?`, `!` and `»`, and after `«`;
- a no-break space (U+00A0) before `:`;
- the apostrophe ’ (U+2019), never the straight ', in French text.

Only spaces already there are made unbreakable: "10:30", "https://", "?lang=fr" and code keep
their punctuation untouched.
"""

from __future__ import annotations

import re

NBSP = "\u00a0"
NNBSP = "\u202f"
APOSTROPHE = "\u2019"

# An ordinary space (or a run of them) before the high punctuation, or after «.
_BEFORE = re.compile(r" +([:;?!»])")
_AFTER_OPENING = re.compile(r"« +")
# A straight apostrophe between two letters (l'IA, aujourd'hui), or after an elided letter
# before a quote or a placeholder (l'« outil », d'%(name)s).
_APOSTROPHE = re.compile(r"(?<=[^\W\d_])'(?=[^\W\d_]|«|%\(|\{)")

_SPACE_BEFORE = {":": NBSP, ";": NNBSP, "?": NNBSP, "!": NNBSP, "»": NNBSP}


def french(text: str) -> str:
    """`text` with French typography: no-break spaces where a space was before `: ; ? ! »` and
    after `«`, typographic apostrophes between letters. Idempotent."""
    text = _BEFORE.sub(lambda m: _SPACE_BEFORE[m.group(1)] + m.group(1), text)
    text = _AFTER_OPENING.sub("«" + NNBSP, text)
    return _APOSTROPHE.sub(APOSTROPHE, text)


_PROBLEMS = (
    (re.compile(r"[^\S\u00a0\u202f][:;?!»]"), "an ordinary space before {0}"),
    (re.compile(r"«[^\S\u00a0\u202f]"), "an ordinary space after «"),
    (re.compile(r"'"), "a straight apostrophe"),
)


def problems(text: str) -> list[str]:
    """What breaks French typography in `text` (a text node of a French page, a French string):
    each problem with the text around it."""
    found = []
    for pattern, what in _PROBLEMS:
        for match in pattern.finditer(text):
            around = text[max(0, match.start() - 30):match.end() + 10].replace("\n", " ")
            found.append(what.format(repr(match.group(0)[-1])) + f": …{around}…")
    return found
