"""The privacy guard: what leaves for an LLM carries no personal data, and the learner reads the
answer with the values back in place."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from pathlib import Path

import pytest
import yaml
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from stdnum import iban

from lti_tool.catalogue.services import CONTENT_DIR
from lti_tool.llm.privacy import KINDS, PARTICLES, PLACEHOLDER, Pseudonymiser, StreamRestorer

from .privacy_corpus import KNOWN_NAMES, PII_FREE, corpus

CORPUS = corpus()


@pytest.fixture
def guard() -> Pseudonymiser:
    return Pseudonymiser(KNOWN_NAMES)


@pytest.fixture(scope="module")
def pseudonymised() -> tuple[Pseudonymiser, list[str]]:
    """The whole corpus through one guard, as one long conversation."""
    guard = Pseudonymiser(KNOWN_NAMES)
    return guard, [guard.pseudonymise(sentence.text) for sentence in CORPUS]


def fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c)).casefold()


# --- the corpus ----------------------------------------------------------------------------------


def test_the_corpus_is_big_varied_and_the_same_on_every_run():
    assert Counter(s.lang for s in CORPUS) == {"fr": 240, "en": 240}
    kinds = Counter(kind for s in CORPUS for kind, _, _ in s.spans)
    assert all(kinds[kind] >= 40 for kind in KINDS), kinds
    assert corpus() == CORPUS


def test_recall_per_kind_is_at_least_98_percent():
    guard = Pseudonymiser(KNOWN_NAMES)
    caught, total, missed = Counter(), Counter(), []
    for sentence in CORPUS:
        detections = guard.detect(sentence.text)
        for kind, start, end in sentence.spans:
            total[kind] += 1
            if any(d.kind == kind and d.start <= start and d.end >= end for d in detections):
                caught[kind] += 1
            else:
                missed.append((kind, sentence.text[start:end], sentence.text))
    recall = {kind: round(caught[kind] / total[kind], 4) for kind in KINDS}
    overall = sum(caught.values()) / sum(total.values())
    report = f"recall {overall:.4f} overall, per kind {recall}; missed: {missed[:10]}"
    print(report)
    assert overall >= 0.98 and all(value >= 0.98 for value in recall.values()), report


def test_each_detection_is_exactly_a_piece_of_personal_data():
    """Precision on the corpus: nothing else is replaced, and no span runs over its neighbours."""
    guard = Pseudonymiser(KNOWN_NAMES)
    wrong = []
    for sentence in CORPUS:
        found = {(d.kind, d.start, d.end) for d in guard.detect(sentence.text)}
        if found != set(sentence.spans):
            wrong.append((sentence.text, [sentence.text[s:e] for _, s, e in found - set(sentence.spans)]))
    assert not wrong, wrong[:10]


def test_a_known_name_never_leaves(pseudonymised):
    _, outputs = pseudonymised
    parts = {part for name in KNOWN_NAMES for part in name.split() if len(part) > 1 and fold(part) not in PARTICLES}
    leaks = []
    for sentence, output in zip(CORPUS, outputs, strict=True):
        for name in KNOWN_NAMES:
            if fold(name) in fold(output):
                leaks.append((name, output))
        for part in parts:  # a part alone only counts when capitalised, as the guard's rule says
            pattern = re.compile(rf"(?<!\w){re.escape(fold(part))}(?!\w)")
            for match in pattern.finditer(fold(output)):
                if output[match.start()].isupper():
                    leaks.append((part, output))
        for kind, value in sentence.values():
            if value in output:
                leaks.append((value, output))
    assert not leaks, leaks[:10]


def test_every_sentence_comes_back_exactly(pseudonymised):
    guard, outputs = pseudonymised
    wrong = [(s.text, out) for s, out in zip(CORPUS, outputs, strict=True) if guard.restore(out) != s.text]
    assert not wrong, wrong[:5]


def test_the_same_value_gets_the_same_placeholder_across_calls(guard):
    first = guard.pseudonymise("Amélie Durand : amelie@cfa.fr, 06 12 34 56 78.")
    second = guard.pseudonymise("Relance amelie@cfa.fr ; Amélie Durand n'a pas répondu au 06 12 34 56 78.")
    assert first == "[PERSON_1] : [EMAIL_1], [PHONE_1]."
    assert second == "Relance [EMAIL_1] ; [PERSON_1] n'a pas répondu au [PHONE_1]."
    assert guard.found == {"PERSON": 1, "EMAIL": 1, "PHONE": 1}


def test_found_counts_kinds_without_values(pseudonymised):
    guard, _ = pseudonymised
    assert set(guard.found) == set(KINDS)
    assert all(isinstance(count, int) and count > 0 for count in guard.found.values())


# --- names ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("Amélie Durand a eu 14/20.", "[PERSON_1] a eu 14/20."),
    ("amelie durand, AMÉLIE DURAND, DURAND Amélie", "[PERSON_1], [PERSON_2], [PERSON_3]"),
    ("Le tuteur d'Amélie et l'équipe de Durand.", "Le tuteur d'[PERSON_1] et l'équipe de [PERSON_2]."),
    ("Amélie's work and Amélie’s notes.", "[PERSON_1]'s work and [PERSON_1]’s notes."),
    ("Jean-Pierre N'Diaye, Jean Pierre NDiaye, jean-pierre n’diaye", "[PERSON_1], [PERSON_2], [PERSON_3]"),
    ("Maëlle Le Goff, Mme Le Goff, le Goff", "[PERSON_1], Mme [PERSON_2], le [PERSON_3]"),
    ("Le chat de Le Goff.", "Le chat de [PERSON_1]."),
    ("Lætitia et Laetitia", "[PERSON_1] et [PERSON_2]"),
    ("O'Connor a écrit ; o'connor non.", "[PERSON_1] a écrit ; o'connor non."),
    ("Durandal et Amélies restent.", "Durandal et Amélies restent."),
])
def test_known_names(text, expected):
    guard = Pseudonymiser(["Amélie Durand", "Jean-Pierre N'Diaye", "Maëlle Le Goff", "Lætitia Schäfer", "O'Connor"])
    assert guard.pseudonymise(text) == expected
    assert guard.restore(guard.pseudonymise(text)) == text


def test_a_name_part_that_is_a_word_is_replaced_only_when_capitalised():
    guard = Pseudonymiser(["Rose Martin", "Pierre Lefèvre"])
    assert guard.pseudonymise("la rose des vents, une pierre angulaire") == "la rose des vents, une pierre angulaire"
    assert guard.pseudonymise("J'ai vu Rose hier.") == "J'ai vu [PERSON_1] hier."
    # Privacy first: a capitalised known part is a name, even at the start of a sentence.
    assert guard.pseudonymise("Pierre angulaire du module.") == "[PERSON_2] angulaire du module."


def test_particles_and_initials_are_never_replaced_alone():
    guard = Pseudonymiser(["Charles de Gaulle", "J. Van Damme"])
    assert guard.pseudonymise("De Lyon à Van, de J. à Paris.") == "De Lyon à Van, de J. à Paris."
    assert guard.pseudonymise("Van Damme et Gaulle") == "[PERSON_1] et [PERSON_2]"


def test_a_full_name_in_small_letters_is_found_even_half_capitalised():
    guard = Pseudonymiser(["Amélie Durand", "Maëlle Le Goff"])
    text = "amélie Durand, le Goff maëlle et amelie durand ; amelie.durand@cfa.fr"
    assert guard.pseudonymise(text) == "[PERSON_1], [PERSON_2] et [PERSON_3] ; [EMAIL_1]"


def test_names_are_found_among_emoji_and_decomposed_accents():
    guard = Pseudonymiser(["Amélie Durand"])
    assert guard.pseudonymise("🙂 Amélie Durand ❤") == "🙂 [PERSON_1] ❤"
    decomposed = unicodedata.normalize("NFD", "Amélie a écrit")
    assert guard.pseudonymise(decomposed) == "[PERSON_2] a écrit"
    assert guard.restore("[PERSON_2]") == "Amélie"  # composed, as browsers send it


def test_a_guard_rebuilt_for_each_request_gives_the_same_placeholders():
    """Replaying the conversation in order gives each value its placeholder again."""
    history = [s.text for s in CORPUS[:30]]
    first, second = Pseudonymiser(KNOWN_NAMES), Pseudonymiser(reversed(KNOWN_NAMES))
    assert [first.pseudonymise(t) for t in history] == [second.pseudonymise(t) for t in history]


def test_no_known_names_means_no_person():
    guard = Pseudonymiser()
    assert guard.pseudonymise("Amélie Durand, amelie@cfa.fr") == "Amélie Durand, [EMAIL_1]"


# --- other kinds ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "kind"), [
    ("06 12 34 56 78", "PHONE"), ("06.12.34.56.78", "PHONE"), ("06-12-34-56-78", "PHONE"),
    ("0612345678", "PHONE"), ("+33 6 12 34 56 78", "PHONE"), ("+33 (0)6 12 34 56 78", "PHONE"),
    ("01 23 45 67 89", "PHONE"), ("09 87 65 43 21", "PHONE"), ("0033 6 12 34 56 78", "PHONE"),
    ("+44 20 7946 0958", "PHONE"), ("+49 30 123456", "PHONE"), ("+1 (415) 555-2671", "PHONE"),
    ("07700 900123", "PHONE"), ("020 7946 0958", "PHONE"), ("+33612345678", "PHONE"),
    ("12 rue de la République, 69002 Lyon", "ADDRESS"), ("3 bis avenue Jean Jaurès", "ADDRESS"),
    ("5 chemin des Vignes", "ADDRESS"), ("8 allée des Tilleuls", "ADDRESS"), ("2 impasse du Moulin", "ADDRESS"),
    ("7 place Bellecour", "ADDRESS"), ("40 route de Grenoble", "ADDRESS"), ("14 quai des Chartrons", "ADDRESS"),
    ("9 boulevard Saint-Michel 75005 Paris", "ADDRESS"), ("BP 123", "ADDRESS"),
    ("4 rue de la paix, 75002 Paris", "ADDRESS"), ("rue du 8 Mai 1945, 59000 Lille", "ADDRESS"),
    ("221B Baker Street", "ADDRESS"), ("10 Downing Street, London SW1A 2AA", "ADDRESS"),
    ("1600 Pennsylvania Avenue", "ADDRESS"), ("1600 Pennsylvania Avenue NW, Washington, DC 20500", "ADDRESS"),
    ("1 Infinite Loop, Cupertino, CA 95014", "ADDRESS"), ("12, Résidence Les Pins", "ADDRESS"),
    ("CS 30001", "ADDRESS"), ("BP 123, 31000 Toulouse Cedex", "ADDRESS"),
    ("1 85 05 78 006 084 91", "NIR"), ("185057800608491", "NIR"), ("2 90 02 2A 004 012 18", "NIR"),
    ("290022A00401218", "NIR"), ("1 85 05 971 12 084 36", "NIR"),
    ("1 85 05 78 006 084", "NIR"), ("1 85 05 78 006 084 13", "NIR"),  # key left out; typo in the key
    ("FR76 3000 6000 0112 3456 7890 189", "IBAN"), ("DE89370400440532013000", "IBAN"),
    ("GB29 NWBK 6016 1331 9268 19", "IBAN"), ("BE68 5390 0754 7034", "IBAN"),
    ("amelie.durand@cfa-lyon.fr", "EMAIL"), ("j.o'connor+mentor@college.ac.uk", "EMAIL"),
])
def test_each_format_is_caught_whole(text, kind):
    guard = Pseudonymiser()
    assert guard.pseudonymise(f"Voici : {text}.") == f"Voici : [{kind}_1]."


@pytest.mark.parametrize("text", [
    "185057800608413",  # a wrong key and not written as a NIR: some other number
    "1850578006084",
    "FR7630006000011234567890189X",
    "DE42 1234 5678 9123 4567 AB",  # check digits right, but letters where Germany's layout has digits
    "+33 6 12 34 56", "+1 415 555 01", "+44 20 1234 5",  # too short for their country's numbers
    "2024-06-11 à 08:30, 2 048 Ko, 12/20, 60 %, 1 250 €, 14h30, +15 %, v2.1, salle B12",
    "+1 234 €",
])
def test_invalid_or_ordinary_numbers_stay(text):
    assert Pseudonymiser().pseudonymise(text) == text


@pytest.mark.parametrize("text", [
    "FR76 3000 6000 0112 3456 7890 188",  # the last digit mistyped
    "DE89370400440532013001",
    "GB29 NWBK 6016 1331 9268 91",  # two digits swapped
    "BE68 5390 0754 7043",
])
def test_an_iban_with_a_typo_is_still_someones_account_and_is_replaced(text):
    assert not iban.is_valid(text)  # its check digits are wrong
    assert Pseudonymiser().pseudonymise(f"Mon RIB : {text}.") == "Mon RIB : [IBAN_1]."


@pytest.mark.parametrize("sentence", PII_FREE)
def test_sentences_without_personal_data_come_out_unchanged(sentence):
    guard = Pseudonymiser(KNOWN_NAMES)
    assert guard.pseudonymise(sentence) == sentence
    assert guard.found == {}


def test_catalogue_texts_are_almost_untouched():
    """Authors cited in the resources are nobody the tool knows: they stay."""
    guard = Pseudonymiser(KNOWN_NAMES)
    fields, changed = 0, []
    for path in sorted(Path(CONTENT_DIR).glob("*/*/*.yaml")):
        if path.parent.parent.name not in ("fr", "en"):
            continue
        for text in _strings(yaml.safe_load(path.read_text(encoding="utf-8"))):
            fields += 1
            if (out := guard.pseudonymise(text)) != text:
                changed.append((path.relative_to(CONTENT_DIR).as_posix(), out))
    print(f"{len(changed)} of {fields} catalogue fields changed:", *changed, sep="\n  ")
    assert fields > 1000
    assert len(changed) < fields / 100, changed


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


# --- restoring -----------------------------------------------------------------------------------


def test_a_slightly_reformatted_placeholder_is_restored(guard):
    guard.pseudonymise("Amélie Durand, amelie@cfa.fr")
    answer = "[Person_1], [PERSON 1], [person-1], [ PERSON_1 ], [PERSON1], PERSON_1 et [EMAIL_1]."
    assert guard.restore(answer) == ("Amélie Durand, " * 6)[:-2] + " et amelie@cfa.fr."


def test_what_is_not_an_issued_placeholder_stays(guard):
    guard.pseudonymise("Amélie Durand")
    text = "[PERSON_2], Person 1, XPERSON_1, PERSON_1x, PERSON_12, [PHONE_1], [PERSON_1"
    assert guard.restore(text) == text.replace("[PERSON_1", "[Amélie Durand")


def test_restore_without_anything_issued_is_the_identity():
    assert Pseudonymiser().restore("[PERSON_1] reste") == "[PERSON_1] reste"


FRAGMENTS = [value for s in CORPUS[::7] for _, value in s.values()] + PII_FREE[::5] + KNOWN_NAMES[::4]


@settings(max_examples=300, deadline=None)
@given(parts=st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=12)), max_size=8),
       separators=st.lists(st.sampled_from([" ", ", ", "\n", "'", "(", "-", ""]), min_size=8, max_size=8))
def test_any_text_comes_back_exactly(parts, separators):
    text = "".join(part + separator for part, separator in zip(parts, separators, strict=False))
    assume(unicodedata.is_normalized("NFC", text) and not PLACEHOLDER.search(text))
    guard = Pseudonymiser(KNOWN_NAMES)
    assert guard.restore(guard.pseudonymise(text)) == text


def _answer(draw, outputs: list[str]) -> str:
    """A model answer built from pseudonymised corpus sentences, placeholders retouched at times."""
    picked = draw(st.lists(st.sampled_from(outputs), min_size=1, max_size=4))
    text = " ".join(picked)
    variants = draw(st.lists(st.sampled_from(["[{k}_{n}]", "[{c}_{n}]", "[{k} {n}]", "{k}_{n}", "[{l}-{n}]"]),
                             min_size=1, max_size=3))

    def retouch(match: re.Match[str]) -> str:
        kind, number = match.group(1), match.group(2)
        variant = variants[int(number) % len(variants)]
        return variant.format(k=kind, c=kind.capitalize(), l=kind.lower(), n=number)

    return re.sub(r"\[([A-Z]+)_(\d+)\]", retouch, text)


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_streamed_restoration_equals_whole_restoration(pseudonymised, data):
    guard, outputs = pseudonymised
    answer = _answer(data.draw, outputs)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(answer)), max_size=40)))
    chunks = [answer[i:j] for i, j in zip([0, *cuts], [*cuts, len(answer)], strict=True)]
    stream = StreamRestorer(guard)
    assert "".join(stream.feed(chunk) for chunk in chunks) + stream.flush() == guard.restore(answer)


@settings(max_examples=500, deadline=None)
@given(text=st.text(alphabet="[]_- PERSONMAILHDIBpersonx0129é\n", max_size=60), data=st.data())
def test_streaming_equals_whole_on_adversarial_text(pseudonymised, text, data):
    guard, _ = pseudonymised
    cuts = sorted(data.draw(st.lists(st.integers(0, len(text)), max_size=20)))
    chunks = [text[i:j] for i, j in zip([0, *cuts], [*cuts, len(text)], strict=True)]
    stream = StreamRestorer(guard)
    assert "".join(stream.feed(chunk) for chunk in chunks) + stream.flush() == guard.restore(text)


def test_streaming_holds_back_only_a_possible_placeholder(guard):
    guard.pseudonymise("Amélie Durand")
    stream = StreamRestorer(guard)
    assert stream.feed("Bonjour [PERS") == "Bonjour "
    assert stream.feed("ON_1], bravo. ") == "Amélie Durand, bravo. "
    assert stream.feed("Ton score : 12/20 [") == "Ton score : 12/20 "
    assert stream.feed("sic] PERSON_1") == "[sic] "
    assert stream.feed(" !") == "Amélie Durand !"
    assert stream.flush() == ""
