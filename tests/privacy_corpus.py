"""A generated corpus for the privacy guard: French and English sentences of the kind mentors write,
with the personal data in them and where it is (`Sentence.spans`), plus sentences without any.

Deterministic (seeded `random`): the same corpus on every run. The values are valid where validity
can be computed: NIR keys and IBAN check digits are calculated, not typed.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

FRENCH_PEOPLE = [
    ("Amélie", "Durand"), ("Jean-Pierre", "N'Diaye"), ("Élodie", "Lefèvre"), ("François", "Gauthier"),
    ("Maëlle", "Le Goff"), ("Hélène", "D'Almeida"), ("Loïc", "Rousseau"), ("Anaïs", "Benali"),
    ("Chloé", "Mercier"), ("Stéphane", "Girard"), ("Inès", "Haddad"), ("Noémie", "Fontaine"),
    ("Jérôme", "Lemaître"), ("Gaëlle", "Chevalier"), ("Benoît", "Nguyen"), ("Anne-Sophie", "Faure"),
    ("Marie-Hélène", "Caron"), ("Zoé", "Perrin"), ("Mathéo", "Lambert"), ("Océane", "Moreau-Diallo"),
    ("Lætitia", "Dubois"), ("Yanis", "Ouédraogo"),
]
ENGLISH_PEOPLE = [
    ("Olivia", "Smith"), ("James", "O'Connor"), ("Siobhán", "O'Brien"), ("Chloe", "Taylor-Jones"),
    ("Liam", "McAllister"), ("Zoë", "Williams"), ("Seán", "Murphy"), ("Renée", "Clarke"),
    ("Noah", "Brown"), ("Amelia", "Hughes"), ("Oliver", "Bennett"), ("Isla", "MacDonald"),
    ("Harry", "Patel"), ("Emily", "Davies"), ("Aoife", "Ní Bhriain"), ("Mohammed", "Al-Sayed"),
    ("Grace", "Thompson"), ("Mary-Jane", "Okafor"),
]
KNOWN_NAMES = [f"{given} {family}" for given, family in FRENCH_PEOPLE + ENGLISH_PEOPLE]

FRENCH_STREETS = [
    "rue de la République", "avenue Jean Jaurès", "boulevard Saint-Michel", "chemin des Vignes",
    "allée des Tilleuls", "impasse du Moulin", "place Bellecour", "route de Grenoble",
    "quai des Chartrons", "rue du 8 Mai 1945", "rue de l'Église", "avenue du Général de Gaulle",
    "rue Victor Hugo", "cours Lafayette", "rue Pasteur", "boulevard de la Croix-Rousse",
    "Rue des Écoles", "chemin de la Source", "place du Marché", "allée Marie Curie",
]
FRENCH_CITIES = [
    "69002 Lyon", "75005 Paris", "33000 Bordeaux", "59000 Lille", "13001 Marseille", "31000 Toulouse",
    "44000 Nantes", "67000 Strasbourg", "20000 Ajaccio", "42000 Saint-Étienne", "13100 Aix-en-Provence",
    "76600 Le Havre", "92100 Boulogne-Billancourt", "69100 Villeurbanne", "97400 Saint-Denis",
]
ENGLISH_STREETS = [
    "Baker Street", "Downing Street", "High Street", "Church Road", "Oak Lane", "Elm Drive",
    "Victoria Road", "Park Avenue", "Queen's Road", "Station Road", "Mill Lane", "King Street",
    "Pennsylvania Avenue", "Castle Hill", "Primrose Hill Gardens", "Main St",
]
ENGLISH_CITIES = [
    "London SW1A 2AA", "Manchester M1 1AE", "Leeds LS1 4AP", "London", "Edinburgh EH1 1YZ",
    "New York, NY 10022", "Washington, DC 20500", "Bristol BS1 4DJ", "Cardiff CF10 1EP",
]
EMAIL_DOMAINS = [
    "gmail.com", "orange.fr", "free.fr", "laposte.net", "cfa-lyon.fr", "entreprise.co.uk",
    "outlook.com", "yahoo.fr", "btinternet.com", "college.ac.uk", "sfr.fr", "mail.example.org",
]
# IBAN layouts: n digit, a letter, c letter or digit (ECBS registry, simplified).
IBAN_LAYOUTS = {
    "FR": "5n5n11c2n", "DE": "18n", "BE": "12n", "ES": "20n", "IT": "1a10n12c", "GB": "4a14n",
    "NL": "4a10n", "CH": "5n12c", "PT": "21n", "LU": "3n13c", "AT": "16n", "IE": "4a14n",
}


@dataclass(frozen=True)
class Sentence:
    lang: str
    text: str
    spans: tuple[tuple[str, int, int], ...]  # (kind, start, end) of each piece of personal data

    def values(self) -> list[tuple[str, str]]:
        return [(kind, self.text[start:end]) for kind, start, end in self.spans]


# --- values ------------------------------------------------------------------------------------


def ascii_fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if c.isascii())


def digits(rng: random.Random, count: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(count))


def email(rng: random.Random, given: str, family: str) -> str:
    local_given = ascii_fold(given).lower().replace("'", "").replace(" ", "")
    local_family = ascii_fold(family).lower().replace("'", "").replace(" ", "")
    local = rng.choice([
        f"{local_given}.{local_family}", f"{local_given[0]}.{local_family}", f"{local_given}{digits(rng, 2)}",
        f"{local_family}_{local_given}", f"contact+{local_given}", "accueil", f"{local_given}-{local_family}",
    ])
    return f"{local}@{rng.choice(EMAIL_DOMAINS)}"


def french_phone(rng: random.Random) -> str:
    prefix = rng.choice("6671234591")
    pairs = [digits(rng, 2) for _ in range(4)]
    national = "0" + prefix
    return rng.choice([
        lambda: " ".join([national, *pairs]), lambda: ".".join([national, *pairs]),
        lambda: "-".join([national, *pairs]), lambda: national + "".join(pairs),
        lambda: f"+33 {prefix} " + " ".join(pairs), lambda: f"+33 (0){prefix} " + " ".join(pairs),
        lambda: f"+33{prefix}" + "".join(pairs), lambda: f"0033 {prefix} " + " ".join(pairs),
    ])()


def international_phone(rng: random.Random) -> str:
    d = lambda n: digits(rng, n)  # noqa: E731
    return rng.choice([
        lambda: f"+44 20 {d(4)} {d(4)}", lambda: f"+44 7700 {d(6)}", lambda: f"+49 30 {d(6)}",
        lambda: f"+49 151 {d(8)}", lambda: f"+1 415 555 {d(4)}", lambda: f"+1 (212) 555-{d(4)}",
        lambda: f"+32 2 {d(3)} {d(2)} {d(2)}", lambda: f"+34 612 {d(2)} {d(2)} {d(2)}",
        lambda: f"+39 06 {d(4)} {d(4)}", lambda: f"+41 22 {d(3)} {d(2)} {d(2)}",
        lambda: f"+353 1 {d(3)} {d(4)}", lambda: f"+31 20 {d(3)} {d(4)}", lambda: f"+4420{d(8)}",
        lambda: f"07700 {d(6)}", lambda: f"020 {d(4)} {d(4)}", lambda: f"0161 {d(3)} {d(4)}",
    ])()


def french_address(rng: random.Random) -> str:
    if rng.random() < 0.08:
        box = f"BP {rng.randint(1, 9999)}"
        return box + rng.choice(["", f", {rng.choice(FRENCH_CITIES)} Cedex", f" {rng.choice(FRENCH_CITIES)}"])
    number = str(rng.randint(1, 250)) + rng.choice(["", "", "", " bis", " ter", "B"])
    street = rng.choice(FRENCH_STREETS)
    city = rng.choice(["", "", f", {rng.choice(FRENCH_CITIES)}", f" {rng.choice(FRENCH_CITIES)}"])
    return f"{number}{rng.choice([' ', ' ', ', '])}{street}{city}"


def english_address(rng: random.Random) -> str:
    street = rng.choice(ENGLISH_STREETS)
    number = str(rng.randint(1, 250)) + rng.choice(["", "", "", "A", "B"])
    if street == "Pennsylvania Avenue":
        return rng.choice(["1600 Pennsylvania Avenue", "1600 Pennsylvania Avenue NW, Washington, DC 20500"])
    return f"{number} {street}" + rng.choice(["", "", f", {rng.choice(ENGLISH_CITIES)}"])


def nir(rng: random.Random) -> str:
    sex, year, month = rng.choice("12"), digits(rng, 2), f"{rng.randint(1, 12):02d}"
    place = rng.random()
    if place < 0.1:
        department, commune = rng.choice(["2A", "2B"]), f"{rng.randint(1, 366):03d}"
    elif place < 0.2:
        department, commune = rng.choice(["971", "972", "974"]), f"{rng.randint(1, 34):02d}"
    else:
        department, commune = f"{rng.choice([*range(1, 20), *range(21, 96)]):02d}", f"{rng.randint(1, 900):03d}"
    order = f"{rng.randint(1, 999):03d}"
    number = sex + year + month + department + commune + order
    key = f"{97 - int(number.replace('2A', '19').replace('2B', '18')) % 97:02d}"
    if rng.random() < 0.5:
        return number + key
    place_part = f"{department} {commune}"
    return f"{sex} {year} {month} {place_part} {order} {key}"


def iban(rng: random.Random) -> str:
    country = rng.choice(list(IBAN_LAYOUTS))
    layout, bban, count = IBAN_LAYOUTS[country], "", ""
    for char in layout:
        if char.isdigit():
            count += char
            continue
        alphabet = {"n": "0123456789", "a": "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "c": "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"}[char]
        bban += "".join(rng.choice(alphabet) for _ in range(int(count)))
        count = ""
    numeric = "".join(str(int(c, 36)) for c in bban + country + "00")
    compact = f"{country}{98 - int(numeric) % 97:02d}{bban}"
    if rng.random() < 0.5:
        return compact
    return " ".join(compact[i:i + 4] for i in range(0, len(compact), 4))


# --- templates ---------------------------------------------------------------------------------
# {full} {given} {family} {rev} ("DURAND Amélie") {upper} {lower}: the learner; {full_b} {given_b}
# {family_b}: a second person; {de_given} {de_full} {de_family}: "d'Amélie", "de Jean-Pierre";
# {email} {phone} {address} {nir} {iban}.

FRENCH_TEMPLATES = [
    "Mon apprentie {full} a obtenu 14/20 à l'évaluation du module 2.",
    "Bonjour, je suis la tutrice {de_given} en BTS, elle progresse bien depuis 2023.",
    "{given} a du mal à s'organiser depuis mars 2024 : comment l'aider ?",
    "L'entretien avec {family} est prévu jeudi à 14h30, pour 45 minutes.",
    "Voici le compte rendu {de_full}, rédigé avec ChatGPT puis relu.",
    "Pour joindre {given}, appelez le {phone} ou écrivez à {email}.",
    "{rev} — fiche de suivi, session 2023-2024.",
    "Son adresse : {address}.",
    "Elle habite au {address} depuis 3 ans.",
    "Numéro de sécurité sociale de l'apprentie : {nir}.",
    "Le RIB {de_given} : {iban}, merci de ne pas le diffuser.",
    "{given} et {given_b} ont travaillé ensemble sur 3 exercices.",
    "J'ai demandé à {given} de reformuler ses objectifs SMART.",
    "Le maître d'apprentissage {de_given}, {full_b}, est joignable au {phone}.",
    "Courrier à envoyer à {full}, {address}.",
    "Contact entreprise : {email} / {phone}.",
    "{given} m'a dit : « je veux arrêter ». Que faire ?",
    "Dans son carnet, {lower} note 5 réussites sur 7.",
    "Je reprends l'évaluation {de_family} : 60 % des critères sont atteints.",
    "{upper} — 12/20 au quiz, 60 % de réussite.",
    "Voici le mail {de_given} : « Bonjour, je serai absente » ({email}).",
    "Sa carte Vitale porte le numéro {nir}, est-ce normal de le demander ?",
    "Virement sur {iban} au nom de {full}.",
    "Rendez-vous au {address} à 9h00 avec {full}.",
    "L'adresse de l'entreprise est {address}, au 2e étage.",
    "Tél. {given} : {phone}.",
    "{given} a rendu 4 travaux sur 5 ; {family_b} n'en a rendu que 2.",
    "Mme {family} m'a envoyé son planning par courriel ({email}).",
    "M. {family_b} (entreprise) et {full} (apprenti) se voient chaque lundi.",
    "Numéro de {given} : {phone} ; son NIR : {nir}.",
    "Le dossier {de_full} (IBAN {iban}) est complet.",
    "Adresse de stage : {address} — contact {full_b}, {phone}.",
    "Je tutore {full} et {full_b} cette année, deux profils très différents.",
    "Réunion avec {given}, {given_b} et moi-même le 12/03 de 10h à 11h30.",
    "L'apprenti {de_family} a progressé de 15 % en un trimestre.",
    "Attestation pour {full}, n° de sécurité sociale {nir}, à signer avant le 30 juin.",
    "Merci de verser la prime sur le compte {iban} ({full}).",
    "NIR {de_given} : {nir} — IBAN : {iban}.",
]
ENGLISH_TEMPLATES = [
    "My apprentice {full} scored 14/20 on module 2.",
    "I have been mentoring {given} on a level 3 programme since September 2023.",
    "{given}'s portfolio needs more work before the review on 12 May.",
    "Meeting with {family} on Thursday at 2:30 pm, for 45 minutes.",
    "You can reach {given} on {phone} or at {email}.",
    "{given} lives at {address}.",
    "Please post the certificate to {full}, {address}.",
    "Bank details for {given}'s travel refund: {iban}.",
    "Her French social security number is {nir}, is it OK to share it?",
    "{full_b} (trainer) asked {given} to rewrite 3 SMART goals.",
    "{rev} — progress log, week 12.",
    "Call me on {phone} after 5 pm.",
    "The employer's address is {address}, second floor.",
    "{given} and {given_b} used ChatGPT on the same task.",
    "I told {given} that 60% is a pass.",
    "Feedback for {lower}: good progress this term.",
    "{upper} missed 2 sessions out of 10.",
    "Ms {family} emailed me her rota ({email}).",
    "Mr {family_b} from the company meets {full} every Monday.",
    "{given}'s phone number is {phone}; her NIR is {nir}.",
    "Refund to {iban}, account holder {full}.",
    "Placement address: {address}. Contact: {full_b}, {phone}.",
    "I mentor {full} and {full_b} this year.",
    "Meeting with {given}, {given_b} and me on 12/03 from 10 am to 11:30 am.",
    "{given} has improved by 15% in one term.",
    "Send the form to {email} before Friday, {given}.",
    "{given} said: \"I want to quit\". What should I do?",
    "The report on {full} was drafted with Copilot and checked by hand.",
    "Her address is {address} and her mobile {phone}.",
    "Write to {full}, {address}, or call {phone}.",
    "{family} got 3 out of 5 exercises right.",
    "{given} O. and {given_b} have the same mentor.",
    "Could you summarise {given}'s reflection in 100 words?",
    "Email from {given} ({email}): she will be late.",
    "Our apprentice {given} works in Paris at {address}.",
    "NIR: {nir}. IBAN: {iban}. Both belong to {given}.",
    "{full}'s bank account is {iban}, for the 250 EUR grant.",
    "French social security number of {given}: {nir}.",
]


def _de(name: str) -> tuple[str, str]:
    return ("d'", name) if ascii_fold(name)[:1].lower() in "aeiouyh" else ("de ", name)


def render(template: str, lang: str, rng: random.Random) -> Sentence:
    people = FRENCH_PEOPLE + ENGLISH_PEOPLE
    main = ENGLISH_PEOPLE if lang == "en" else FRENCH_PEOPLE
    (given, family), (given_b, family_b) = rng.choice(main), rng.choice(people)
    while given_b == given:
        given_b, family_b = rng.choice(people)
    phone: Callable[[], str] = (
        (lambda: international_phone(rng) if rng.random() < 0.7 else french_phone(rng)) if lang == "en"
        else (lambda: french_phone(rng) if rng.random() < 0.85 else international_phone(rng))
    )
    address = english_address if lang == "en" else french_address
    slots: dict[str, Callable[[], tuple[str, str, str]]] = {  # slot -> (kind, text before, value)
        "full": lambda: ("PERSON", "", f"{given} {family}"),
        "given": lambda: ("PERSON", "", given),
        "family": lambda: ("PERSON", "", family),
        "rev": lambda: ("PERSON", "", f"{family.upper()} {given}"),
        "upper": lambda: ("PERSON", "", f"{given} {family}".upper()),
        "lower": lambda: ("PERSON", "", f"{given} {family}".lower()),
        "full_b": lambda: ("PERSON", "", f"{given_b} {family_b}"),
        "given_b": lambda: ("PERSON", "", given_b),
        "family_b": lambda: ("PERSON", "", family_b),
        "de_given": lambda: ("PERSON", *_de(given)),
        "de_full": lambda: ("PERSON", *_de(f"{given} {family}")),
        "de_family": lambda: ("PERSON", *_de(family)),
        "email": lambda: ("EMAIL", "", email(rng, given, family)),
        "phone": lambda: ("PHONE", "", phone()),
        "address": lambda: ("ADDRESS", "", address(rng)),
        "nir": lambda: ("NIR", "", nir(rng)),
        "iban": lambda: ("IBAN", "", iban(rng)),
    }
    text, spans, rest = "", [], template
    while "{" in rest:
        before, _, after = rest.partition("{")
        slot, _, rest = after.partition("}")
        kind, lead, value = slots[slot]()
        text += before + lead
        spans.append((kind, len(text), len(text) + len(value)))
        text += value
    return Sentence(lang, text + rest, tuple(spans))


def corpus(per_language: int = 240, seed: int = 20240611) -> list[Sentence]:
    """`per_language` French then as many English sentences, every template used in turn."""
    rng = random.Random(seed)
    sentences = []
    for lang, templates in (("fr", FRENCH_TEMPLATES), ("en", ENGLISH_TEMPLATES)):
        for index in range(per_language):
            sentences.append(render(templates[index % len(templates)], lang, rng))
    return sentences


# --- sentences without personal data -----------------------------------------------------------

PII_FREE = [
    "Le module 2 commence le 12/03/2024 à 14h30 et dure 3 heures.",
    "Votre score au quiz est de 12/20, soit 60 % de bonnes réponses.",
    "En 2023, 57 % des élèves du secondaire étaient inscrits en filière professionnelle.",
    "Le coût de la formation est de 1 250 € HT, soit 1 500 € TTC.",
    "Utilisez ChatGPT, Mistral Le Chat ou Copilot pour préparer l'entretien.",
    "Rédigez 3 objectifs SMART pour la période de janvier à mars.",
    "Durée estimée : 45 minutes, dont 10 minutes de lecture.",
    "Entre 15 et 34 ans, le taux de chômage baisse de 4,4 points.",
    "La séance du 15 mars 2024 a lieu de 9h00 à 12h30, salle 204.",
    "Exercice 3 sur 5 : complétez la grille d'évaluation (critères 1 à 8).",
    "Le rapport 2021-2022 du CEDEFOP compare 27 pays de l'UE.",
    "Avec Gemini ou Claude, comparez deux reformulations du même retour.",
    "Les apprentis passent 2 jours en centre et 3 jours en entreprise.",
    "Notez vos réponses de 1 à 10, puis calculez la moyenne sur 20.",
    "Version 2.1 de la grille, mise à jour le 01/09/2024.",
    "La rose des vents du mentorat compte 8 branches.",
    "Au 2e trimestre, la moyenne est passée de 11,5/20 à 13/20.",
    "Prévoyez 2 cours de 3 heures et une place pour les questions.",
    "L'article L6211-1 du Code du travail définit l'apprentissage.",
    "Le titre RNCP 35185 se prépare en 12 à 24 mois.",
    "Le fichier fait 2 048 Ko ; la limite est de 10 Mo.",
    "Le 06/05/2024, 18 apprentis sur 20 avaient rendu leur travail.",
    "Comptez +15 % de temps de préparation la première année.",
    "La norme ISO 9001 et le référentiel Qualiopi (32 indicateurs) s'appliquent.",
    "Copilot a proposé 4 questions ; gardez-en 2.",
    "Un mentor suit en moyenne 1,8 apprenti, selon l'enquête de 2022.",
    "Le modèle Mistral Large 2 a été publié en juillet 2024.",
    "Rendez-vous en salle B12 à 8:45, puis pause de 10:30 à 10:45.",
    "Le prix d'un abonnement ChatGPT Plus est de 20 $ par mois.",
    "Les phases 1 à 4 du module 3 suivent le cycle de l'alternance.",
    "Module 2 starts on 12 March 2024 at 2:30 pm.",
    "Your quiz score is 12/20 (60%).",
    "In 2023, 57% of upper secondary students were in vocational programmes.",
    "The course costs £1,250 or $1,499 per learner.",
    "Use ChatGPT, Claude, Mistral or Copilot to draft the feedback.",
    "Write 3 SMART goals for the next 6 weeks.",
    "Sessions last 45 minutes, twice a week, for 10 weeks.",
    "Between ages 15 and 34, unemployment falls by 4.4 points.",
    "Question 4 of 10: which of these is a SMART goal?",
    "The 2021-2022 report covers 27 EU member states.",
    "Rate each item from 1 to 5 and add up the points out of 40.",
    "Apprentices spend 2 days at college and 3 days at work.",
    "GPT-4o and Mistral Large 2 were released in 2024.",
    "Step 2 of 4: reflect on what went well in week 3.",
    "The Erasmus+ budget for 2021-2027 is EUR 26.2 billion.",
    "Room 3.14 is booked from 09:00 to 12:30 on 5 June.",
    "Phase 1 (weeks 1-4) focuses on onboarding and trust.",
    "About 1 in 4 mentors uses an AI assistant every week.",
    "Read pages 12 to 24 of the guide before the 2 pm session.",
    "Showing grace under pressure is a skill worth practising.",
    "A rose by any other name: rename the file to draft_v3.docx.",
]
