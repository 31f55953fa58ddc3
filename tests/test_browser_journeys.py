"""A journey per role through the tool's pages, in Debian's Chromium, from the demo platform: the
learner (launch, contents, each theme page, an exercise, the hand-in step, the receipt, their
progress, another activity of the course), the trainer (the picker, the module page by page, the
activity's settings, the roster, the grading page, a submission, the roster filtered, the follow-up
records and one record, the AI usage) and the administrator (the centre's settings, the AI settings
and usage, the register of personal data requests, the tool's home page, the registration pages).

Every page is shown at 1280 px and at 390 px (screenshots: test-output/browser/journey-*.png, and
each page's height in journey-heights.json) and scanned by axe-core: no serious or critical
violation. Which pages: every HTML page the blueprints' URL map serves (test
`test_every_html_page_of_the_tool_is_in_a_journey`): a new page fails it until a journey scans it.

Pages are reached as their users reach them, by the links and buttons they read, or by their
stable URL under the launch token (/t/<token>/…) when the way there is another area's business.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import responses

from lti_tool.catalogue.services import CONTENT_DIR, load_catalogue
from lti_tool.extensions import db
from lti_tool.lti.services import create_invite

from .test_browser import (  # noqa: F401 - fixtures
    ALLOW_THIRD_PARTY_COOKIES,
    AXE,
    TOOL_FRAME,
    first_page,
    open_browser,
    output_dir,
    playwright_api,
    server,
    submit_picker,
    submit_without_ai,
)
from .test_registration import OPENID_URL, REGISTRATION_URL, openid_configuration

pytestmark = pytest.mark.browser

WIDTHS = (1280, 390)
CATALOGUE = load_catalogue("fr", CONTENT_DIR)
AXE_RULES = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]

# GET endpoints that are not pages a person reads: files, machine-readable answers, the demo
# platform (Moodle's stand-in, not the tool). JSON API views are recognised by their mark.
# The trainer's summary is a fragment its landing fetches (scanned there); the former overview redirects
# to the roster.
NOT_PAGES = {"static", "site.healthz", "lti.jwks", "catalogue.catalogue_json", "grading.summary",
             "grading.overview_page"}
DOWNLOADS = (".csv", ".json")

# The pages each journey scans (endpoints of the URL map).
JOURNEY_PAGES = {
    "learner": {"lti.login", "activities.home", "activities.part_page", "activities.hand_in", "declarations.receipt",
                "activities.my_progress", "grading.my_grade", "activities.link_page"},
    "trainer": {"activities.home", "activities.part_page", "grading.roster_page", "grading.grading_page",
                "declarations.trainer_submission", "records.course_page",
                "records.record_page", "llm.usage_page"},
    "administrator": {"activities.home", "declarations.centre_page", "llm.settings_page", "llm.usage_page",
                      "records.privacy_register", "site.index", "lti.register"},
}


def html_pages(app) -> set[str]:
    """The endpoints of the tool's HTML pages reached with GET."""
    pages = set()
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        if "GET" not in rule.methods or rule.endpoint in NOT_PAGES or rule.endpoint.startswith("demo."):
            continue
        if getattr(view, "json_api", False) or rule.rule.endswith(DOWNLOADS):
            continue
        pages.add(rule.endpoint)
    return pages


def test_every_html_page_of_the_tool_is_in_a_journey(server):
    scanned = set().union(*JOURNEY_PAGES.values())
    assert html_pages(server.app) - scanned == set(), "pages no journey scans: add them to a journey"
    assert scanned - html_pages(server.app) == set(), "journeys name pages the tool no longer has"


