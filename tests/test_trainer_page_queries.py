"""The trainer's pages at class size: the SQL statements each page runs do not grow with the
number of learners (timings live in bench/trainer_pages.py).

The same course is seeded with 5 and with 40 learners (`lti-tool seed-demo-class`'s seeding,
demo.seed), every page is opened once (the roster from the platform, NRPS, is then cached as in
production), then opened again while its statements are counted: the counts must be equal.
"""

from __future__ import annotations

import re

from sqlalchemy import select

from lti_tool.demo.seed import learner_name, learner_sub, seed_class
from lti_tool.extensions import db
from lti_tool.lti.models import Platform

from .lti_platform import CLAIM, landing_url
from .test_page_queries import statements

AGS = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
ACTIVITIES = 4


def memberships_url(course: str) -> str:
    return f"https://moodle.test/mod/lti/services.php/CourseSection/{course}/bindings/7/memberships"


def course_services(course: str):
    def services(link_id: str) -> dict:
        return {AGS: {"scope": ["https://purl.imsglobal.org/spec/lti-ags/scope/score"],
                      "lineitem": f"https://moodle.test/mod/lti/services.php/{course}/lineitems/{link_id}/lineitem"},
                NRPS: {"context_memberships_url": memberships_url(course), "service_versions": ["2.0"]}}
    return services


def seeded_course(client, platform, http_mock, learners: int) -> str:
    """A course of `learners` (and one more on the roster who never launched the tool) with its
    activities, seeded; the trainer's token URL on its first activity."""
    course = f"course-{learners}"
    row = db.session.execute(select(Platform).where(Platform.issuer == platform.issuer)).scalar_one()
    context = {"id": course, "title": f"Classe de {learners}"}
    services = course_services(course)
    seeded = seed_class(row, context=context, learners=learners, activities=ACTIVITIES, versions=3,
                        link_services=services, grade=True)
    members = [{"user_id": learner_sub(course, i), "name": learner_name(i), "roles": ["Learner"]}
               for i in range(learners)] + [{"user_id": f"absent-{course}", "name": "Jamais Venu", "roles": ["Learner"]}]
    http_mock.add("POST", platform.token_url, json={"access_token": "t", "token_type": "Bearer", "expires_in": 3600})
    http_mock.add("GET", memberships_url(course), json={"id": memberships_url(course), "members": members},
                  content_type="application/vnd.ims.lti-nrps.v2.membershipcontainer+json")
    response = platform.launch(client, "trainer", sub="trainer-1", link_id=seeded.links[0], **{
        CLAIM + "context": context, CLAIM + "custom": {"catalogue_item": "m1.t1"}, **services(seeded.links[0])})
    return landing_url(response)


# Every page of the trainer's, by what it shows (the token URL's path after /t/<token>/).
PAGES = {
    "landing": "", "summary": "grading/summary", "roster": "grading", "roster filtered": "grading?status=submitted",
    "grading one learner": "grading/{learner}", "overview.json": "overview.json", "overview.csv": "overview.csv",
    "follow-up list": "follow-up", "one record": "follow-up/{learner}", "follow-up.csv": "follow-up.csv",
    "follow-up.json": "follow-up.json",
}


def counts(app, client, url: str) -> dict[str, int]:
    roster = client.get(url + "grading").get_data(as_text=True)
    learner = re.search(r'href="/t/[^/]+/grading/(\d+)"', roster).group(1)
    found = {}
    for name, path in PAGES.items():
        page = url + path.format(learner=learner)
        assert client.get(page).status_code == 200, page  # the roster is then in the cache, as in production
        with statements(app) as seen:
            assert client.get(page).status_code == 200, page
        found[name] = len(seen)
    return found


def test_each_trainer_page_runs_as_many_statements_for_40_learners_as_for_5(app, client, platform, http_mock):
    small = counts(app, client, seeded_course(client, platform, http_mock, 5))
    large = counts(app, client, seeded_course(client, platform, http_mock, 40))
    print("\n".join(f"{page}: {small[page]} statements for 5 learners, {large[page]} for 40" for page in PAGES))
    assert large == small
