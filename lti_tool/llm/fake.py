"""The offline demonstration provider: plausible answers, computed from the messages alone.

It is the default so that the tool runs with no account and no network, and so that tests and
demos are repeatable: the same messages always give the same answer. The interface labels its
answers as a demonstration (`is_demo`); the text itself stays a plain answer.

Two kinds of answers: in a role play (the system prompt asks to play a character) the "character"
replies in the first person to the last user message; otherwise a short list of suggestions built
on the key words of the last user message.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from .base import (
    ChatMessage,
    Completion,
    CompletionStream,
    LLMProvider,
    StreamEnd,
    check_messages,
    estimate_tokens,
    prompt_chars,
    register,
)

DEMO_MODEL = "demo"

_ROLE_PLAY_MARKERS = (
    "jeu de rôle", "jeu de role", "joue le rôle", "joue le role", "jouez le rôle", "joues le rôle",
    "incarne", "personnage", "role play", "role-play", "roleplay", "play the role", "in character",
)
# "…le rôle de Lucas, apprenti…" / "You are Sam, a new apprentice…": who the character is.
_CHARACTER_PATTERNS = (
    re.compile(r"r[ôo]le\s+(?:de\s+|d['’]\s*|du\s+)(?P<who>[^.,;:!?\n]+)", re.IGNORECASE),
    re.compile(r"(?:incarnes?|incarnez)\s+(?P<who>[^.,;:!?\n]+)", re.IGNORECASE),
    re.compile(r"\b(?:tu es|vous êtes)\s+(?P<who>[^.,;:!?\n]+)", re.IGNORECASE),
    re.compile(r"\b(?:role of|play|you are)\s+(?P<who>[^.,;:!?\n]+)", re.IGNORECASE),
)
_WORD = re.compile(r"[^\W\d_][\w'’-]*", re.UNICODE)
# "Aide-moi", "dis-le": an imperative with its pronoun says nothing about the subject.
_IMPERATIVE = re.compile(r"-(?:moi|toi|nous|vous|le|la|les|lui|leur|en|y)$", re.IGNORECASE)
_ELISION = re.compile(r"^(?:[ldjmtsnc]|qu|jusqu|lorsqu|puisqu)['’]", re.IGNORECASE)
_CHUNK = re.compile(r"\S+\s*|\s+")

_FRENCH_HINTS = frozenset(
    "le la les des une est je tu il elle nous vous pour avec dans sur pas que qui mon ma mes ce "
    "cette et ou du au aux son sa ses leur".split()
)
_ENGLISH_HINTS = frozenset(
    "the and is are you your to of for with in on not that this my we it be can how what".split()
)
_STOPWORDS = _FRENCH_HINTS | _ENGLISH_HINTS | frozenset(
    "alors aussi avoir bien comme comment donc elles encore entre être fait faire mais même moins "
    "notre nos peut peux plus pourquoi quand quel quelle quels quelles sans sont tout tous toute "
    "très votre vos voici voilà afin chez depuis dont était avez avons suis ont cela ceci "
    "about after also been before being could does doing from have into just more most much "
    "only other over should some such than them then there these they those through very "
    "want were what when where which while will with would please give make help".split()
)


@dataclass(frozen=True)
class _Prompt:
    system: str
    last_user: str
    french: bool
    seed: int


@register("fake")
class FakeProvider(LLMProvider):
    """Deterministic, offline answers for demonstrations and tests."""

    label = "Démonstration / Demonstration"
    is_demo = True

    def complete(
        self,
        messages: Sequence[ChatMessage],
        *,
        model: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        timeout: float | None = None,
    ) -> Completion:
        started = time.perf_counter()
        check_messages(messages)
        options = self.options(model, temperature, max_tokens, timeout)
        text, finish_reason = _limit(demo_answer(messages), options.max_tokens)
        return Completion(
            text=text,
            model=options.model or DEMO_MODEL,
            tokens_in=estimate_tokens(prompt_chars(messages)),
            tokens_out=estimate_tokens(len(text)),
            latency_ms=round((time.perf_counter() - started) * 1000),
            provider=self.name,
            finish_reason=finish_reason,
            usage_estimated=True,
        )

    def stream(
        self,
        messages: Sequence[ChatMessage],
        *,
        model: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        timeout: float | None = None,
    ) -> CompletionStream:
        started = time.perf_counter()
        check_messages(messages)
        options = self.options(model, temperature, max_tokens, timeout)
        text, finish_reason = _limit(demo_answer(messages), options.max_tokens)
        return CompletionStream(
            self._chunks(text, finish_reason, options.model or DEMO_MODEL),
            provider=self.name,
            model=options.model or DEMO_MODEL,
            prompt_chars=prompt_chars(messages),
            started=started,
        )

    def _chunks(self, text: str, finish_reason: str, model: str) -> Iterator[str | StreamEnd]:
        delay = self.settings.fake_chunk_delay
        for index, chunk in enumerate(_CHUNK.findall(text)):
            if index and delay > 0:
                time.sleep(delay)
            yield chunk
        # Token counts stay estimated (StreamEnd without usage), as for complete().
        yield StreamEnd(model=model, finish_reason=finish_reason)


def demo_answer(messages: Sequence[ChatMessage]) -> str:
    """The demonstration answer to `messages`: a pure function of the messages."""
    prompt = _read(messages)
    if _is_role_play(prompt.system):
        return _in_character(prompt)
    return _suggestions(prompt)


def _read(messages: Sequence[ChatMessage]) -> _Prompt:
    system = "\n".join(m.content for m in messages if m.role == "system")
    users = [m.content for m in messages if m.role == "user"]
    last_user = users[-1].strip() if users else ""
    digest = hashlib.sha256(
        json.dumps([[m.role, m.content] for m in messages], ensure_ascii=False).encode()
    ).digest()
    return _Prompt(
        system=system,
        last_user=last_user,
        french=_looks_french(last_user or system),
        seed=int.from_bytes(digest[:8], "big"),
    )


def _looks_french(text: str) -> bool:
    words = [w.lower() for w in _WORD.findall(text)]
    french = sum(w in _FRENCH_HINTS for w in words) + sum(c in "éèêàçùâîôû" for c in text.lower())
    english = sum(w in _ENGLISH_HINTS for w in words)
    # French is the product's first language: it wins ties, empty text included.
    return french >= english


def _is_role_play(system: str) -> bool:
    lowered = system.lower()
    return any(marker in lowered for marker in _ROLE_PLAY_MARKERS)


def _character_name(system: str) -> str | None:
    """The character's first name when the system prompt gives one ("…rôle de Lucas, …")."""
    for pattern in _CHARACTER_PATTERNS:
        match = pattern.search(system)
        if not match:
            continue
        for word in _WORD.findall(match.group("who")):
            if word[:1].isupper() and word.lower() not in _STOPWORDS:
                return word
    return None