class Journey:
    """One person's way through the pages: each page at both widths, then axe."""

    def __init__(self, role: str, server, page, output_dir: Path):
        self.role, self.server, self.page, self.output_dir = role, server, page, output_dir
        self.scanned: dict[str, str] = {}  # label -> endpoint
        self.heights: dict[str, dict[int, int]] = {}
        self.adapter = server.app.url_map.bind("localhost")

    def endpoint(self, url: str) -> str:
        parts = urlsplit(url)
        assert parts.port == self.server.port, url
        return self.adapter.match(parts.path, method="GET")[0]

    def visit(self, label: str, target=None) -> None:
        """The page now shown (or the tool's frame `target`) at each width, then its axe scan."""
        target = target or self.page
        name = f"journey-{self.role}-{label}"
        for width in WIDTHS:
            self.page.set_viewport_size({"width": width, "height": 900})
            self.page.wait_for_timeout(50)  # one frame for the layout to follow
            height = target.evaluate("() => document.documentElement.scrollHeight")
            self.heights.setdefault(label, {})[width] = height
            self.page.screenshot(path=self.output_dir / f"{name}-{width}.png", full_page=True)
            if width < 400:  # what a phone shows first; nothing wider than the screen
                self.page.screenshot(path=self.output_dir / f"{name}-{width}-first-screen.png")
                wider = target.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
                assert wider <= 1, f"{name} is {wider}px wider than a {width}px screen"
        self.page.set_viewport_size({"width": WIDTHS[0], "height": 900})
        axe(target, name, self.output_dir)
        self.scanned[label] = self.endpoint(target.url)

    def goto(self, url: str, label: str) -> None:
        self.page.goto(url)
        self.page.locator("main").wait_for(state="visible")
        self.visit(label)

    def finish(self) -> None:
        path = self.output_dir / "journey-heights.json"
        heights = json.loads(path.read_text()) if path.exists() else {}
        heights[self.role] = self.heights
        path.write_text(json.dumps(heights, indent=1, sort_keys=True))
        assert set(self.scanned.values()) == JOURNEY_PAGES[self.role], sorted(self.scanned.items())


def axe(target, label: str, output_dir: Path) -> None:
    """axe-core in `target` (a page or a frame), evaluated through the DevTools protocol (the
    pages' Content-Security-Policy refuses an inline script); no serious or critical violation."""
    assert AXE.exists(), "axe-core is missing: `make test` installs it (npm)"
    target.evaluate(AXE.read_text(encoding="utf-8") + "\n;undefined")
    result = target.evaluate("""async (tags) => {
        const r = await axe.run(document, {runOnly: {type: "tag", values: tags}});
        return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                       nodes: v.nodes.slice(0, 5).map(n => n.target.join(" "))}));
    }""", AXE_RULES)
    (output_dir / f"axe-{label}.json").write_text(json.dumps(result, indent=1, ensure_ascii=False))
    bad = [v for v in result if v["impact"] in ("serious", "critical")]
    assert not bad, f"{label}: {bad}"


def place(server, *items: tuple[str, str]) -> None:
    """Activities placed in the demo course, as a trainer's Deep Linking leaves them: (link id,
    catalogue item)."""
    from lti_tool.demo.gradebook import place_items

    with server.app.app_context():
        place_items([{"id": link_id, "title": CATALOGUE.item(item_id).title if item_id.count(".") == 0
                      else CATALOGUE.item(item_id)["title"], "catalogue_id": item_id,
                      "custom": {"catalogue_item": item_id}, "line_item": {"scoreMaximum": 20}}
                     for link_id, item_id in items])
        db.session.commit()


LAUNCH_AS = {"learner": re.compile("^Lancer .*apprenant"), "trainer": re.compile("^Lancer .*format"),
             "admin": re.compile("^Lancer .*administrat")}


def launch_placed(page, server, link_id: str, role: str) -> None:
    page.goto(f"{server.platform_url}/demo")
    page.locator(f'[data-testid="course-activity-{link_id}"]').get_by_role(
        "button", name=LAUNCH_AS[role]).click()


def tool_url(page) -> str:
    """The token URL of the page the tool shows in the demo's iframe, once it shows a page of its own."""
    page.frame_locator(TOOL_FRAME).locator("main").wait_for(state="visible")
    frame = page.frame(name="tool-frame")
    frame.wait_for_function("() => /^\\/t\\/[^/]+\\/$/.test(location.pathname)")  # the launch's page names its URL
    return frame.url


