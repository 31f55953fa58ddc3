"""Two outbox workers on one SQLite file never claim the same score.

SQLite has no `FOR UPDATE SKIP LOCKED`: two workers may read the same due rows, and the claim is
the conditional UPDATE that follows, which leases a row only if it is still due. This module runs
on its own SQLite file whatever DATABASE_URL says (tests/test_grading_concurrency.py covers the
PostgreSQL claim)."""

from __future__ import annotations

import threading
from collections import Counter, defaultdict

import pytest
from flask_migrate import upgrade
from sqlalchemy import event, func, select

from lti_tool import create_app
from lti_tool.extensions import db
from lti_tool.gradebook.delivery import claim
from lti_tool.gradebook.models import PENDING, SENDING, ScoreOutbox
from lti_tool.gradebook.services import enqueue_score

from .grading_fixtures import T0, launch, moodle, user  # noqa: F401

LEARNERS = 40
BATCH = 5
LEASE_SECONDS = 60  # the clock stays at T0: a leased row is not due again during the test


@pytest.fixture(scope="module")
def database_url(tmp_path_factory) -> str:
    """This module's own migrated SQLite file (it overrides conftest's, which may be PostgreSQL)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('outbox-claims') / 'outbox.sqlite3'}"
    app = create_app("test", SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return url


def is_the_claim(statement: str) -> bool:
    """The claim's conditional UPDATE (record() and release() return nothing, enqueue sets no lease)."""
    return statement.startswith("UPDATE score_outbox SET status=") and "lease_token=" in statement \
        and "RETURNING" in statement


def pending() -> int:
    return db.session.execute(select(func.count()).select_from(ScoreOutbox)
                              .where(ScoreOutbox.status == PENDING)).scalar_one()


def test_two_workers_on_sqlite_claim_each_score_exactly_once(app, client, platform, moodle):
    """Both workers read the same due rows before either claims them, every round.

    To make that race happen every time rather than by luck, an engine event holds each worker
    just before it sends the claim's UPDATE until the other worker is there too (a barrier). It
    only delays the statement: the SELECT of due ids, the UPDATE and its condition are the code's
    own, unchanged. Once one worker has nothing left to claim it breaks the barrier, and the other
    goes on alone. If the UPDATE did not check again that a row is still due, both workers would
    lease the same rows.
    """
    assert db.engine.dialect.name == "sqlite"
    session = launch(client, platform, moodle)
    for n in range(LEARNERS):
        learner = user(session.platform_id, f"learner-{n}")
        enqueue_score(db.session, link=session.resource_link, user=learner, kind="submission", launch=session)
    db.session.commit()
    all_ids = set(db.session.execute(select(ScoreOutbox.id)).scalars())
    assert len(all_ids) == LEARNERS and pending() == LEARNERS

    claimers: set[threading.Thread] = set()
    together = threading.Barrier(2)
    met: Counter[str] = Counter()  # per worker: claims sent while the other was claiming the same rows

    def hold_the_claim(conn, cursor, statement, parameters, context, executemany):
        if threading.current_thread() in claimers and is_the_claim(statement):
            try:
                together.wait(timeout=10)
                met[threading.current_thread().name] += 1
            except threading.BrokenBarrierError:
                pass  # the other worker has finished

    claimed: dict[str, list[int]] = defaultdict(list)
    tokens: dict[int, set[str]] = defaultdict(set)
    errors: list[BaseException] = []

    def worker() -> None:
        name = threading.current_thread().name
        try:
            with app.app_context():  # its own session and connection, as a second worker process has
                for _ in range(4 * LEARNERS):
                    rows = claim(BATCH, T0, LEASE_SECONDS)
                    for row in rows:
                        claimed[name].append(row.row_id)
                        tokens[row.row_id].add(row.lease_token)
                    db.session.expire_all()
                    if not rows and not pending():
                        return
                raise AssertionError(f"{name} never saw the outbox emptied")
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
        finally:
            together.abort()

    engine = db.engine
    event.listen(engine, "before_cursor_execute", hold_the_claim)
    try:
        threads = [threading.Thread(target=worker, name=f"worker-{i}") for i in range(2)]
        claimers.update(threads)
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        assert not any(thread.is_alive() for thread in threads), "a worker is stuck"
    finally:
        event.remove(engine, "before_cursor_execute", hold_the_claim)
    assert not errors, errors
    assert met["worker-0"] and met["worker-1"], "the workers never claimed the same rows at the same time"

    times = Counter(row_id for rows in claimed.values() for row_id in rows)
    twice = sorted(row_id for row_id, n in times.items() if n > 1)
    assert not twice, f"{len(twice)} scores claimed by both workers: {twice[:10]}"
    assert set(times) == all_ids, "some scores were never claimed"
    assert all(len(t) == 1 for t in tokens.values())

    db.session.expire_all()
    rows = db.session.execute(select(ScoreOutbox)).scalars().all()
    assert {(r.status, r.attempts) for r in rows} == {(SENDING, 1)}, "a score was leased twice"
    by_token = {r.id: r.lease_token for r in rows}
    assert all(by_token[row_id] in tokens[row_id] for row_id in all_ids)  # each lease is its claimer's
