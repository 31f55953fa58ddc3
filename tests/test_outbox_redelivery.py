"""Delivery is at least once (issue 25, item 13): a worker killed after the platform stored a score
but before it wrote down that it was sent leaves the row leased; once the lease expires the next
worker sends it again, the same values with a later timestamp, and the gradebook still ends with
the trainer's grade: the latest one, when the trainer changed it in between."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from lti_tool.common.time import utcnow
from lti_tool.extensions import db
from lti_tool.gradebook.models import ScoreOutbox
from lti_tool.lti.models import LtiUser

from .ags_platform import FakeMoodle, free_port, moodle_over_http
from .lti_platform import CLAIM, TestPlatform, landing_url
from .test_submissions import REQUIRED, declaration, work

ROOT = Path(__file__).resolve().parent.parent
LEASE_SECONDS = 5  # the worker's lease on a row it sends (production: 60 s)


def worker_command(database_url: str, *args: str) -> dict:
    """`flask lti-tool worker` in its own process, on the test's database, with a short lease."""
    app = f"lti_tool:create_app('test', OUTBOX_LEASE_SECONDS={LEASE_SECONDS})"
    return {"args": [sys.executable, "-m", "flask", "--app", app, "lti-tool", "worker", *args], "cwd": ROOT,
            "env": {**os.environ, "DATABASE_URL": database_url, "LTI_TOOL_ENV": "test"}, "text": True}


def grade_rows() -> list[ScoreOutbox]:
    db.session.expire_all()
    return list(db.session.execute(select(ScoreOutbox).where(ScoreOutbox.kind == "grade")
                                   .order_by(ScoreOutbox.id)).scalars())


def stamp(score: dict) -> datetime:
    return datetime.fromisoformat(score["timestamp"].replace("Z", "+00:00"))


@pytest.fixture
def course(app, client, http_mock):
    """A Moodle whose services answer over HTTP on 127.0.0.1 (the worker runs in another process),
    Camille's submitted work and her trainer's launch."""
    platform = TestPlatform(issuer=f"http://127.0.0.1:{free_port()}")
    platform.serve_jwks(http_mock)  # the tool's launches in this process fetch it through the mock
    platform.register()
    moodle = FakeMoodle(platform, jwks=lambda: app.test_client().get("/lti/jwks").get_json())
    moodle.enrol("learner-a", name="Camille Martin")
    item = moodle.add_line_item("Accueillir", 20, resource_link_id="link-1")

    def launch(sub: str, role: str) -> str:
        claims = {CLAIM + "custom": {"catalogue_item": "m1.t2", "score_maximum": "20"}, **moodle.claims("link-1")}
        return landing_url(platform.launch(client, role, sub=sub, **claims))

    learner = launch("learner-a", "learner")
    work(client, learner)
    assert client.put(learner + "checklist/ticks", json={"ticks": {i: True for i in REQUIRED}}).status_code == 200
    assert client.post(learner + "submissions", json=declaration()).status_code == 201
    trainer = launch("trainer-1", "trainer")
    pk = db.session.execute(select(LtiUser.id).where(LtiUser.sub == "learner-a")).scalar_one()
    return {"moodle": moodle, "item": item, "trainer": trainer, "learner_pk": pk}


@pytest.mark.parametrize("regraded", [False, True], ids=["same-grade", "grade-changed-in-between"])
def test_a_worker_killed_mid_delivery_sends_the_score_again_and_the_gradebook_keeps_the_trainers_grade(
        client, database_url, course, regraded):
    moodle, trainer, pk = course["moodle"], course["trainer"], course["learner_pk"]
    graded = client.post(trainer + f"grading/{pk}/grade", json={"score": 16.5, "comment": "Objectif clair."})
    assert graded.status_code == 201, graded.get_data(as_text=True)

    with moodle_over_http(moodle, hold_scores=True) as served:
        first = subprocess.Popen(**worker_command(database_url, "--interval", "0.2"), stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT)
        try:
            # The platform stored the grade; its answer is held: the worker does not know yet.
            assert served.score_stored.wait(60), first.communicate(timeout=5)[0] if first.poll() is not None else ""
            first.send_signal(signal.SIGKILL)
            first.wait(10)
        finally:
            if first.poll() is None:
                first.kill()
                first.wait(10)
            first.stdout.close()
        served.release.set()
        served.hold_scores = False
        [killed] = grade_rows()
        assert killed.status == "sending" and killed.sent_at is None  # the worker died before writing it down

        if regraded:  # the trainer changes the grade before the lease expires
            again = client.post(trainer + f"grading/{pk}/grade", json={"score": 12, "comment": "Précisez l'échéance."})
            assert again.status_code == 201, again.get_data(as_text=True)
        while killed.lease_until > utcnow():
            time.sleep(0.2)
            killed = grade_rows()[0]
        second = subprocess.run(**worker_command(database_url, "--once"), capture_output=True, timeout=60)
        assert second.returncode == 0, second.stdout + second.stderr

    graded_scores = [s for s in moodle.scores_for("learner-a") if "scoreGiven" in s]
    assert [row.status for row in grade_rows()] == ["sent"] * len(grade_rows())
    # The killed delivery and its redelivery: the same score, a later timestamp.
    duplicate, redelivered = graded_scores[0], graded_scores[1]
    assert {k: v for k, v in duplicate.items() if k != "timestamp"} == \
        {k: v for k, v in redelivered.items() if k != "timestamp"}
    assert (duplicate["scoreGiven"], duplicate["scoreMaximum"], duplicate["comment"]) == (16.5, 20.0, "Objectif clair.")
    stamps = [stamp(s) for s in graded_scores]
    assert stamps == sorted(stamps) and len(set(int(s.timestamp()) for s in stamps)) == len(stamps)
    # The gradebook holds exactly the trainer's (latest) grade.
    expected = (12.0, "Précisez l'échéance.") if regraded else (16.5, "Objectif clair.")
    assert len(graded_scores) == (3 if regraded else 2)
    final = moodle.grades[(course["item"], "learner-a")]
    assert (final["result"], final["comment"], final["gradingProgress"]) == (*expected, "FullyGraded")