@pytest.fixture
def browser(playwright_api, tmp_path):
    context = open_browser(playwright_api, tmp_path / "profile", ALLOW_THIRD_PARTY_COOKIES)
    yield context
    context.close()


def test_learner_journey(browser, server, output_dir):
    place(server, ("journey-theme", "m2.t1"), ("journey-module", "m1"))
    page = first_page(browser)
    journey = Journey("learner", server, page, output_dir)

    # The first launch of a fresh browser checks its cookies: that page, held still (its script off).
    page.route("**/static/cookie_check.js", lambda route: route.abort())
    launch_placed(page, server, "journey-theme", "learner")
    page.frame_locator(TOOL_FRAME).locator("body").filter(has=page.frame_locator(TOOL_FRAME).locator("a, button")).wait_for()
    frame = page.frame(name="tool-frame")
    assert "/lti/login" in frame.url, frame.url
    journey.visit("cookie-check", frame)
    page.unroute("**/static/cookie_check.js")

    launch_placed(page, server, "journey-theme", "learner")  # a placed theme: one page and the hand-in step
    journey.goto(tool_url(page), "theme")

    launch_placed(page, server, "journey-module", "learner")
    base = tool_url(page)
    journey.visit("launch-in-iframe", page.frame(name="tool-frame"))
    journey.goto(base, "contents")
    module = CATALOGUE.item("m1")
    page.get_by_role("link", name=re.compile("^Commencer")).click()
    for number, theme in enumerate(module.themes, start=1):
        page.get_by_role("heading", name=theme["title"], level=2).wait_for()
        if number == 2:  # an exercise, done: its progress shows on every page from then on
            form = page.locator(f'form[data-exercise="{theme["exercises"][0]["id"]}"]')
            for box in form.get_by_role("textbox").all():
                box.fill("Accueillir mon apprentie le lundi et faire un point chaque vendredi pendant un mois.")
            form.get_by_role("button", name=re.compile("^Marquer comme")).click()
            form.get_by_role("status").filter(has_text="Terminé").wait_for()
        journey.visit(f"theme-{number}")
        if number < len(module.themes):
            page.get_by_role("navigation", name="Page précédente et page suivante").get_by_role(
                "link", name=re.compile("→$")).click()
    page.get_by_role("link", name="Rendre", exact=True).click()
    page.get_by_role("heading", name="Où en est mon travail").wait_for()
    assert "Exercice terminé" in page.get_by_test_id("progress-summary").inner_text() or \
        "1 sur" in page.get_by_test_id("progress-summary").inner_text()
    journey.visit("hand-in")
    submit_without_ai(page)
    journey.visit("receipt")
    journey.goto(base + "grade", "my-grade")
    journey.goto(base + "progress", "progress")
    page.get_by_role("link", name=CATALOGUE.item("m2.t1")["title"]).click()
    page.locator("main").wait_for(state="visible")
    journey.visit("other-activity")
    journey.finish()


