"""The course's names in a text, for the privacy guard: the learner, the roster, the trainer.

Only names the tool knows are found, not every name in the text. Accents, case, ’/' and
hyphen-or-space are ignored. A full name ("Amélie Durand", "DURAND Amélie", "amélie durand") is
found in any case; one part of it ("Amélie", "Durand", "Le Goff") only when it is capitalised in the
text, so that "la rose" stays when a learner is called Rose Martin (but "Rose" at the start of a
sentence is found: privacy first). Particles ("de", "Le", "van") and one-letter parts are never
found alone. Elisions ("d'Amélie") and possessives ("Amélie's") keep their apostrophe outside.

Names are looked for in the "plain" text: ASCII, one character for one, accents dropped, case kept
("Amélie N’Diaye" -> "Amelie N'Diaye"), with a regex of plain letters: a few milliseconds to build
for 30 names, and quick to run. A match is then checked against the real text.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence

from .word_trie import trie_pattern

# Punctuation that has no ASCII letter under it, as one ASCII character (the plain text keeps
# one character for each); anything else without one becomes "?" (the slower way).
_STAND_INS = (("’", "'"), ("‘", "'"), ("ʼ", "'"), ("«", '"'), ("»", '"'), ("“", '"'), ("”", '"'),
              ("–", "-"), ("—", "-"), ("\u2010", "-"), ("\u2011", "-"), ("…", "."), ("•", "*"),
              ("€", "E"), ("£", "L"), ("°", "o"), ("§", "S"), ("²", "2"), ("³", "3"), ("×", "x"),
              ("æ", "?"), ("Æ", "?"), ("œ", "?"), ("Œ", "?"), ("ß", "?"), ("ø", "?"), ("Ø", "?"),
              ("\u00a0", " "), ("\u202f", " "), ("\u2009", " "))


def _fold_table() -> dict[int, str]:
    """Lower case without accents, one character for one: the key a name is checked by."""
    table: dict[int, str] = {}
    for code in range(0x41, 0x250):
        char = chr(code)
        base = unicodedata.normalize("NFD", char)[0]
        target = base.lower() if base.isascii() and base.isalpha() else char.lower()
        if len(target) == 1 and target != char:
            table[code] = target
    table.update({ord(char): target for char, target in _STAND_INS if not char.isalpha()})
    return table


FOLD = _fold_table()
# Never found alone: they start sentences and cities ("Le", "De") or join names ("van", "bin").
PARTICLES = frozenset(
    "d de des di da das del della dei do dos du l la le les lo van von der den ter ten vom zu af av "
    "el al ben bin ibn bint abu ni nic ui st ste saint sainte mac mc o y e et and of the".split()
)
_LIGATURES = (("æ", "ae"), ("œ", "oe"), ("ß", "ss"))
_NAME_SYMBOLS = {" ": r"\s+", "-": r"[-\s]", "'": "'?"}  # in the plain text
_NOT_ASCII = re.compile(r"[^\x00-\x7f]")
_LETTERS_ONLY = str.maketrans({chr(code): " " for code in range(128) if not chr(code).isalpha()})


def _plain_text(text: str) -> str:
    """`text` in ASCII, one character for one: accents dropped, case kept, "’" as "'", "?" for a
    character with no ASCII letter or stand-in."""
    for char, stand_in in _STAND_INS:
        if char in text:
            text = text.replace(char, stand_in)
    plain = unicodedata.normalize("NFD", text).encode("ascii", "ignore").decode("ascii")
    if len(plain) != len(text):  # a character without ASCII, or accents apart from their letters
        plain = _NOT_ASCII.sub(lambda match: _plain_char(match.group()), text)
    return plain


@functools.lru_cache(maxsize=4096)
def _plain_char(char: str) -> str:
    base = unicodedata.normalize("NFD", char).encode("ascii", "ignore").decode("ascii")
    return base if len(base) == 1 else "?"


def _name_key(folded: str) -> str:
    """One spelling for "jean-pierre n'diaye", "Jean Pierre NDiaye", …"""
    return " ".join(folded.replace("'", "").replace("-", " ").split())


def _name_forms(name: str) -> Iterator[tuple[str, bool]]:
    """(folded form, is a full name) for one known name: the full name in both orders, every part
    and every run of parts that can stand alone; with "ae" for "æ" and the like."""
    tokens = name.translate(FOLD).split()
    forms = []
    if len(tokens) > 1:
        forms += [(" ".join(tokens), True), (" ".join(tokens[1:] + tokens[:1]), True)]  # "DURAND Amélie"
    for i in range(len(tokens)):
        for j in range(i + 1, len(tokens) + 1):
            run = tokens[i:j]
            if len(run) == len(tokens) > 1 or run[-1].replace("'", "") in PARTICLES:
                continue
            if len(run) > 1 or sum(char.isalpha() for char in run[0]) >= 2:
                forms.append((" ".join(run), False))
    for form, full in forms:
        yield form, full
        for ligature, letters in _LIGATURES:
            if ligature in form:
                yield form.replace(ligature, letters), full


def _names_regex(spellings: Iterable[str], upper: bool) -> re.Pattern[str]:
    """Plain spellings starting with a capital (or a small letter), any case after. Each branch
    starts with a plain letter, so the engine jumps from one such letter to the next."""
    def branch(char: str, rest: str) -> str:
        return re.escape(char.upper() if upper else char) + rf"(?<!\w.)(?i:{rest})"

    trie = trie_pattern(spellings, branch, lambda char: _NAME_SYMBOLS.get(char) or re.escape(char))
    return re.compile(trie + r"(?!\w)")


@functools.lru_cache(maxsize=256)
def _small_letter_names(spellings: frozenset[str]) -> re.Pattern[str]:
    return _names_regex(sorted(spellings), upper=False)


class KnownNames:
    """A group of names, ready to be found in texts."""

    @staticmethod
    def of(names: Iterable[str]) -> KnownNames:
        """The group of `names` (blanks ignored), built once: a guard is made for each
        conversation, often each request."""
        return _known_names(tuple(sorted({" ".join(name.split()) for name in names if name.strip()})))

    def __init__(self, names: Sequence[str]) -> None:
        self._keys: dict[str, bool] = {}  # name key -> is a full name
        spellings: set[str] = set()
        hints: dict[str, set[str]] = {}
        for name in names:
            for form, full in _name_forms(name):
                self._keys[_name_key(form)] = self._keys.get(_name_key(form), False) or full
                spelling = _plain_text(form)
                spellings.add(spelling)
                for word in spelling.translate(_LETTERS_ONLY).split() if full else ():
                    if word not in PARTICLES:
                        hints.setdefault(word, set()).add(spelling)
        self._capitalised = _names_regex(sorted(spellings), upper=True) if spellings else None
        # A word of a full name in small letters -> the plain spellings of the full names holding it.
        self._small_letter_hints = {word: frozenset(found) for word, found in hints.items()}

    def find(self, text: str, skip: Sequence[tuple[int, int]] = ()) -> Iterator[tuple[int, int]]:
        """(start, end) of each known name in `text`; `skip`: spans where a full name in small
        letters is not looked for (e-mail addresses: "amelie.durand@…")."""
        if self._capitalised is None:
            return
        plain = _plain_text(text)
        yield from self._matches(self._capitalised, text, plain, full=False)
        # A full name starting with a small letter ("amélie durand") is rare: look only for those
        # with a word in small letters in the text.
        bounds = [0, *(i for span in skip for i in span), len(plain)]
        words = " ".join(plain[bounds[i]:bounds[i + 1]] for i in range(0, len(bounds), 2))
        hints = self._small_letter_hints
        hinted = [hints[word] for word in hints.keys() & words.translate(_LETTERS_ONLY).split()]
        if hinted:
            yield from self._matches(_small_letter_names(frozenset().union(*hinted)), text, plain, full=True)

    def _matches(self, regex: re.Pattern[str], text: str, plain: str, full: bool) -> Iterator[tuple[int, int]]:
        pos = 0
        while match := regex.search(plain, pos):
            start, end = match.span()
            # The real text must spell a known name ("?" stood for any character), a capital first.
            found = self._keys.get(_name_key(text[start:end].translate(FOLD)))
            if found is not None and (found or not full and text[start].isupper()):
                yield start, end
                pos = end
            else:
                pos = start + 1


@functools.lru_cache(maxsize=64)
def _known_names(names: tuple[str, ...]) -> KnownNames:
    return KnownNames(names)
