"""Every French page, read as people read it: French typography (no-break spaces before
`: ; ? !` and inside « », typographic apostrophes) and plurals that agree with their count.

A course is set up where every count a page shows is 1 (one learner, one exercise done, one
part read, one submission, one call to the AI assistant); then every page a learner, a trainer
and an administrator can reach is opened, by following the pages' own links from their launches
on every item of the catalogue, in French.
"""

from __future__ import annotations

import re
from collections import deque
from html.parser import HTMLParser
from urllib.parse import urldefrag, urlsplit

import pytest

from lti_tool.common.typography import problems
from lti_tool.extensions import db
from lti_tool.lti.models import LtiUser
from sqlalchemy import select

from .lti_platform import landing_url
from .test_submissions import REQUIRED, open_item, submit, tick

# Words ending in s that are singular: "1 fois", "1 mois"…
SINGULAR_S = {"fois", "mois", "temps", "sur", "sous", "dans", "sans", "plus", "pas", "après", "près", "très", "vers"}
ONE_PLURAL = re.compile(r"(?<![\d,.])\b1[ \u00a0\u202f]+([a-zà-ÿ·]+s)\b")
# Elements whose text is not the tool's French: code, what people typed, other languages.
SKIPPED = {"script", "style", "code", "pre", "textarea", "kbd", "samp"}
# The AI log quotes each exchange with the model word for word (the evidence a submission
# carries): the system prompt and the model's answer are not retypeset.
SKIPPED_CLASSES = {"ai-log"}