def test_trainer_journey(browser, server, output_dir):
    page = first_page(browser)
    journey = Journey("trainer", server, page, output_dir)
    page.goto(f"{server.platform_url}/demo")
    page.get_by_test_id("launch-deeplink").click()
    journey.goto(tool_url(page), "picker")
    page.get_by_role("checkbox", name="Module " + CATALOGUE.item("m1").title, exact=True).check()
    page.get_by_text(CATALOGUE.item("m2").title, exact=True).click()  # module 2 opens
    page.get_by_role("checkbox", name="Thème " + CATALOGUE.item("m2.t1")["title"], exact=True).check()
    submit_picker(page)
    page.get_by_test_id("placed-items").wait_for()
    placed = page.get_by_test_id("placed-items").inner_text()
    assert CATALOGUE.item("m1").title in placed

    # A learner hands in work on the theme, for the trainer to grade.
    page.goto(f"{server.platform_url}/demo")
    theme = page.locator('[data-testid^="course-activity-"]').filter(has_text="m2.t1")
    theme.get_by_role("button", name=LAUNCH_AS["learner"]).click()
    frame = page.frame_locator(TOOL_FRAME)
    frame.locator('[id="m2.t1.e2-rewrite"]').fill("Ma version, plus humaine, du texte de l'IA.")
    frame.locator('form[data-exercise="m2.t1.e2"]').get_by_role("status").filter(has_text="Enregistré").wait_for()
    submit_without_ai(frame)

    page.goto(f"{server.platform_url}/demo")
    page.locator('[data-testid^="course-activity-"]').filter(has_text="m1").filter(
        has_not_text="m1.").get_by_role("button", name=LAUNCH_AS["trainer"]).click()
    base = tool_url(page)
    journey.goto(base, "module-contents")
    for number in range(1, len(CATALOGUE.item("m1").themes) + 1):
        journey.goto(f"{base}parts/{number}", f"module-theme-{number}")

    page.goto(f"{server.platform_url}/demo")
    theme = page.locator('[data-testid^="course-activity-"]').filter(has_text="m2.t1")
    theme.get_by_role("button", name=LAUNCH_AS["trainer"]).click()
    base = tool_url(page)
    page.goto(base)
    page.get_by_test_id("summary-figures").wait_for()  # the landing's summary, fetched once shown
    journey.visit("activity-settings")
    journey.goto(base + "grading", "roster")
    page.get_by_test_id("roster").locator("a.button").first.click()  # a learner's name opens their record
    page.get_by_test_id("grading-page").wait_for()
    journey.visit("grading")
    learner_pk = int(re.search(r"/grading/(\d+)", page.url).group(1))
    journey.goto(f"{base}learners/{learner_pk}/submissions/1/view", "submission")
    journey.goto(base + "grading?flag=any", "roster-flagged")  # the former overview, filtered
    journey.goto(base + "follow-up", "follow-up")
    journey.goto(f"{base}follow-up/{learner_pk}", "follow-up-record")
    journey.goto(base + "admin/usage", "ai-usage")
    journey.finish()


def test_administrator_journey(browser, server, output_dir):
    place(server, ("journey-admin", "m2.t1"))
    page = first_page(browser)
    journey = Journey("administrator", server, page, output_dir)
    launch_placed(page, server, "journey-admin", "admin")
    base = tool_url(page)
    journey.goto(base, "activity")
    page.get_by_test_id("centre-link").click()
    page.get_by_test_id("centre-form").wait_for()
    journey.visit("centre-settings")
    journey.goto(base, "activity")
    page.get_by_test_id("llm-settings-link").click()
    page.get_by_test_id("llm-form").wait_for()
    journey.visit("ai-settings")
    journey.goto(base + "admin/usage", "ai-usage")
    journey.goto(base + "admin/privacy-register", "privacy-register")

    # The tool's own pages before any launch: its home, and registering a Moodle (here a stand-in
    # that answers the registration) with a one-time invite; then the same invite again, refused.
    journey.goto(server.tool_url + "/", "tool-home")
    with server.app.app_context():
        invite = create_invite(3600)
        db.session.commit()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as moodle:
        moodle.add_passthru(server.tool_url)
        moodle.add_passthru(server.platform_url)
        moodle.add("GET", OPENID_URL, json=openid_configuration())
        moodle.add_callback("POST", REGISTRATION_URL, content_type="application/json", callback=lambda request: (
            200, {}, json.dumps(dict(json.loads(request.body), client_id="journey-client"))))
        query = f"invite={invite}&openid_configuration={OPENID_URL}&registration_token=t"
        journey.goto(f"{server.tool_url}/lti/register?{query}", "registered")
        journey.goto(f"{server.tool_url}/lti/register?{query}", "registration-refused")
    journey.finish()
