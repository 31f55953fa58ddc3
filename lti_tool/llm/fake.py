"""The offline demonstration provider: plausible answers, computed from the messages alone.

It is the default so that the tool runs with no account and no network, and so that tests and
demos are repeatable: the same messages always give the same answer. The interface labels its
answers as a demonstration (`is_demo`); the text itself stays a plain answer.

Each prompt gets the shape it asks for: in a role play (the system prompt asks to play a
character) the fake plays that character — a client, a colleague, a mentor or an apprentice, as
the exercise describes it — reacting to what the learner said without repeating it; a trainer's
feedback draft comes in the two titled parts its instructions ask for (what went well / even better
if); the connection test answers "OK"; anything else gets a short list of suggestions built on the
key words of the last user message.
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
    turns: int = 0  # how many times the learner spoke


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
    lowered = prompt.system.lower()
    if "reply only: ok" in lowered or "réponds seulement : ok" in lowered:
        return "OK"  # the connection test
    if any(marker in lowered for marker in _FEEDBACK_MARKERS):
        return _feedback(prompt)
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
        turns=len(users),
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


# The character a role play's system prompt describes (prompts.ROLE_PLAY: "Tu joues ce
# personnage : …" / "You play this character: …"), by what it is: the fake plays that part.
_CHARACTER_LINE = re.compile(r"(?:personnage\s*:|play this character:)\s*(?P<text>[^\n]+)", re.IGNORECASE)
_ARCHETYPES = (  # first match wins: a colleague's description may mention clients and apprentices
    ("colleague", ("collègue", "colleague", "coworker")),
    ("client", ("client", "customer", "guest")),
    ("mentor", ("mentor", "tuteur", "tutrice", "tutor")),
    ("apprentice", ("apprenti", "apprentice", "alternant", "mentee", "trainee")),
)
# What the learner says that the character reacts to (stems, lower case).
_REASSURING = ("désolé", "desole", "excus", "pardon", "comprends", "sorry", "apolog", "understand")
_OFFERS = ("propos", "offr", "geste", "rembours", "réduc", "reduc", "surclass", "chambre", "offer", "refund",
           "discount", "upgrade", "compens")
_SAFER_WAYS = ("anonym", "pseudonym", "local", "interne", "entreprise", "retir", "supprim", "enlev", "masqu",
               "internal", "remove", "company", "in-house", "on-premise", "redact")

_LINES = {
    ("client", "fr"): {
        "open": "Bonsoir. J'ai un problème avec ma réservation, et j'aimerais qu'on le règle maintenant.",
        "push": ("Je ne veux pas d'explications, je veux une solution. J'ai payé pour une vue sur la mer, "
                 "pas pour une vue sur le parking.",
                 "Vous me dites ça, mais concrètement ? Qu'est-ce que vous me proposez ce soir ?",
                 "Écoutez, c'est mon seul week-end de vacances. Je ne vais pas le passer dans cette chambre."),
        "soften": ("Bon… merci de le reconnaître, au moins. Qu'est-ce que vous pouvez faire pour moi, exactement ?",
                   "D'accord, je vous écoute. Mais je veux être sûr que ce sera réglé demain matin au plus tard."),
        "settle": ("Bon, ça me paraît correct. Vous pouvez me le confirmer par écrit ? Je veux être sûr que "
                   "personne ne reviendra dessus demain.",
                   "Très bien, j'accepte. Merci de vous en être occupé sans me renvoyer d'un service à l'autre."),
    },
    ("client", "en"): {
        "open": "Good evening. There's a problem with my booking and I'd like it sorted out now.",
        "push": ("I don't want explanations, I want a solution. I paid for a sea view, not a car-park view.",
                 "That's what you say, but what are you actually offering me tonight?",
                 "Look, this is my only weekend off. I'm not spending it in this room."),
        "soften": ("Well… thank you for admitting it, at least. What exactly can you do for me?",
                   "All right, I'm listening. But I want it sorted by tomorrow morning at the latest."),
        "settle": ("Fine, that sounds fair. Can you confirm it in writing? I don't want anyone to go back on it.",
                   "All right, I accept. Thank you for dealing with it instead of sending me from desk to desk."),
    },
    ("colleague", "fr"): {
        "open": "Salut ! Tu aurais deux minutes ? J'ai un service à te demander pour la réunion de demain.",
        "push": ("Franchement, tout le monde le fait. C'est juste un résumé, personne ne va lire ce qu'on colle dedans.",
                 "Je comprends l'idée, mais je n'ai pas le temps de tout relire à la main. Tu as une meilleure solution ?",
                 "Ça reste théorique, non ? On n'a jamais eu de problème jusqu'ici."),
        "soften": ("Ah, vu comme ça… Je n'avais pas pensé aux bilans des apprentis. Tu ferais comment, toi ?",),
        "settle": ("D'accord, ça me va si ça ne prend pas la journée. On enlève les noms et les infos clients, et "
                   "tu me montres comment faire la première fois ?",
                   "OK, je préfère ça finalement. Tu peux m'envoyer la marche à suivre pour que je le refasse seul ?"),
    },
    ("colleague", "en"): {
        "open": "Hi! Have you got two minutes? I need a favour for tomorrow's meeting.",
        "push": ("Honestly, everybody does it. It's just a summary, nobody reads what we paste in there.",
                 "I get the point, but I don't have time to go through it all by hand. Have you got a better idea?",
                 "That's all theory, isn't it? We've never had a problem so far."),
        "soften": ("Oh, put like that… I hadn't thought about the apprentices' reviews. How would you do it?",),
        "settle": ("All right, fine by me if it doesn't take all day. We take out the names and the client details, "
                   "and you show me how the first time?",
                   "OK, I'd rather do that after all. Can you send me the steps so I can do it myself next time?"),
    },
    ("mentor", "fr"): {
        "open": "Bonjour ! On a un moment tous les deux. Comment ça se passe pour toi en ce moment ?",
        "push": ("Merci de m'en parler. Qu'est-ce qui a été le plus difficile pour toi dans cette situation ?",
                 "Je vois. Et toi, qu'est-ce que tu aurais aimé qu'il se passe ?",
                 "C'est une situation que beaucoup d'apprentis rencontrent. Qu'est-ce que tu as déjà essayé ?",
                 "D'accord. Si on choisissait une petite chose à tenter cette semaine, ce serait laquelle ?"),
        "soften": ("Ce n'est pas facile d'en parler, tu as bien fait. Prenons le temps d'y voir clair ensemble.",),
        "settle": ("On fait le point la semaine prochaine pour voir comment ça s'est passé ? Tu peux venir me voir "
                   "avant si besoin.",),
    },
    ("mentor", "en"): {
        "open": "Hello! We have a moment together. How are things going for you at the moment?",
        "push": ("Thanks for telling me. What was the hardest part of that situation for you?",
                 "I see. And what would you have liked to happen?",
                 "Many apprentices go through this. What have you tried so far?",
                 "All right. If we picked one small thing to try this week, what would it be?"),
        "soften": ("It's not easy to talk about, you did well to bring it up. Let's look at it together.",),
        "settle": ("Shall we check how it went next week? Come and see me before then if you need to.",),
    },
    ("apprentice", "fr"): {
        "open": "Vous vouliez me voir ?",
        "push": ("Euh… d'accord. Je dois faire autrement dès demain, c'est ça ? Honnêtement, je ne vois pas "
                 "encore par où commencer. Vous pourriez me montrer un exemple concret ?",
                 "Je comprends. Mais de mon côté, j'ai l'impression de faire déjà beaucoup d'efforts… C'est quoi, "
                 "pour vous, la priorité cette semaine ?",
                 "Ah. Je ne m'attendais pas à ça. Ça me stresse un peu, pour être franc. On peut fixer ensemble "
                 "un objectif précis, avec une date pour faire le point ?"),
        "soften": ("D'accord, merci de me le dire comme ça. Personne ne m'avait expliqué comment on fait ici.",),
        "settle": ("OK, je vais essayer. Si vous me montrez une fois, je peux le faire seul la prochaine fois.",),
    },
    ("apprentice", "en"): {
        "open": "You wanted to see me?",
        "push": ("Er… okay. So I should do it differently from tomorrow? Honestly, I don't really know where to "
                 "start. Could you show me a concrete example?",
                 "I get it. But I feel like I'm already trying hard… What would be the priority for you this week?",
                 "Oh. I didn't expect that. It stresses me out a bit, to be honest. Could we set a clear goal "
                 "together, with a date to check how it's going?"),
        "soften": ("Okay, thanks for putting it that way. Nobody ever told me how it's done here.",),
        "settle": ("Okay, I'll give it a go. If you show me once, I can do it on my own next time.",),
    },
}


def _archetype(system: str) -> str:
    match = _CHARACTER_LINE.search(system)
    described = (match.group("text") if match else system).lower()
    for archetype, words in _ARCHETYPES:
        if any(word in described for word in words):
            return archetype
    return "apprentice"


def _in_character(prompt: _Prompt) -> str:
    """The character's reply: what that kind of character (a client, a colleague, a mentor, an
    apprentice) says at this point of the conversation, reacting to what the learner said
    (an apology, an offer, a safer way of doing things) without repeating it back."""
    lang = "fr" if prompt.french else "en"
    archetype = _archetype(prompt.system)
    lines = _LINES[(archetype, lang)]
    if not prompt.last_user:
        name = _character_name(prompt.system) if archetype == "apprentice" else None
        greeting = (f"Bonjour, c'est {name}. " if lang == "fr" else f"Hi, it's {name}. ") if name else ""
        return greeting + lines["open"]
    said = prompt.last_user.lower()
    turn = prompt.turns
    if archetype == "colleague":
        convinced = any(stem in said for stem in _SAFER_WAYS)
        key = "settle" if convinced else ("soften" if any(s in said for s in _REASSURING) and turn > 1 else "push")
    elif archetype == "client":
        offered = any(stem in said for stem in _OFFERS)
        key = "settle" if offered and turn > 1 else ("soften" if offered or any(s in said for s in _REASSURING)
                                                      else "push")
    elif archetype == "mentor":
        key = "settle" if turn >= 4 else ("soften" if turn == 1 else "push")
    else:
        key = "settle" if turn >= 3 else ("soften" if any(s in said for s in _REASSURING) else "push")
    options = lines[key]
    return options[(turn - 1 + prompt.seed % 2) % len(options)] if key == "push" else options[prompt.seed % len(options)]


# The trainer's feedback draft (grading): the two titled parts the instructions ask for, in plain
# text (the comment goes to the gradebook as it is), drawn from the work's exercise titles.
_WWW = {"fr": "Ce qui a bien fonctionné", "en": "What went well"}
_EBI = {"fr": "Ce serait encore mieux si", "en": "Even better if"}
_FEEDBACK_MARKERS = ("ce qui a bien fonctionné", "what went well")
_TITLE = re.compile(r"^##\s+(?P<title>.+)$", re.MULTILINE)


def _feedback(prompt: _Prompt) -> str:
    lang = "fr" if "ce qui a bien fonctionné" in prompt.system.lower() else "en"
    titles = [m.group("title").strip() for m in _TITLE.finditer(prompt.last_user)][:3]
    answered = len(re.findall(r"^- ", prompt.last_user, re.MULTILINE))
    if lang == "fr":
        well = [f"Vous avez traité « {title} » avec des réponses personnelles et concrètes." for title in titles[:2]] \
            or ["Vous avez rendu un travail complet, dans les délais."]
        well.append(f"Vos {answered} réponses s'appuient sur votre situation de travail." if answered > 1
                    else "Votre réponse s'appuie sur votre situation de travail.")
        better = [f"vous illustriez « {titles[-1]} » par un exemple précis tiré d'une situation récente ;" if titles
                  else "vous illustriez vos réponses par un exemple précis tiré d'une situation récente ;",
                  "vous indiquiez comment vous vérifierez que l'action a fonctionné (un critère, une date)."]
    else:
        well = [f"You worked through \"{title}\" with personal, concrete answers." for title in titles[:2]] \
            or ["You handed in complete work, on time."]
        well.append(f"Your {answered} answers build on your own work situation." if answered > 1
                    else "Your answer builds on your own work situation.")
        better = [f"you illustrated \"{titles[-1]}\" with a precise example from a recent situation;" if titles
                  else "you illustrated your answers with a precise example from a recent situation;",
                  "you said how you will check that the action worked (a criterion, a date)."]
    lines = [_WWW[lang]] + [f"- {line}" for line in well] + ["", _EBI[lang]] + [f"- {line}" for line in better]
    return "\n".join(lines)


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


_NUMBERS = {"deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "six": 6, "sept": 7,
            "two": 2, "three": 3, "four": 4, "five": 5, "seven": 7}
_ASKED_COUNT = re.compile(r"\b(?P<n>[2-7]|" + "|".join(_NUMBERS) + r")\s+(?:[^\W\d_]+\s+){0,2}?"
                          r"(?:idées|questions|points|pistes|étapes|conseils|exemples|objectifs|actions|"
                          r"ideas|questions|points|steps|tips|examples|goals|actions)\b", re.IGNORECASE)


def _asked_count(text: str) -> int | None:
    """How many items the prompt asks for ("3 questions", "cinq idées"), if it says."""
    match = _ASKED_COUNT.search(text)
    if not match:
        return None
    word = match.group("n").lower()
    return int(word) if word.isdigit() else _NUMBERS.get(word)


def _suggestions(prompt: _Prompt) -> str:
    """A list of suggestions on the question's key words; as many as the prompt asks for when it
    says ("donne-moi 5 idées"), so that a precise prompt gets a visibly different answer from a
    vague one (the prompt transformation exercise compares the two)."""
    french = prompt.french
    subject = prompt.last_user or prompt.system
    wanted = _asked_count(subject)
    keywords = _keywords(subject, limit=wanted or 3)
    bullets = _BULLETS_FR if french else _BULLETS_EN
    start = prompt.seed % len(bullets)
    if wanted and keywords:
        keywords = [keywords[index % len(keywords)] for index in range(wanted)]
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
