"""The worker's triggers: `flask lti-tool worker`, and the dev server's thread (never in tests,
unless a test starts it)."""

from __future__ import annotations

from lti_tool import create_app
from lti_tool.common.store import MemoryStore
from lti_tool.extensions import db
from lti_tool.gradebook.worker import stop_outbox_thread

from .grading_fixtures import enqueue, launch, moodle, row  # noqa: F401


def test_worker_command_once_sends_what_is_due(app, client, platform, moodle):
    moodle.add_line_item("M1", 20, resource_link_id="link-1")
    queued = enqueue(launch(client, platform, moodle), "grade", score=12, maximum=20)

    result = app.test_cli_runner().invoke(args=["lti-tool", "worker", "--once"])

    assert result.exit_code == 0, result.output
    assert "Done: 1 sent" in result.output
    assert row(queued.id).status == "sent" and len(moodle.accepted) == 1


def test_the_thread_starts_with_the_first_request_only_when_configured(app, database_url):
    client = app.test_client()
    client.get("/healthz")
    assert "grading_outbox_thread" not in app.extensions  # tests and production: no thread

    dev_like = create_app("test", SQLALCHEMY_DATABASE_URI=database_url, LTI_STORE=MemoryStore(), OUTBOX_THREAD=True,
                          OUTBOX_POLL_SECONDS=0.05)
    assert "grading_outbox_thread" not in dev_like.extensions  # the factory itself starts nothing
    try:
        dev_like.test_client().get("/healthz")
        thread, _ = dev_like.extensions["grading_outbox_thread"]
        assert thread.is_alive() and thread.daemon
        dev_like.test_client().get("/healthz")
        assert dev_like.extensions["grading_outbox_thread"][0] is thread  # once
    finally:
        stop_outbox_thread(dev_like)
        dev_like.extensions["lti_http"].close()
        with dev_like.app_context():
            db.engine.dispose()
    assert not thread.is_alive()