def _keywords(text: str, limit: int = 3) -> list[str]:
    """The `limit` longest distinct meaningful words, in the order they appear."""
    seen: dict[str, tuple[int, str]] = {}
    for position, raw in enumerate(_WORD.findall(text)):
        word = _ELISION.sub("", raw).strip("'’-")
        key = word.lower()
        if len(word) < 4 or key in _STOPWORDS or key in seen or _IMPERATIVE.search(word):
            continue
        seen[key] = (position, word)
    longest = sorted(seen.values(), key=lambda item: (-len(item[1]), item[0]))[:limit]
    return [word for _, word in sorted(longest)]


def _quote(text: str, words: int = 8) -> str:
    parts = text.split()
    quoted = " ".join(parts[:words]).rstrip(".,;:!?")
    return quoted + ("…" if len(parts) > words else "")


def _pick(options: Sequence[str], seed: int, salt: int = 0) -> str:
    return options[(seed >> (salt * 5)) % len(options)]


_REPLIES_FR = (
    "Euh… d'accord. Quand vous dites « {quote} », vous voulez dire que je dois faire autrement "
    "dès demain ? Honnêtement, je ne vois pas encore par où commencer. Vous pourriez me montrer "
    "un exemple concret ?",
    "Je comprends : « {quote} ». Mais de mon côté, j'ai l'impression de faire déjà beaucoup "
    "d'efforts… C'est quoi, pour vous, la priorité cette semaine ?",
    "Ah. Je ne m'attendais pas à ça. « {quote} »… Ça me stresse un peu, pour être franc. On peut "
    "fixer ensemble un objectif précis, avec une date pour faire le point ?",
    "D'accord… « {quote} », c'est noté. Par contre, personne ne m'avait expliqué comment on fait "
    "ici. Si vous me montrez une fois, je peux essayer seul la prochaine fois.",
)
_REPLIES_EN = (
    "Er… okay. When you say \"{quote}\", do you mean I should do it differently from tomorrow? "
    "Honestly, I don't really know where to start. Could you show me a concrete example?",
    "I get it: \"{quote}\". But I feel like I'm already trying hard… What would be the priority "
    "for you this week?",
    "Oh. I didn't expect that. \"{quote}\"… It stresses me out a bit, to be honest. Could we set "
    "a clear goal together, with a date to check how it's going?",
    "Okay… \"{quote}\", noted. But nobody ever told me how it's done here. If you show me once, "
    "I can try on my own next time.",
)
_OPENERS_FR = ("Vous vouliez me voir ?", "On m'a dit de passer vous voir, c'est ça ?")
_OPENERS_EN = ("You wanted to see me?", "I was told to come and see you, right?")


