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

What is caught: PERSON, the names the tool knows (learner, roster, trainer: `known_names` says how
they are found); EMAIL, PHONE, ADDRESS, NIR (French social security number) and IBAN (`identifiers`
says which forms).

Restoring tolerates a model that retouches a placeholder: any case and "_", " ", "-" or nothing
between kind and number inside brackets ("[Person 1]", "[person-1]", "[ PERSON_1 ]"), and the bare
upper-case form "PERSON_1". Not "Person 1" without brackets: too close to ordinary words.
A placeholder the guard never issued ("[PERSON_9]") is left as it is; one the learner typed
herself would be restored like the model's.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from .identifiers import Detection, find_identifiers
from .known_names import PARTICLES, KnownNames

__all__ = ["KINDS", "PARTICLES", "PLACEHOLDER", "Detection", "Pseudonymiser", "StreamRestorer"]

KINDS = ("PERSON", "EMAIL", "PHONE", "ADDRESS", "NIR", "IBAN")
# When two detections overlap, the surest one wins (an e-mail holding a name stays one e-mail).
PRIORITY = {"EMAIL": 0, "IBAN": 1, "NIR": 2, "PHONE": 3, "ADDRESS": 4, "PERSON": 5}


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
# alternative starts with a literal (see "Speed" in identifiers); a bare one preceded by a letter,
# digit or "_" ("XPERSON_1") is left alone by `_value`.
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


def _is_word(char: str) -> bool:
    return char.isascii() and (char.isalnum() or char == "_")


class Pseudonymiser:
    """Replaces personal data by placeholders and puts them back, for one conversation.

    The values live only in this object. `found` tells the AI log what was replaced (the number of
    distinct values per kind, never a value)."""

    def __init__(self, names: Iterable[str] = ()) -> None:
        self._names = KnownNames.of(names)
        self._by_value: dict[tuple[str, str], str] = {}
        self._by_placeholder: dict[tuple[str, int], str] = {}
        self._counts = dict.fromkeys(KINDS, 0)

    @property
    def found(self) -> dict[str, int]:
        """How many distinct values of each kind were replaced so far (kinds with none left out)."""
        return {kind: count for kind, count in self._counts.items() if count}

    def detect(self, text: str) -> list[Detection]:
        """The personal data in `text` (spans of `text` as given), in order, without overlaps."""
        found = find_identifiers(text)
        emails = [(d.start, d.end) for d in found if d.kind == "EMAIL"]
        found += [Detection("PERSON", *span) for span in self._names.find(text, skip=emails)]
        return _resolve(found)

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
