"""The privacy guard: personal data is replaced by placeholders before a text leaves for an LLM,
and put back into the answer the learner reads.

    guard = Pseudonymiser(["Amélie Durand", "Jean-Pierre N'Diaye"])
    sent = guard.pseudonymise("Amélie (amelie@cfa.fr) a eu 12/20.")  # "[PERSON_1] ([EMAIL_1]) a eu 12/20."
    shown = guard.restore(answer)        # or chunk by chunk: StreamRestorer(guard).feed(delta) … .flush()
    log_fields = guard.found             # {"PERSON": 1, "EMAIL": 1}: counts, never a value

What is sent to the provider and written to the AI log is the pseudonymised text; the values stay in
the guard, in memory. One guard per conversation: the same value gets the same placeholder in every
call, so a multi-turn chat stays coherent. Placeholders are numbered in order of first appearance,
so a guard rebuilt for each request that pseudonymises the history in order gives the same ones.

What is caught:
- PERSON: only the names the tool knows (learner, roster, trainer), not every name in the text.
  Accents, case, ’/' and hyphen-or-space are ignored. A full name ("Amélie Durand", "DURAND
  Amélie", "amélie durand") is replaced in any case; one part of it ("Amélie", "Durand", "Le Goff")
  only when it is capitalised in the text, so that "la rose" stays when a learner is called Rose
  Martin (but "Rose" at the start of a sentence is replaced: privacy first). Particles ("de", "Le",
  "van") and one-letter parts are never replaced alone. Elisions ("d'Amélie") and possessives
  ("Amélie's") keep their apostrophe outside the placeholder.
- EMAIL; PHONE (French numbers, +33/0033 forms, international numbers with a + or 00 and 8 to 15
  digits, British numbers written the British way); ADDRESS (a French or English street with its
  number, optional postcode and city; a French street without number when a postcode follows;
  "BP 123", "CS 30001"; a house number 1900-2099 is taken for a year); NIR (French social security
  number, 13 digits and 2-digit key, 2A/2B, 97x; a wrong or missing key only when the number is
  written with its usual spaces); IBAN (in capitals, any country of the registry, spaced or not,
  with its length and mod-97 checked).
Not caught: names the tool does not know; national phone numbers of other countries written
without their + prefix; an address with neither number nor postcode; an IBAN in small letters.

Restoring tolerates a model that retouches a placeholder: any case and "_", " ", "-" or nothing
between kind and number inside brackets ("[Person 1]", "[person-1]", "[ PERSON_1 ]"), and the bare
upper-case form "PERSON_1". Not "Person 1" without brackets: too close to ordinary words.
A placeholder the guard never issued ("[PERSON_9]") is left as it is; one the learner typed
herself would be restored like the model's.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from typing import NamedTuple

KINDS = ("PERSON", "EMAIL", "PHONE", "ADDRESS", "NIR", "IBAN")
# When two detections overlap, the surest one wins (an e-mail holding a name stays one e-mail).
PRIORITY = {"EMAIL": 0, "IBAN": 1, "NIR": 2, "PHONE": 3, "ADDRESS": 4, "PERSON": 5}


class Detection(NamedTuple):
    kind: str
    start: int
    end: int


# --- names -------------------------------------------------------------------------------------
# Names are looked for in the "plain" text: ASCII, one character for one, accents dropped, case
# kept ("Amélie N’Diaye" -> "Amelie N'Diaye"), with a regex of plain letters: a few milliseconds to
# build for 30 names, and quick to run. A match is then checked against the real text.

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
# Never replaced alone: they start sentences and cities ("Le", "De") or join names ("van", "bin").
PARTICLES = frozenset(
    "d de des di da das del della dei do dos du l la le les lo van von der den ter ten vom zu af av "
    "el al ben bin ibn bint abu ni nic ui st ste saint sainte mac mc o y e et and of the".split()
)
_LIGATURES = (("æ", "ae"), ("œ", "oe"), ("ß", "ss"))
_NAME_SYMBOLS = {" ": r"\s+", "-": r"[-\s]", "'": "'?"}  # in the plain text
_NOT_ASCII = re.compile(r"[^\x00-\x7f]")


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


def _trie_pattern(words: Iterable[str], branch: Callable[[str, str], str], symbol: Callable[[str], str]) -> str:
    """One regex for many words, as a trie: each position is tested once, not once per word.
    `branch(first character, rest of the pattern)` makes each top branch."""
    trie: dict = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}
    return _node_pattern(trie, branch, lambda char, rest: symbol(char) + rest)


def _node_pattern(node: dict, branch: Callable[[str, str], str], inner: Callable[[str, str], str]) -> str:
    branches = [branch(char, _node_pattern(child, inner, inner)) for char, child in node.items() if char]
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    # Greedy and optional where a word ends: the longest one is tried first.
    return f"(?:{body})?" if "" in node else body


def _names_regex(spellings: Iterable[str], upper: bool) -> re.Pattern[str]:
    """Plain spellings starting with a capital (or a small letter), any case after. Each branch
    starts with a plain letter, so the engine jumps from one such letter to the next."""
    def branch(char: str, rest: str) -> str:
        return re.escape(char.upper() if upper else char) + rf"(?<!\w.)(?i:{rest})"

    trie = _trie_pattern(spellings, branch, lambda char: _NAME_SYMBOLS.get(char) or re.escape(char))
    return re.compile(trie + r"(?!\w)")


class _NameMatchers(NamedTuple):
    capitalised: re.Pattern[str] | None
    keys: dict[str, bool]  # name key -> is a full name
    small_letter_hints: dict[str, frozenset[str]]  # word of a full name -> plain spellings of those


@functools.lru_cache(maxsize=64)
def _name_matchers(known_names: tuple[str, ...]) -> _NameMatchers:
    """Built once per group of names: a guard is made for each conversation, often each request."""
    keys: dict[str, bool] = {}
    spellings: set[str] = set()
    hints: dict[str, set[str]] = {}
    for name in known_names:
        for form, full in _name_forms(name):
            keys[_name_key(form)] = keys.get(_name_key(form), False) or full
            spelling = _plain_text(form)
            spellings.add(spelling)
            for word in spelling.translate(_LETTERS_ONLY).split() if full else ():
                if word not in PARTICLES:
                    hints.setdefault(word, set()).add(spelling)
    capitalised = _names_regex(sorted(spellings), upper=True) if spellings else None
    return _NameMatchers(capitalised, keys, {word: frozenset(found) for word, found in hints.items()})


@functools.lru_cache(maxsize=256)
def _small_letter_names(spellings: frozenset[str]) -> re.Pattern[str]:
    return _names_regex(sorted(spellings), upper=False)


# --- other personal data -----------------------------------------------------------------------
# Speed: the regex engine jumps fast to a first character taken from a set, but enters its matcher
# at every stop, and does not jump at all past a leading look-behind. So there are two scans only,
# one from each digit or "+", one from each capital letter; each consumes its first character and
# then looks back at it to choose what may follow ("(?<=0)": a French number starts here).

_EMAIL_LOCAL = re.compile(r"(?<![\w.+%'-])[\w.+%'-]{1,64}\Z")
_EMAIL_DOMAIN = re.compile(r"[\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,}(?![\w-])")


def _any_case(char: str) -> str:
    return f"[{char}{char.upper()}]" if char.isalpha() else re.escape(char)


_STREET_TYPES = (
    "rue avenue av. boulevard bd chemin allée impasse place route rte quai cours square passage voie "
    "sentier cité résidence lotissement hameau rond-point esplanade promenade faubourg parvis chaussée "
    "montée traverse ruelle lieu-dit domaine villa"
).split()
_UP = "A-ZÀ-ÖØ-Þ"
_CAP = rf"[{_UP}][^\W\d_]*(?:[-'’][^\W_]+)*(?!\w)"  # Jaurès, Saint-Michel, D'Alembert, Aix-en-Provence
_PARTICLE = r"(?:(?i:de|du|des|la|le|les|aux|au|à|sur|sous|en|et)\s+|(?i:[ld])['’])"
_STREET_WORD = rf"(?:{_CAP}|\d{{1,2}}(?:er)?(?=[\s-]+[{_UP}])|(?:1[89]|20)\d\d(?!\d))"  # du 8 Mai 1945
_STREET_NAME = rf"{_PARTICLE}*{_STREET_WORD}(?:(?:\s+|-){_PARTICLE}*{_STREET_WORD}){{0,5}}"
_CITY = rf"{_CAP}(?:\s+{_PARTICLE}*{_CAP}){{0,2}}"
_POSTCODE_CITY = rf"(?:\s*,\s*|\s+[-–]\s+|\s+)\d{{5}}\s+{_CITY}(?:\s+(?i:cedex)(?:\s+\d{{1,2}})?)?"
_FRENCH_STREET = _trie_pattern(  # any case; a trie of small classes is quick to run and to build
    sorted({word.replace("é", "e") for word in _STREET_TYPES} | set(_STREET_TYPES)),
    lambda char, rest: _any_case(char) + rest, _any_case,
) + r"(?![\w-])"

_ENGLISH_STREET = (
    r"(?:Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Drive|Dr|Boulevard|Blvd|Way|Close|Court|Ct|Place|Pl|"
    r"Square|Sq|Terrace|Crescent|Gardens|Grove|Row|Mews|Walk|Parkway|Highway|Hill|Park|Loop|Circle|"
    r"Trail|Plaza|Parade|Quay|Wharf|Yard|Embankment|Broadway)\b"
)
_ENGLISH_POSTCODE = r"(?:[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}|[A-Z]{2}\s\d{5}(?:-\d{4})?)(?!\w)"  # UK, US
_SEP = r"[ .\-\u00a0]?"
_NS = "[ \u00a0]?"

NUMBERS = re.compile(r"[\d+](?<![\w+][\d+])(?:" + "|".join((
    # 06 12 34 56 78 · 06.12.34.56.78 · 0612345678 · 01 and 09 numbers
    rf"(?<=0)(?P<PHONE>[1-9](?:{_SEP}\d\d){{4}}(?!\w))",
    # British numbers written the British way: 07700 900123 · 020 7946 0958 · 0161 496 0000
    rf"(?<=0)(?P<BRITISH>(?:7\d{{3}} ?\d{{3}} ?\d{{3}}|2\d ?\d{{4}} ?\d{{4}}|1\d\d\d? ?\d{{3}} ?\d{{3,4}})(?!\w))",
    # +44 20 7946 0958 · +33 (0)6 12 34 56 78 · 0033 6 12 34 56 78: then 8 to 15 digits
    rf"(?P<INTERNATIONAL>(?:(?<=\+)|(?<=0)0(?=[1-9]))\d{{1,3}}(?:{_SEP}\(0\))?{_SEP}\(?\d{{1,4}}\)?"
    rf"(?:{_SEP}\d{{2,5}}){{1,5}}(?!\w))",
    # NIR: 1 85 05 78 006 084 91 · 2 90 02 2A 004 012 18 · 1 85 05 971 12 084 36; key checked after
    rf"(?<=[1-478])(?P<NIR>{_NS}\d\d{_NS}(?:0[1-9]|1[0-2]|[2-9]\d){_NS}"
    rf"(?:(?:\d\d|2[ABab]){_NS}\d{{3}}|9[78]\d{_NS}\d\d){_NS}\d{{3}}(?:{_NS}\d\d)?(?!\w))",
    # 12 rue de la République, 69002 Lyon · 3 bis avenue Jean Jaurès · 4 rue de la paix 75002 Paris;
    # 221B Baker Street · 10 Downing Street, London SW1A 2AA · 1600 Pennsylvania Avenue NW, Washington,
    # DC 20500. A year is no house number ("en 2023 place …"): dropped after.
    rf"(?<![.,/]\d)(?P<ADDRESS>\d{{0,4}}+(?=(?:\s?(?i:bis|ter|quater)|[A-Za-z])?,?\s+[^\W\d_])(?:"
    rf"(?:\s?(?i:bis|ter|quater)\b|[A-Da-d]\b)?,?\s+{_FRENCH_STREET}\s+"
    rf"(?:{_STREET_NAME}(?:{_POSTCODE_CITY})?|{_PARTICLE}*[^\W\d_]+(?:\s+[^\W\d_]+){{0,3}}?{_POSTCODE_CITY})"
    rf"|[A-Za-z]?(?!\w)\s+{_CAP}(?:\s+{_CAP}){{0,3}}\s+{_ENGLISH_STREET}(?:\s+(?:NW|NE|SW|SE|N|S|E|W)\b)?"
    rf"(?:,\s*{_CITY}(?:,?\s+{_ENGLISH_POSTCODE}|(?!\s+[{_UP}\d])))?))",
    # a postcode and a city: a street without number may come before it
    rf"(?P<POSTCODE>\d{{4}}\s+[{_UP}])",
)) + ")")
STREET_BEFORE_POSTCODE = re.compile(rf"(?<![\w-]){_FRENCH_STREET}\s+{_STREET_NAME}{_POSTCODE_CITY}")  # rue X, 69002 Lyon
_YEAR = re.compile(r"(?:19|20)\d\d(?!\d)")

CAPITALS = re.compile(r"[A-Z](?<!\w[A-Z])(?:" + "|".join((
    r"(?P<IBAN>[A-Z]\d\d(?:[ \u00a0]?[A-Za-z0-9]){11,30})",  # trimmed to its country's length after
    # BP 123, 31000 Toulouse Cedex · CS 30001
    rf"(?P<BOX>(?:(?<=B)(?:P|\.P\.)\s?\d{{1,6}}|(?<=C)S\s?\d{{4,6}})(?!\d)(?:{_POSTCODE_CITY})?)",
)) + ")")
IBAN_LENGTHS = {
    entry[:2]: int(entry[2:])
    for entry in (
        "AD24 AE23 AL28 AT20 AZ28 BA20 BE16 BG22 BH22 BR29 BY28 CH21 CR22 CY28 CZ24 DE22 DK18 DO28 "
        "EE20 EG29 ES24 FI18 FO18 FR27 GB22 GE22 GI23 GL18 GR27 GT28 HR21 HU28 IE22 IL23 IQ23 IS26 "
        "IT27 JO30 KW30 KZ20 LB28 LC32 LI21 LT20 LU20 LV21 LY25 MC27 MD24 ME22 MK19 MR27 MT31 MU30 "
        "NL18 NO15 PK24 PL28 PS29 PT25 QA29 RO24 RS22 SA24 SC31 SE24 SI19 SK24 SM27 ST25 SV28 TL23 "
        "TN24 TR26 UA29 VA22 VG24 XK20"
    ).split()
}


def _emails(text: str) -> Iterator[Detection]:
    at = text.find("@")
    while at != -1:
        local = _EMAIL_LOCAL.search(text, max(0, at - 64), at)
        domain = _EMAIL_DOMAIN.match(text, at + 1)
        if local and domain:
            yield Detection("EMAIL", local.start(), domain.end())
        at = text.find("@", domain.end() if local and domain else at + 1)


def _numbers(text: str) -> Iterator[Detection]:
    for match in NUMBERS.finditer(text):
        kind, value = match.lastgroup, match.group()
        if kind == "PHONE" or kind == "NIR" and _nir_ok(value):
            yield Detection(kind, *match.span())
        elif kind == "BRITISH" and _digits(value) == 11:
            yield Detection("PHONE", *match.span())
        elif kind == "INTERNATIONAL" and 8 <= _digits(value.replace("(0)", "").removeprefix("00")) <= 15:
            yield Detection("PHONE", *match.span())
        elif kind == "ADDRESS" and not _YEAR.match(value):
            yield Detection(kind, *match.span())
        elif kind == "POSTCODE":
            window = max(0, match.start() - 100), min(len(text), match.end() + 80)
            if street := STREET_BEFORE_POSTCODE.search(text, *window):
                yield Detection("ADDRESS", *street.span())


def _digits(text: str) -> int:
    return sum(char.isdigit() for char in text)


def _nir_ok(value: str) -> bool:
    """A valid key, or the usual spacing of a NIR written by hand (a typo in the key, no key)."""
    compact = re.sub(r"[ \u00a0]", "", value).upper()
    spaces = len(value) - len(compact)
    if len(compact) == 13:
        return spaces == 5
    number = compact[:5] + {"2A": "19", "2B": "18"}.get(compact[5:7], compact[5:7]) + compact[7:13]
    return 97 - int(number) % 97 == int(compact[13:]) or spaces == 6


def _capitals(text: str) -> Iterator[Detection]:
    pos = 0
    while match := CAPITALS.search(text, pos):
        start, pos = match.start(), match.end()
        if match.lastgroup == "BOX":
            yield Detection("ADDRESS", start, pos)
            continue
        end, count, length = start, 0, IBAN_LENGTHS.get(text[start:start + 2], 0)
        while count < length and end < match.end():  # the country's length, spaces not counted
            count += text[end].isalnum()
            end += 1
        compact = re.sub(r"\W", "", text[start:end]).upper()
        if count == length and not text[end:end + 1].isalnum() and _mod97(compact[4:] + compact[:4]) == 1:
            yield Detection("IBAN", start, end)
            pos = end
        else:
            pos = start + 1  # the candidate ran on into the next words: another IBAN may start there


def _mod97(text: str) -> int:
    return int("".join(str(int(char, 36)) for char in text)) % 97


def _resolve(found: list[Detection]) -> list[Detection]:
    """Non-overlapping detections in text order; in a cluster of overlapping ones, the surest and
    then the longest wins."""
    found.sort(key=lambda d: (d.start, -d.end))
    result: list[Detection] = []
    cluster: list[Detection] = []
    cluster_end = -1
    for detection in [*found, Detection("", 1 << 62, 1 << 62)]:
        if detection.start >= cluster_end:
            if len(cluster) == 1:
                result.extend(cluster)
            elif cluster:
                chosen: list[Detection] = []
                for d in sorted(cluster, key=lambda d: (PRIORITY[d.kind], d.start - d.end)):
                    if all(d.end <= c.start or d.start >= c.end for c in chosen):
                        chosen.append(d)
                result.extend(sorted(chosen, key=lambda d: d.start))
            cluster = []
        cluster.append(detection)
        cluster_end = max(cluster_end, detection.end)
    return result


# --- placeholders ------------------------------------------------------------------------------

# Bracketed in any case and spacing, or bare in upper case: "[Person 1]", "PERSON_1". Each
# alternative starts with a literal (see Speed above); a bare one preceded by a letter, digit or
# "_" ("XPERSON_1") is left alone by `_value`.
PLACEHOLDER = re.compile(
    rf"\[ {{0,3}}(?i:{'|'.join(KINDS)})[ _-]?\d{{1,6}} {{0,3}}\]|"
    + "|".join(rf"{kind}_\d{{1,6}}(?![A-Za-z0-9_])" for kind in KINDS)
)
_PLACEHOLDER_PARTS = re.compile(r"([A-Za-z]+)[ _-]?(\d+)")
# What may begin a placeholder at the end of a streamed chunk: "[", "[pers", "[PERSON 1", "PERSON_".
_PROPER_PREFIXES = "|".join(sorted({kind[:i] for kind in KINDS for i in range(1, len(kind))}, key=len, reverse=True))
_BRACKET_PREFIX = re.compile(
    rf"\[ {{0,3}}(?:(?:{'|'.join(KINDS)})(?:[ _-]?(?:\d{{1,6}} {{0,3}})?)?|{_PROPER_PREFIXES})?", re.I
)
_BARE_PREFIX = re.compile(rf"(?:{'|'.join(KINDS)})(?:_\d{{0,6}})?|{_PROPER_PREFIXES}")
_PARTIAL_START = re.compile(rf"[\[{''.join(sorted({kind[0] for kind in KINDS}))}]")
_LONGEST_PARTIAL = len("[   ADDRESS_123456   ")
_LETTERS_ONLY = str.maketrans({chr(code): " " for code in range(128) if not chr(code).isalpha()})


def _is_word(char: str) -> bool:
    return char.isascii() and (char.isalnum() or char == "_")


class Pseudonymiser:
    """Replaces personal data by placeholders and puts them back, for one conversation.

    The values live only in this object. `found` tells the AI log what was replaced (the number of
    distinct values per kind, never a value)."""

    def __init__(self, known_names: Iterable[str] = ()) -> None:
        self._names = _name_matchers(tuple(sorted({" ".join(n.split()) for n in known_names if n.strip()})))
        self._by_value: dict[tuple[str, str], str] = {}
        self._by_placeholder: dict[tuple[str, int], str] = {}
        self._counts = dict.fromkeys(KINDS, 0)

    @property
    def found(self) -> dict[str, int]:
        """How many distinct values of each kind were replaced so far (kinds with none left out)."""
        return {kind: count for kind, count in self._counts.items() if count}

    def detect(self, text: str) -> list[Detection]:
        """The personal data in `text` (spans of `text` as given), in order, without overlaps."""
        emails = list(_emails(text)) if "@" in text else []
        found = [*emails, *_numbers(text), *_capitals(text), *self._find_names(text, emails)]
        return _resolve(found)

    def _find_names(self, text: str, emails: list[Detection]) -> Iterator[Detection]:
        names = self._names
        if names.capitalised is None:
            return
        plain = _plain_text(text)
        yield from self._matches(names.capitalised, text, plain, full=False)
        # A full name starting with a small letter ("amélie durand") is rare: look only for those
        # with a word in small letters in the text (e-mail addresses left out: "amelie.durand@…").
        bounds = [0, *(i for email in emails for i in email[1:]), len(plain)]
        words = " ".join(plain[bounds[i]:bounds[i + 1]] for i in range(0, len(bounds), 2))
        hints = names.small_letter_hints
        hinted = [hints[word] for word in hints.keys() & words.translate(_LETTERS_ONLY).split()]
        if hinted:
            yield from self._matches(_small_letter_names(frozenset().union(*hinted)), text, plain, full=True)

    def _matches(self, regex: re.Pattern[str], text: str, plain: str, full: bool) -> Iterator[Detection]:
        pos = 0
        while match := regex.search(plain, pos):
            start, end = match.span()
            # The real text must spell a known name ("?" stood for any character), a capital first.
            found = self._names.keys.get(_name_key(text[start:end].translate(FOLD)))
            if found is not None and (found or not full and text[start].isupper()):
                yield Detection("PERSON", start, end)
                pos = end
            else:
                pos = start + 1

    def pseudonymise(self, text: str) -> str:
        """`text` with its personal data replaced; `restore` gives `text` back exactly. A text in
        decomposed Unicode (an accent apart from its letter, rare: browsers send the composed form)
        is composed first, so that its names are found; `restore` gives the composed form."""
        if not unicodedata.is_normalized("NFC", text):
            text = unicodedata.normalize("NFC", text)
        parts: list[str] = []
        last = 0
        for kind, start, end in self.detect(text):
            parts += (text[last:start], self._placeholder(kind, text[start:end]))
            last = end
        parts.append(text[last:])
        return "".join(parts)

    def _placeholder(self, kind: str, value: str) -> str:
        placeholder = self._by_value.get((kind, value))
        if placeholder is None:
            self._counts[kind] += 1
            self._by_placeholder[(kind, self._counts[kind])] = value
            placeholder = self._by_value[(kind, value)] = f"[{kind}_{self._counts[kind]}]"
        return placeholder

    def restore(self, text: str) -> str:
        """`text` with every placeholder this guard issued replaced by its original value."""
        return PLACEHOLDER.sub(self._value, text) if self._by_placeholder else text

    def _value(self, match: re.Match[str]) -> str:
        start, placeholder = match.start(), match.group()
        if start and placeholder[0] != "[" and _is_word(match.string[start - 1]):
            return placeholder
        kind, number = _PLACEHOLDER_PARTS.search(placeholder).groups()
        return self._by_placeholder.get((kind.upper(), int(number)), placeholder)


class StreamRestorer:
    """Restores a streamed answer chunk by chunk. Only what may be the beginning of a placeholder
    at the end of a chunk ("[PERS", "PERSON_1") is held back; everything else goes out at once.
    The concatenated output equals `guard.restore` of the whole answer."""

    def __init__(self, guard: Pseudonymiser) -> None:
        self._guard = guard
        self._pending = ""
        self._last = ""  # the last character sent out: the context of the next placeholder

    def feed(self, chunk: str) -> str:
        buffer = self._pending + chunk
        cut = self._held_from(buffer)
        self._pending = buffer[cut:]
        return self._emit(buffer[:cut])

    def flush(self) -> str:
        """The rest, at the end of the stream."""
        text, self._pending = self._pending, ""
        return self._emit(text)

    def _emit(self, text: str) -> str:
        if not text:
            return ""
        restored = text
        if "[" in text or "_" in text:
            restored = self._guard.restore(self._last + text)[len(self._last):]
        self._last = text[-1]
        return restored

    def _held_from(self, buffer: str) -> int:
        """Where the possible beginning of a placeholder at the end of `buffer` starts."""
        index = len(buffer) - _LONGEST_PARTIAL
        while (candidate := _PARTIAL_START.search(buffer, max(0, index))) is not None:
            index = candidate.start()
            if buffer[index] == "[":
                if _BRACKET_PREFIX.fullmatch(buffer, index):
                    return index
            elif not _is_word(buffer[index - 1] if index else self._last):
                if _BARE_PREFIX.fullmatch(buffer, index):
                    return index
            index += 1
        return len(buffer)