class TextNodes(HTMLParser):
    """The text nodes of a page a reader sees in French, and its links."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self.links: list[str] = []
        self._stack: list[tuple[str, bool]] = []  # (tag, skipped)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "a" and attributes.get("href"):
            self.links.append(attributes["href"])
        if tag in ("br", "img", "input", "meta", "link", "hr", "wbr", "source", "col"):
            return
        skipped = bool(tag in SKIPPED or (attributes.get("lang") or "fr").split("-")[0] != "fr"
                       or attributes.get("translate") == "no" or (self._stack and self._stack[-1][1])
                       or SKIPPED_CLASSES & set((attributes.get("class") or "").split()))
        self._stack.append((tag, skipped))

    def handle_endtag(self, tag):
        while self._stack:
            if self._stack.pop()[0] == tag:
                break

    def handle_data(self, data):
        if data.strip() and not (self._stack and self._stack[-1][1]):  # noqa: SIM102
            self.texts.append(data)


def crawl(client, starts: list[str]) -> dict[str, TextNodes]:
    """Every HTML page reachable from `starts` through GET links under the same launch token."""
    pages: dict[str, TextNodes] = {}
    queue = deque(starts)
    while queue:
        url = queue.popleft()
        if url in pages:
            continue
        response = client.get(url, headers={"Accept": "text/html", "Accept-Language": "fr"})
        if response.status_code != 200 or not response.mimetype == "text/html":
            continue
        page = pages[url] = TextNodes()
        page.feed(response.get_data(as_text=True))
        prefix = "/".join(url.split("/")[:3]) + "/" if url.startswith("/t/") else None
        for href in page.links:
            link = urldefrag(href)[0]
            parts = urlsplit(link)
            if parts.netloc not in ("", "tool.test"):
                continue
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            if prefix and path.startswith(prefix) and not re.search(r"\.(csv|json)$", parts.path):
                queue.append(path)
    return pages


_CRAWLED: dict[str, dict[str, TextNodes]] = {}


@pytest.fixture
def french_pages(app, client, platform, llm_call):
    """A course where every count is 1, and every page its people reach, in French (crawled once
    for this module's tests: the pages' texts outlive the database they came from)."""
    if "pages" not in _CRAWLED:
        _CRAWLED["pages"] = _crawl_a_course(client, platform, llm_call)
    return _CRAWLED["pages"]


def _crawl_a_course(client, platform, llm_call) -> dict[str, TextNodes]:
    learner = open_item(platform, client, sub="learner-a", name="Camille Martin")
    assert client.put(learner + "exercises/m1.t2.e1/draft", json={"answers": {
        "specific": "Accueillir mon apprentie", "measurable": "Trois points", "achievable": "oui",
        "relevant": "oui", "time_bound": "juin"}}).status_code == 200
    assert client.post(learner + "exercises/m1.t2.e1/done").status_code == 200
    assert client.post(learner + "themes/m1.t2/read").status_code == 200
    llm_call(learner, "Donne trois conseils pour accueillir un apprenti")
    assert tick(client, learner, *REQUIRED[:2]).status_code == 200
    assert tick(client, learner, REQUIRED[2]).status_code == 200
    assert submit(client, learner, level_used="planning", external_prompts="", verification="Relu",
                  own_changes="Tout").status_code == 201, "the learner submits"
    trainer = open_item(platform, client, sub="trainer-1", role="trainer", name="Alex Dupont")
    learner_pk = db.session.execute(select(LtiUser.id).where(LtiUser.sub == "learner-a")).scalar_one()
    assert client.post(trainer + f"grading/{learner_pk}/grade", json={"score": 15, "comment": "Bien vu"}).status_code == 201
    admin = open_item(platform, client, sub="admin-1", role="admin", name="Dominique Admin")

    items = [m["id"] for m in client.get("/catalogue.json?lang=fr").get_json()["modules"]]
    catalogue = client.get("/catalogue.json?lang=fr").get_json()
    for module in catalogue["modules"]:
        for part in module.get("themes") or module.get("phases") or []:
            items.append(part["id"])
            items += [exercise["id"] for exercise in part.get("exercises", [])[:1]]
    starts = [learner, trainer, admin]
    for n, item in enumerate(items):
        starts.append(open_item(platform, client, item, sub="learner-a", link_id=f"l-{n}", name="Camille Martin"))
    starts.append(open_item(platform, client, "m1.t1", sub="trainer-1", role="trainer", link_id="l-t"))
    starts.append(landing_url(platform.launch(client, "trainer", sub="trainer-1", message_type="LtiDeepLinkingRequest")))
    starts += ["/", "/t/unknown-token/"]
    pages = crawl(client, starts)
    # Pages no link leads to: the cookie check of a browser's first login, a refused launch.
    client.delete_cookie("lti1p3-cookies-ok", domain="tool.test", path="/lti/")
    for label, response in (
        ("cookie check", client.post("/lti/login", headers={"Accept-Language": "fr"}, data={
            "iss": platform.issuer, "login_hint": "u", "target_link_uri": "https://tool.test/lti/launch",
            "client_id": platform.client_id, "lti_deployment_id": platform.deployment_id})),
        ("refused launch", client.post("/lti/launch", headers={"Accept-Language": "fr"},
                                       data={"id_token": "not-a-token", "state": "nothing"})),
    ):
        page = pages[label] = TextNodes()
        page.feed(response.get_data(as_text=True))
    assert len(pages) > len(items) + 10, "the crawl reached the trainer's and the administrator's pages"
    return pages


def test_no_ordinary_space_before_high_punctuation_in_a_french_page(french_pages):
    found = [f"{url}: {problem}" for url, page in french_pages.items()
             for text in page.texts for problem in problems(text)]
    assert not found, f"{len(found)} typography problems, first ones:\n" + "\n".join(found[:30])


def test_no_one_with_a_plural_in_a_french_page(french_pages):
    found = [f"{url}: …{text.strip()[:80]}…" for url, page in french_pages.items()
             for text in page.texts for match in ONE_PLURAL.finditer(text) if match.group(1) not in SINGULAR_S]
    assert not found, "\n".join(found[:30])


def test_the_pages_with_counts_of_one_were_read(french_pages):
    """The crawl saw the counts it is about (one learner, one exercise done, one part read), and
    the pages no link leads to."""
    text = "\n".join(t for page in french_pages.values() for t in page.texts)
    assert "Ajouter au cours" in text  # the Deep Linking picker
    assert french_pages["cookie check"].texts and french_pages["refused launch"].texts
    assert "1 sur 1 apprenant" in text.replace("\u00a0", " ")
    assert "1 exercice fait sur" in text and "1 partie lue sur" in text
    assert "1 appel ayant reçu une réponse" in text
