"""A class to try the trainer's pages on: learners, placed activities and submitted versions.

`flask --app wsgi lti-tool seed-demo-class` fills a course with a class at work (by default 40
learners x 15 activities x up to 3 versions each), through the areas' own services, as if each
learner had launched and worked: the benchmark of the trainer's pages uses it, and so can a
centre that wants to see the pages full before its first class. On the demo platform the course
is the demo course, the activities are placed in it (the demo page lists them, with their launch
buttons) and its roster (NRPS) lists the class.

Each learner's part is set by their place in the class, so two runs give the same class: one in
twenty never opens an activity, as many stop at opening it or at a draft, most submit `versions`
versions (a few fewer), some above the allowed AI level; a third of the submitted work is graded
(on the demo platform only: a grade goes to the platform's gradebook).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app

from ..activities.progress import save_draft
from ..activities.services import activity_for
from ..catalogue.services import get_catalogue
from ..declarations import services as declarations
from ..extensions import db
from ..grading.services import save_grade, stored_maximum
from ..lti import services as lti
from ..lti.models import Platform

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
LIS = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
LEARNER_PREFIX = "demo-class-learner-"
LINK_PREFIX = "demo-class-link-"
GIVEN = ("Camille", "Léa", "Yanis", "Inès", "Hugo", "Noah", "Zoé", "Lina", "Adam", "Jade", "Louis", "Chloé",
         "Nathan", "Manon", "Enzo", "Sarah", "Théo", "Emma", "Rayan", "Lou", "Malo", "Alice", "Sacha")
FAMILY = ("Martin", "Bernard", "Petit", "Moreau", "Lefèvre", "Durand", "Dubois", "Laurent", "Simon", "Michel",
          "Garcia", "Roux", "Fournier", "Girard", "Bonnet", "Dupuis", "Lambert", "Fontaine", "Rousseau")


class AlreadySeeded(ValueError):
    """The course already has a seeded class: nothing was added. `trainer_token`: a trainer's
    launch session on its first activity."""

    def __init__(self, context_id: str, trainer_token: str) -> None:
        super().__init__(context_id)
        self.context_id, self.trainer_token = context_id, trainer_token


@dataclass(frozen=True)
class SeededClass:
    platform_id: int
    context_id: str
    links: list[str]  # resource link ids, in placement order
    learners: int
    submissions: int
    grades: int
    trainer_token: str  # a trainer's launch session on the first activity


def learner_sub(context_id: str, index: int) -> str:
    """The platform user id of the class's learner number `index` (from 0) in course `context_id`."""
    return f"{LEARNER_PREFIX}{context_id}-{index + 1:04d}"


def learner_name(index: int) -> str:
    return f"{GIVEN[index % len(GIVEN)]} {FAMILY[(index // len(GIVEN)) % len(FAMILY)]} {index + 1}"


def _themes(count: int) -> list[dict[str, Any]]:
    themes = [theme for module in get_catalogue("fr").modules for theme in module.themes]
    return [themes[i % len(themes)] for i in range(count)]


def _claims(platform: Platform, deployment_id: str, context: dict[str, Any], link: dict[str, Any], *, sub: str,
            name: str, roles: list[str], services: dict[str, Any]) -> dict[str, Any]:
    """What a launch of `link` by `sub` says, as a platform's id_token would (validated already)."""
    return {"iss": platform.issuer, "aud": platform.client_id, "sub": sub, "name": name,
            CLAIM + "deployment_id": deployment_id, CLAIM + "message_type": "LtiResourceLinkRequest",
            CLAIM + "version": "1.3.0", CLAIM + "roles": roles, CLAIM + "context": context,
            CLAIM + "resource_link": {"id": link["id"], "title": link["title"]},
            CLAIM + "custom": link["custom"], **services}


# What each learner did on each activity, by their place in the class.
NOT_OPENED, OPENED, DRAFT = "not_opened", "opened", "draft"


def part(learner: int, activity: int, versions: int) -> str | int:
    """NOT_OPENED, OPENED, DRAFT, or the number of versions submitted: `versions` for most, fewer
    for some; about one in seven did not submit."""
    turn = (learner * 7 + activity * 3) % 20
    if turn == 0:
        return NOT_OPENED
    if turn == 1:
        return OPENED
    if turn == 2:
        return DRAFT
    return versions if turn > 4 else max(1, versions - turn + 2)


DECLARATION = {"level_used": "planning", "tools": ["le_chat"], "purposes": ["ideas"], "tools_other": "",
               "purposes_other": "", "external_prompts": "Des idées pour accueillir un apprenti",
               "verification": "Comparé avec le référentiel.", "own_changes": "Le texte final.",
               "justification": "", "honour": True}


