"""Personal identifiers in a text, for the privacy guard: e-mail addresses, phone numbers, postal
addresses, French social security numbers (NIR) and IBANs.

Regexes find the candidates, in the layouts people write them in; libraries say whether a
candidate is a real identifier: phonenumbers (a number of a possible length for its country),
python-stdnum (the layout of each country's IBANs, from its registry; a NIR's key).

- EMAIL.
- PHONE: French numbers (06 12 34 56 78, +33/0033 forms), international numbers with a + or 00,
  British numbers written the British way (07700 900123, 020 7946 0958).
- ADDRESS: a French or English street with its number, optional postcode and city; a French street
  without number when a postcode follows; "BP 123", "CS 30001"; a house number 1900-2099 is taken
  for a year.
- NIR: 13 digits and a 2-digit key, 2A/2B, 97x; a wrong or missing key only when the number is
  written with its usual spaces (a typo in the key, the key left out).
- IBAN: in capitals, any country of the registry, spaced or not, of its country's length and layout
  (where digits, where letters); the check digits are not checked: an IBAN with a typo is still
  someone's account number.
Not found: national phone numbers of other countries written without their + prefix; an address
with neither number nor postcode; an IBAN in small letters.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from typing import NamedTuple

import phonenumbers
from stdnum import numdb
from stdnum.fr import nir

from .word_trie import trie_pattern


class Detection(NamedTuple):
    kind: str
    start: int
    end: int


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
_FRENCH_STREET = trie_pattern(  # any case; a trie of small classes is quick to run and to build
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
    # +44 20 7946 0958 · +33 (0)6 12 34 56 78 · 0033 6 12 34 56 78: its length checked after
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
    r"(?P<IBAN>[A-Z]\d\d(?:[ \u00a0]?[A-Za-z0-9]){11,30})",  # trimmed to the IBAN after
    # BP 123, 31000 Toulouse Cedex · CS 30001
    rf"(?P<BOX>(?:(?<=B)(?:P|\.P\.)\s?\d{{1,6}}|(?<=C)S\s?\d{{4,6}})(?!\d)(?:{_POSTCODE_CITY})?)",
)) + ")")
_SPACES = re.compile(r"[ \u00a0]")


def find_identifiers(text: str) -> list[Detection]:
    """Every identifier in `text`, in no particular order; they may overlap."""
    emails = list(_emails(text)) if "@" in text else []
    return [*emails, *_numbers(text), *_capitals(text)]


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
        elif kind == "BRITISH" and _possible_phone(value, "GB"):
            yield Detection("PHONE", *match.span())
        elif kind == "INTERNATIONAL" and _possible_phone(value, "FR"):
            yield Detection("PHONE", *match.span())
        elif kind == "ADDRESS" and not _YEAR.match(value):
            yield Detection(kind, *match.span())
        elif kind == "POSTCODE":
            window = max(0, match.start() - 100), min(len(text), match.end() + 80)
            if street := STREET_BEFORE_POSTCODE.search(text, *window):
                yield Detection("ADDRESS", *street.span())


def _possible_phone(number: str, region: str) -> bool:
    """A number of a possible length for its country (the country code's, or `region`'s for a
    national number; "FR" reads a leading 00 as the international prefix)."""
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_possible_number_with_reason(parsed) == phonenumbers.ValidationResult.IS_POSSIBLE


def _nir_ok(value: str) -> bool:
    """A NIR with its key right, or written by hand with its usual spaces (a typo in the key, no
    key): a run of 13 or 15 digits with a wrong key is some other number."""
    spaced = _SPACES.sub(" ", value)
    return nir.is_valid(spaced) or spaced.count(" ") == (5 if len(spaced.replace(" ", "")) == 13 else 6)


def _capitals(text: str) -> Iterator[Detection]:
    pos = 0
    while match := CAPITALS.search(text, pos):
        start, pos = match.start(), match.end()
        if match.lastgroup == "BOX":
            yield Detection("ADDRESS", start, pos)
        elif end := _iban_end(text, start, pos):
            yield Detection("IBAN", start, end)
            pos = end
        else:
            pos = start + 1  # the candidate ran on into the next words: another IBAN may start there


def _iban_end(text: str, start: int, stop: int) -> int | None:
    """Where the IBAN starting at `start` ends (the candidate runs to `stop`), or None: its
    country's length of letters and digits, spaces not counted, then no letter or digit, in its
    country's layout. Its check digits may be wrong (a typo): it is an account number all the same."""
    layout = _iban_layout(text[start:start + 2])
    if layout is None:
        return None
    end, count, length = start, 0, layout.length
    while count < length and end < stop:
        count += text[end].isalnum()
        end += 1
    if count == length and not text[end:end + 1].isalnum() and layout.pattern.fullmatch(
            _SPACES.sub("", text[start:end])):
        return end
    return None


class _IbanLayout(NamedTuple):
    length: int  # letters and digits, country code and check digits included
    pattern: re.Pattern[str]  # the whole IBAN, without spaces


_BBAN_PART = re.compile(r"(\d+)!([nac])")
_BBAN_CHARS = {"n": "[0-9]", "a": "[A-Z]", "c": "[A-Za-z0-9]"}


@functools.lru_cache(maxsize=None)
def _iban_layout(country: str) -> _IbanLayout | None:
    """The layout of the country's IBANs in python-stdnum's registry (None: not in it), e.g.
    France's "5!n5!n11!c2!n": 5 digits, 5 digits, 11 letters or digits, 2 digits."""
    [(_, found), *_] = numdb.get("iban").info(country)
    if "bban" not in found:
        return None
    parts = _BBAN_PART.findall(found["bban"])
    bban = "".join(f"{_BBAN_CHARS[kind]}{{{count}}}" for count, kind in parts)
    return _IbanLayout(4 + sum(int(count) for count, _ in parts), re.compile(f"{re.escape(country)}[0-9]{{2}}{bban}"))