def _in_character(prompt: _Prompt) -> str:
    french = prompt.french
    if not prompt.last_user:
        name = _character_name(prompt.system)
        if french:
            greeting = f"Bonjour, c'est {name}. " if name else "Bonjour… "
        else:
            greeting = f"Hi, it's {name}. " if name else "Hello… "
        return greeting + _pick(_OPENERS_FR if french else _OPENERS_EN, prompt.seed)
    said = prompt.last_user
    name = _character_name(prompt.system)
    if name and said.lower().startswith(name.lower() + ","):
        # "Lucas, you were late…": the character does not quote its own name back.
        said = said[len(name) + 1 :].strip()
    template = _pick(_REPLIES_FR if french else _REPLIES_EN, prompt.seed)
    return template.format(quote=_quote(said or prompt.last_user))


_INTROS_FR = ("Quelques pistes à propos de « {quote} » :", "Voici comment aborder « {quote} » :")
_INTROS_EN = ("A few ideas about \"{quote}\":", "Here is how to approach \"{quote}\":")
_BULLETS_FR = (
    "{keyword} : précisez ce qui est attendu et comment vous saurez que c'est atteint.",
    "{keyword} : reliez-le à une situation de travail concrète et récente.",
    "{keyword} : prévoyez un point d'étape avec l'apprenti pour ajuster si besoin.",
    "{keyword} : demandez d'abord à l'apprenti ce qu'il en pense, puis complétez.",
    "{keyword} : notez une action simple à réaliser d'ici la semaine prochaine.",
)
_BULLETS_EN = (
    "{keyword}: state what is expected and how you will know it is achieved.",
    "{keyword}: link it to a concrete, recent work situation.",
    "{keyword}: plan a check-in with the apprentice to adjust if needed.",
    "{keyword}: ask the apprentice for their view first, then add yours.",
    "{keyword}: write down one simple action to take by next week.",
)
_GENERIC_FR = ("Précisez votre question avec un exemple tiré de votre situation de travail.",)
_GENERIC_EN = ("Make your question more specific with an example from your work situation.",)
_CLOSINGS_FR = (
    "Relisez et adaptez ces suggestions à votre contexte avant de les utiliser.",
    "Ces pistes sont un point de départ : gardez celles qui correspondent à votre situation.",
)
_CLOSINGS_EN = (
    "Review these suggestions and adapt them to your context before using them.",
    "These are a starting point: keep the ones that fit your situation.",
)


def _suggestions(prompt: _Prompt) -> str:
    french = prompt.french
    subject = prompt.last_user or prompt.system
    keywords = _keywords(subject)
    bullets = _BULLETS_FR if french else _BULLETS_EN
    start = prompt.seed % len(bullets)
    lines = [
        bullets[(start + index) % len(bullets)].format(keyword=keyword[:1].upper() + keyword[1:])
        for index, keyword in enumerate(keywords)
    ] or list(_GENERIC_FR if french else _GENERIC_EN)
    intro = _pick(_INTROS_FR if french else _INTROS_EN, prompt.seed, 1)
    closing = _pick(_CLOSINGS_FR if french else _CLOSINGS_EN, prompt.seed, 2)
    body = "\n".join(f"- {line}" for line in lines)
    return f"{intro.format(quote=_quote(subject))}\n\n{body}\n\n{closing}"


def _limit(text: str, max_tokens: int) -> tuple[str, str]:
    """Cut the answer as a model would at max_tokens (about four characters a token)."""
    if estimate_tokens(len(text)) <= max_tokens:
        return text, "stop"
    cut = text[: max_tokens * 4]
    if " " in cut:
        cut = cut[: cut.rindex(" ")]
    return cut, "length"
