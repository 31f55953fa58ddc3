"""The demo course: its platform identity, its sample link and its people (dev only)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

CLIENT_ID = "mentorat-ia-demo"
DEPLOYMENT_ID = "demo-deployment-1"
LIS = "http://purl.imsglobal.org/vocab/lis/v2/membership#"

COURSE = {"id": "demo-course-1", "label": "DEMO-TUT", "title": "Démo — Tutorat en alternance",
          "type": ["http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering"]}
LINK = {"id": "demo-link-1", "title": "Module 1 — Fondamentaux du tutorat à l’ère de l’IA"}


@dataclass(frozen=True)
class DemoPerson:
    sub: str
    given_name: str
    family_name: str
    roles: tuple[str, ...]
    status: str = "Active"  # NRPS: Active | Inactive

    @property
    def name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    @property
    def is_learner(self) -> bool:
        return LIS + "Learner" in self.roles


PERSON = "http://purl.imsglobal.org/vocab/lis/v2/"
# The people the demo launches as. The administrator comes as Moodle sends a site administrator:
# Instructor in the course, and the system and institution Administrator roles.
PEOPLE = {
    "learner": DemoPerson("demo-learner-1", "Camille", "Martin", (LIS + "Learner",)),
    "trainer": DemoPerson("demo-trainer-1", "Alex", "Dupont", (LIS + "Instructor",)),
    "admin": DemoPerson("demo-admin-1", "Sam", "Leroy", (LIS + "Instructor", PERSON + "system/person#Administrator",
                                                         PERSON + "institution/person#Administrator")),
}
# Everyone enrolled in the course, as the names and roles service lists them: learners who never
# opened the tool included, and one whose enrolment is suspended.
ROSTER = (
    PEOPLE["trainer"],
    PEOPLE["learner"],
    DemoPerson("demo-learner-2", "Léa", "Bernard", (LIS + "Learner",)),
    DemoPerson("demo-learner-3", "Yanis", "Petit", (LIS + "Learner",)),
    DemoPerson("demo-learner-4", "Inès", "Moreau", (LIS + "Learner",)),
    DemoPerson("demo-learner-5", "Hugo", "Lefèvre", (LIS + "Learner",), status="Inactive"),
)


def platform_url() -> str:
    return current_app.config["DEMO_PLATFORM_URL"]


def issuer() -> str:
    return platform_url() + "/demo"


def token_url() -> str:
    return platform_url() + "/demo/token"
