"""The outbox worker: the loop behind `flask lti-tool worker` and the dev server's thread."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from ..extensions import db
from .delivery import DrainReport, Sender, drain

log = logging.getLogger(__name__)


# --- loop, CLI, dev-server thread --------------------------------------------------------------


def run_worker(*, once: bool = False, batch: int = 50, interval: float = 2.0, stop: threading.Event | None = None,
               sender: Sender | None = None, on_report: Callable[[DrainReport], None] | None = None) -> None:
    """Drain in a loop (sleeping `interval` when nothing is due) until `stop` is set; with
    `once`, until nothing is due, then return. Database or network trouble is logged and waited out."""
    stop = stop or threading.Event()
    while not stop.is_set():
        try:
            report = drain(batch, sender=sender)
        except Exception:
            log.exception("outbox drain failed")
            db.session.rollback()
            if once:
                raise
            stop.wait(interval)
            continue
        if on_report and report.claimed:
            on_report(report)
        if report.claimed == 0:
            if once:
                return
            stop.wait(interval)


def _thread_main(app: Flask, stop: threading.Event, interval: float) -> None:
    sender = None
    while not stop.is_set():
        with app.app_context():  # a fresh session each round, released at the end of the context
            try:
                sender = sender or Sender.for_app()
                report = drain(sender=sender)
            except Exception:
                log.exception("outbox thread: drain failed")
                report = DrainReport()
        if report.claimed == 0:
            stop.wait(interval)


def start_outbox_thread(app: Flask) -> threading.Thread:
    """Start the background worker for this app (once). The dev server runs it; production runs
    `flask lti-tool worker` as its own process."""
    with _thread_lock:
        running = app.extensions.get("grading_outbox_thread")
        if running is not None and running[0].is_alive():
            return running[0]
        stop = threading.Event()
        thread = threading.Thread(target=_thread_main, args=(app, stop, app.config.get("OUTBOX_POLL_SECONDS", 2.0)),
                                  name="grade-outbox", daemon=True)
        app.extensions["grading_outbox_thread"] = (thread, stop)
        thread.start()
        log.info("grade outbox thread started")
        return thread


def stop_outbox_thread(app: Flask, timeout: float = 5.0) -> None:
    running = app.extensions.pop("grading_outbox_thread", None)
    if running is not None:
        running[1].set()
        running[0].join(timeout)


_thread_lock = threading.Lock()


def init_outbox(app: Flask) -> None:
    """With OUTBOX_THREAD (development), the worker thread starts with the first request served:
    the dev server starts it, CLI commands (`db upgrade`, `lti-tool worker`) never do."""
    if not app.config.get("OUTBOX_THREAD"):
        return

    @app.before_request
    def _start_outbox_thread() -> None:
        if "grading_outbox_thread" not in app.extensions:
            start_outbox_thread(app)


@click.command("worker")
@click.option("--once", is_flag=True, help="Send every due score, then exit (cron, tests).")
@click.option("--interval", type=float, default=None, help="Seconds between polls when nothing is due.")
@click.option("--batch", type=int, default=50, show_default=True, help="Scores claimed per round.")
@with_appcontext
def worker_command(once: bool, interval: float | None, batch: int) -> None:
    """Send grades waiting in the outbox to the platforms (runs until stopped)."""
    interval = current_app.config.get("OUTBOX_POLL_SECONDS", 2.0) if interval is None else interval
    totals = DrainReport()

    def show(report: DrainReport) -> None:
        for name in ("claimed", "sent", "retried", "failed", "not_gradable", "superseded", "lease_lost", "released"):
            setattr(totals, name, getattr(totals, name) + getattr(report, name))
        click.echo(f"sent {report.sent}, to retry {report.retried}, failed {report.failed}, "
                   f"not gradable {report.not_gradable}, superseded {report.superseded}")

    if not once:
        click.echo(f"Grade outbox worker: polling every {interval:g} s (Ctrl-C to stop).")
    try:
        run_worker(once=once, batch=batch, interval=interval, on_report=show)
    except KeyboardInterrupt:
        pass
    if once:
        click.echo(f"Done: {totals.sent} sent, {totals.retried} to retry, {totals.failed} failed, "
                   f"{totals.not_gradable} not gradable.")
