"""`flask --app wsgi lti-tool seed-demo-class`: a class at work, to try the trainer's pages on."""

from __future__ import annotations

from typing import Any

import click
from flask import current_app

from ..lti import services as lti
from . import gradebook
from .course import COURSE
from .seed import AlreadySeeded, SeededClass, seed_class
from .services import ensure_registered


def seed_demo_class(*, learners: int, activities: int, versions: int) -> SeededClass:
    """The class in the demo course: its activities placed on the demo page, listed by the demo's
    roster (NRPS), graded into the demo's gradebook."""
    platform = ensure_registered()

    def place(links: list[dict[str, Any]]) -> None:
        gradebook.place_items([{"id": link["id"], "title": link["title"], "catalogue_id": link["theme"],
                                "custom": link["custom"], "line_item": {"scoreMaximum": 20, "label": link["title"]}}
                               for link in links])

    return seed_class(platform, context=COURSE, learners=learners, activities=activities, versions=versions,
                      link_services=gradebook.launch_claims, grade=True, place=place)


@click.command("seed-demo-class")
@click.option("--learners", type=click.IntRange(1, 10_000), default=40, show_default=True)
@click.option("--activities", type=click.IntRange(1, 60), default=15, show_default=True,
              help="Activities placed in the course (the catalogue's themes, in order).")
@click.option("--versions", type=click.IntRange(1, 10), default=3, show_default=True,
              help="Most versions a learner submits of one activity.")
@click.option("--issuer", default=None, help="A registered platform instead of the demo platform (with --client-id).")
@click.option("--client-id", default=None)
@click.option("--course", "course_id", default="mentorat-ia-demo-class", show_default=True,
              help="On a registered platform: the course (context id) to fill.")
def seed_demo_class_command(learners: int, activities: int, versions: int, issuer: str | None,
                            client_id: str | None, course_id: str) -> None:
    """Fill a course with a class at work (learners, activities, submitted versions, grades) to try
    the trainer's pages on: the demo course by default. Refuses a course already seeded."""
    try:
        if issuer or client_id:
            platform = lti.platform_by_keys(issuer or "", client_id or "")
            if platform is None:
                raise click.ClickException(f"no platform {issuer} with client id {client_id} (see list-platforms)")
            seeded = seed_class(platform, context={"id": course_id, "title": "Classe de démonstration",
                                                   "label": "DEMO-CLASSE"},
                                learners=learners, activities=activities, versions=versions)
        else:
            if not current_app.config["DEMO_PLATFORM"]:
                raise click.ClickException("the demo platform is off (DEMO_PLATFORM=0): name a platform with "
                                           "--issuer and --client-id")
            seeded = seed_demo_class(learners=learners, activities=activities, versions=versions)
    except AlreadySeeded as exc:
        click.echo(f"Course {exc.context_id} already has a seeded class: nothing added (seed another course "
                   "with --course, or use a fresh database).")
        _how_to_open(exc.trainer_token, demo=not (issuer or client_id), context_id=exc.context_id)
        return
    click.echo(f"Seeded course {seeded.context_id}: {seeded.learners} learners, {len(seeded.links)} activities, "
               f"{seeded.submissions} submitted versions, {seeded.grades} grades.")
    _how_to_open(seeded.trainer_token, demo=not (issuer or client_id), context_id=seeded.context_id)


def _how_to_open(token: str, *, demo: bool, context_id: str) -> None:
    base = current_app.config["TOOL_BASE_URL"]
    click.echo(f"Open the trainer's pages (valid {current_app.config['LAUNCH_SESSION_TTL'] // 3600} h): "
               f"{base}/t/{token}/")
    if demo:
        click.echo(f"Or launch any of its activities as the trainer from the demo page: {base}/demo")
    else:
        click.echo(f"Or launch the tool as a trainer from course {context_id} of your platform.")