def seed_class(platform: Platform, *, context: dict[str, Any], learners: int, activities: int, versions: int,
               link_services=None, grade: bool = False, place=None) -> SeededClass:
    """Seed the class in `context` (a context claim) of `platform`; refuses a course already
    seeded. `services(link_id)` gives a launch's AGS/NRPS claims; `place(items)` places the
    activities on the platform's side (the demo's). Commits every learner (a class of 2,000
    takes minutes)."""
    deployment_id = platform.deployments[0].deployment_id if platform.deployments else "1"
    link_services = link_services or (lambda link_id: {})
    catalogue = get_catalogue("fr")
    links = [{"id": f"{LINK_PREFIX}{context['id']}-{i + 1:02d}", "title": theme["title"], "theme": theme["id"],
              "custom": {"catalogue_item": theme["id"], "score_maximum": "20"}}
             for i, theme in enumerate(_themes(activities))]
    if lti.user_pks_by_sub(platform.id, [learner_sub(context["id"], 0)]):
        # Nothing added; a trainer's way in all the same (the first activity seeded earlier).
        trainer = lti.open_launch_session(platform.id, _claims(
            platform, deployment_id, context, links[0], sub="demo-class-trainer", name="Alex Dupont",
            roles=[LIS + "Instructor"], services=link_services(links[0]["id"])), "fr",
            current_app.config["LAUNCH_SESSION_TTL"])
        db.session.commit()
        raise AlreadySeeded(context["id"], trainer.token)
    if place is not None:
        place(links)
    trainer_roles = [LIS + "Instructor"]
    opened: list[tuple[Any, Any, Any]] = []  # (link row, activity, theme's first exercise)
    for link in links:
        _user, _context, row = lti.store_as_claimed(platform.id, _claims(
            platform, deployment_id, context, link, sub="demo-class-trainer", name="Alex Dupont", roles=trainer_roles,
            services=link_services(link["id"])))
        activity = activity_for(row, catalogue)
        opened.append((row, activity, catalogue.item(link["theme"])["exercises"][0]["id"]))
    required = {item["id"]: True for item in declarations.policy_for(opened[0][1], opened[0][0]).checklist
                if item["required"]}
    trainer = lti.open_launch_session(platform.id, _claims(
        platform, deployment_id, context, links[0], sub="demo-class-trainer", name="Alex Dupont",
        roles=trainer_roles, services=link_services(links[0]["id"])), "fr", current_app.config["LAUNCH_SESSION_TTL"])
    trainer_sessions = {links[0]["id"]: trainer.session}
    db.session.commit()
    submissions = grades = 0
    for index in range(learners):
        sub, name = learner_sub(context["id"], index), learner_name(index)
        for number, (link, (row, activity, exercise_id)) in enumerate(zip(links, opened)):
            done = part(index, number, versions)
            if done == NOT_OPENED and number:
                continue
            # Everyone opens the first activity: the class's learners are all known to the tool.
            user, _context, _row = lti.store_as_claimed(platform.id, _claims(
                platform, deployment_id, context, link, sub=sub, name=name, roles=[LIS + "Learner"],
                services=link_services(link["id"])))
            if done in (NOT_OPENED, OPENED):
                continue
            save_draft(activity, user.id, exercise_id, {"text": f"Réponse de {name}."}, catalogue.version)
            if done == DRAFT:
                continue
            declarations.set_ticks(activity, row, user.id, required)
            for version in range(done):
                above = (index + number + version) % 6 == 0  # a level above the policy, justified
                declaration = {**DECLARATION, "level_used": "full", "justification": "Essai."} if above else DECLARATION
                declarations.submit(activity, row, user.id, catalogue, "fr", declaration)
                submissions += 1
            if grade and (index + number) % 3 == 0:
                launch = trainer_sessions.get(link["id"])
                if launch is None:
                    launch = trainer_sessions[link["id"]] = lti.open_launch_session(platform.id, _claims(
                        platform, deployment_id, context, link, sub="demo-class-trainer", name="Alex Dupont",
                        roles=trainer_roles, services=link_services(link["id"])), "fr", 600).session  # the command's only
                save_grade(launch, activity, row, user, score=10 + (index + number) % 11,
                           comment="Travail sérieux : objectifs clairs.", from_ai_draft=False,
                           maximum=stored_maximum(row))  # no gradebook to ask: the centre's default
                grades += 1
        db.session.commit()
    return SeededClass(platform_id=platform.id, context_id=context["id"], links=[link["id"] for link in links],
                       learners=learners, submissions=submissions, grades=grades, trainer_token=trainer.token)


def class_members(platform_id: int, context_id: str) -> list[tuple[str, str]]:
    """(platform user id, name) of the class seeded in `context_id`, for the demo's roster."""
    return lti.users_with_sub_prefix(platform_id, f"{LEARNER_PREFIX}{context_id}-")
