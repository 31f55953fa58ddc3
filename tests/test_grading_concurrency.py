"""Two workers draining one outbox on PostgreSQL (FOR UPDATE SKIP LOCKED): each score is sent
exactly once, and the scores of one learner go in the order they were enqueued."""

from __future__ import annotations

import os
import random
import threading
from collections import Counter

import pytest
from sqlalchemy import func, select

from lti_tool.extensions import db
from lti_tool.gradebook.delivery import DrainReport, Sender, drain
from lti_tool.gradebook.models import ScoreOutbox
from lti_tool.gradebook.services import enqueue_score

from .grading_fixtures import launch, moodle, user, waiting  # noqa: F401

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgresql"),
                       reason="SKIP LOCKED claims need PostgreSQL (DATABASE_URL)"),
]


def test_two_workers_send_each_of_200_scores_exactly_once(app, client, platform, moodle):
    moodle.add_line_item("M1", 10, resource_link_id="link-1")
    session = launch(client, platform, moodle)
    for n in range(100):
        moodle.enrol(f"learner-{n}")
        learner = user(session.platform_id, f"learner-{n}")
        enqueue_score(db.session, link=session.resource_link, user=learner, kind="submission", launch=session)
        enqueue_score(db.session, link=session.resource_link, user=learner, kind="quiz", score_given=n % 11,
                      score_maximum=10, launch=session)
    db.session.commit()
    assert waiting() == 200

    reports: dict[str, list[DrainReport]] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def worker(name: str) -> None:
        try:
            with app.app_context():  # its own session, as a separate worker process would have
                sender = Sender.for_app(rng=random.Random(name))
                start.wait()
                mine = reports.setdefault(name, [])
                for _ in range(400):
                    mine.append(drain(batch=10, sender=sender))
                    if mine[-1].claimed == 0 and not waiting():
                        return
                raise AssertionError("outbox never emptied")
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors

    db.session.expire_all()
    statuses = Counter(db.session.execute(select(ScoreOutbox.status)).scalars())
    assert statuses == {"sent": 200}
    assert db.session.execute(select(func.max(ScoreOutbox.attempts))).scalar_one() == 1
    posted = Counter((s.body["userId"], s.body["gradingProgress"]) for s in moodle.seen if "/scores" in s.url)
    assert len(posted) == 200 and set(posted.values()) == {1}, "each score posted exactly once"
    assert len(moodle.accepted) == 200
    sent_by = {name: sum(r.sent for r in rs) for name, rs in reports.items()}
    assert sum(sent_by.values()) == 200 and all(sent_by.values()), sent_by  # both workers took part
    for n in range(100):  # per learner: the submission, then the quiz
        progress = [s["gradingProgress"] for s in moodle.scores_for(f"learner-{n}")]
        assert progress == ["PendingManual", "FullyGraded"]
