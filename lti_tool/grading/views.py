"""Grading pages (trainers) and the learner's grade, under the launch token.

A trainer reaches only the learners of the link they launched; a learner only their own grade.
"""

from __future__ import annotations

from flask import g, get_template_attribute, redirect, render_template, request, url_for

from ..activities.hooks import Panel
from ..activities.services import course_names, launched_activity
from ..common.errors import ToolError
from ..common.markdown import plain_text
from ..common.http import json_api, json_body
from ..common.schemas import load_or_422
from ..common.i18n import lazy_gettext as _l
from ..common.spreadsheet import csv_download
from ..declarations import services as policy
from ..declarations.labels import labels, with_labels
from ..extensions import db
from ..gradebook.services import outbox_state, retry_all_failed, retry_failed
from ..llm import services as llm
from ..lti.access import current_launch, launch_required
from . import services
from .schemas import (DraftCommentOut, GradeSavedOut, GradeSchema, MyGradeOut, OutboxStateOut, RequeuedOut, RosterOut,
                      RosterQuerySchema, RosterRowOut)

STAFF = ("trainer", "admin")


def _roster():
    """(launch, activity, roster, its rows the query's status and flag keep, status, flag)."""
    session = current_launch()
    _catalogue, activity = launched_activity(session)
    result = services.roster(session, activity, session.resource_link)
    status, flag = request.args.get("status") or None, request.args.get("flag") or None
    return session, activity, result, services.filter_rows(result.rows, status, flag), status, flag


@launch_required(*STAFF)
def roster_page():
    """The course's learners on this assignment: status, declared level, flags, grade; filtered by
    the summary's links (`?status=`, `?flag=`)."""
    session, activity, result, rows, status, flag = _roster()
    link = session.resource_link
    return render_template("grading/roster.html", launch=session, token=g.launch_token, link=link, roster=result,
                           rows=rows, status=status, flag=flag, statuses=services.STATUSES, flags=services.FLAGS,
                           labels=labels(),
                           policy=policy.policy_for(activity, link))


@launch_required(*STAFF)
def summary():
    """The assignment's summary (participants, submitted, to grade, graded, flagged), each number a
    link to the roster filtered: the part of the trainer's landing its page fetches."""
    session = current_launch()
    _catalogue, activity = launched_activity(session)
    result = services.roster(session, activity, session.resource_link)
    return render_template("grading/_summary.html", token=g.launch_token, summary=result.summary,
                           unavailable=result.unavailable)


@launch_required(*STAFF)
def overview_page():
    """The former "submissions and declarations" list, now the roster: links and bookmarks keep working."""
    return redirect(url_for("grading.roster_page", token=g.launch_token, **request.args), code=301)


@json_api("The roster of the link's learners, as codes (`user` null: never launched the tool)",
          query=RosterQuerySchema, out=RosterOut, errors=(404, 409))
@launch_required(*STAFF)
def overview_json():
    _session, _activity, _roster_all, rows, _status, _flag = _roster()
    return RosterOut().dump({"learners": rows})


# The spreadsheet export: a column per key of RosterRowOut, headed in the interface's language;
# statuses and flags as the roster names them (the JSON export keeps the codes).
CSV_COLUMNS = {
    "learner": _l("Learner"), "status": _l("Status"), "versions": _l("Versions"),
    "submitted_at": _l("Submitted at (UTC)"), "declared_level": _l("Declared AI use"),
    "allowed_level": _l("Allowed AI use"), "checklist_ticked": _l("Checklist items ticked"),
    "checklist_total": _l("Checklist items"), "required_missing": _l("Required items missing"),
    "ai_calls": _l("AI assistant calls"), "flags": _l("Flags"), "score": _l("Grade"), "score_maximum": _l("Out of"),
}


@launch_required(*STAFF)
def overview_csv():
    _session, _activity, _roster_all, rows, _status, _flag = _roster()
    return csv_download("overview.csv", CSV_COLUMNS, (with_labels(row) for row in RosterRowOut(many=True).dump(rows)))


@launch_required(*STAFF)
def grading_page(user_pk: int):
    session = current_launch()
    _catalogue, activity = launched_activity(session)
    link = session.resource_link
    learner = policy.learner_with_work(session.platform_id, activity, user_pk)
    versions = policy.submissions_of(activity, user_pk)
    rows = services.roster(session, activity, link).rows
    next_pk = services.next_to_grade(rows, user_pk)
    grade = services.latest_grade(activity, user_pk)
    scale = services.grading_scale(session, link)
    return render_template("grading/grade.html", launch=session, token=g.launch_token, link=link, learner=learner,
                           submission=versions[0] if versions else None, versions=versions, grade=grade,
                           send=outbox_state(link.id, [user_pk]).get(user_pk), labels=labels(),
                           maximum=scale.maximum, scale=scale, next_pk=next_pk,
                           policy=policy.policy_for(activity, link))


@json_api("Grade a learner, the score sent to the platform's gradebook", body=GradeSchema, out=GradeSavedOut,
          status=201, errors=(404, 409), example={"score": 15, "comment": "Clear goals; date the steps."})
@launch_required(*STAFF)
def save_grade(user_pk: int):
    session = current_launch()
    _catalogue, activity = launched_activity(session)
    link = session.resource_link
    learner = policy.learner_with_work(session.platform_id, activity, user_pk)
    data = load_or_422(GradeSchema(), json_body())
    # The roster may ask the platform (NRPS): read it before writing, so that no write transaction
    # waits on the network. Who comes next does not depend on this learner's new grade.
    next_pk = services.next_to_grade(services.roster(session, activity, link).rows, user_pk)
    maximum = services.grading_scale(session, link).maximum  # the platform's, as the page showed it
    grade = services.save_grade(session, activity, link, learner, score=data["score"], comment=data["comment"],
                                from_ai_draft=data["from_ai_draft"], maximum=maximum)
    # Where the new grade stands in the gradebook (waiting to be sent): the page replaces the
    # line it showed, which spoke of the submission ("waits for grading") or of an older grade.
    send_state = get_template_attribute("grading/_send.html", "send_state")(
        outbox_state(link.id, [user_pk]).get(user_pk), g.launch_token)
    return GradeSavedOut().dump({
        "grade": grade, "send_state": str(send_state),
        "next_url": url_for("grading.grading_page", token=g.launch_token, user_pk=next_pk) if next_pk else None,
        "roster_url": url_for("grading.roster_page", token=g.launch_token)}), 201


WWW_EBI = {
    "fr": "Rédige un commentaire pour l'apprenant en deux parties titrées « Ce qui a bien fonctionné » "
          "(WWW) et « Ce serait encore mieux si » (EBI), trois points au plus chacune. "
          "Vouvoie l'apprenant et appuie-toi seulement sur le travail ci-dessous. Écris en texte simple, "
          "sans Markdown (ni #, ni **) : chaque titre sur sa ligne, chaque point sur une ligne commençant par « - ».",
    "en": "Write a comment for the learner in two titled parts, \"What went well\" (WWW) and \"Even better "
          "if\" (EBI), three points at most each. Rely only on the work below. Write plain text, no Markdown "
          "(no # or **): each title on its own line, each point on a line starting with \"- \".",
}


def _work_as_text(submission) -> str:
    lines = []
    for entry in submission.answers.get("exercises", {}).values():
        lines.append(f"## {entry['exercise'].get('title', '')}")
        lines.extend(_flatten_answers(entry["answers"]))
    return "\n".join(lines)[:15_000]


def _flatten_answers(value, label: str = "") -> list[str]:
    if isinstance(value, dict):
        return [line for key, item in value.items() for line in _flatten_answers(item, key)]
    if isinstance(value, list):
        return [line for item in value for line in _flatten_answers(item, label)]
    text = str(value).strip() if value is not None else ""
    return [f"- {label}: {text}" if label else f"- {text}"] if text else []


@json_api("An AI draft of the comment on a learner's latest version", out=DraftCommentOut,
          errors=(403, 404, 409, 429, 503))
@launch_required(*STAFF)
def draft_comment(user_pk: int):
    """An AI draft of the comment, structured WWW / EBI; the trainer edits it before saving. The
    call is logged as the trainer's (purpose feedback_draft) about the learner (subject_pk), the
    learner's name pseudonymised."""
    session = current_launch()
    _catalogue, activity = launched_activity(session)
    learner = policy.learner_with_work(session.platform_id, activity, user_pk)
    versions = policy.submissions_of(activity, user_pk)
    if not versions:
        raise ToolError(_l("This learner has not submitted anything to grade yet."), status=409, code="nothing_to_grade")
    lang = "en" if session.locale.startswith("en") else "fr"
    try:
        result = llm.chat(session, "feedback_draft", _work_as_text(versions[0]), instructions=WWW_EBI[lang],
                          names=course_names(session) | {learner.name}, subject_pk=learner.id)
    except ToolError:
        db.session.commit()  # the failed call stays in the AI log, though the request answers an error
        raise
    # The comment is plain text (the gradebook shows it so): a model's Markdown marks go.
    text = plain_text(result.text)
    services.remember_ai_draft(session, user_pk, text)
    return DraftCommentOut().dump({"text": text, "demo": result.is_demo, "call_id": result.call_id})


@json_api("Send a grade the gradebook did not take again", out=OutboxStateOut, errors=(404, 409))
@launch_required(*STAFF)
def retry(row_id: int):
    session = current_launch()
    launched_activity(session)  # refused unless the launch's link delivers an activity
    state = retry_failed(row_id, link_pk=session.resource_link.id)
    if state is None:
        raise ToolError(_l("There is no failed grade to send again here."), status=404, code="unknown_outbox_row")
    return OutboxStateOut().dump(state)


@json_api("Send every grade of the link the gradebook did not take again", out=RequeuedOut, errors=(404, 409))
@launch_required(*STAFF)
def retry_all():
    """Send again every score of the link the roster shows as not sent (after the trainer fixed
    the cause in the platform, e.g. added the grade item): one click instead of one per learner."""
    session = current_launch()
    launched_activity(session)  # refused unless the launch's link delivers an activity
    requeued = retry_all_failed(session.resource_link.id)
    return RequeuedOut().dump({"requeued": requeued})


@launch_required()
def my_grade():
    """The learner's latest grade: JSON for a program that asks for it (`Accept: application/json`),
    else a page for the person who opened the address in a browser."""
    session = current_launch()
    _catalogue, activity = launched_activity(session)
    grade = services.latest_grade(activity, session.user_pk)
    if request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json":
        return MyGradeOut().dump({"grade": grade})
    return render_template("grading/my_grade.html", launch=session, token=g.launch_token,
                           link=session.resource_link, grade=grade)


def activity_panels(page) -> list[Panel]:
    """What the activity page shows of grading (activities.hooks): to a trainer, the summary of the
    assignment the page opens on (each number a link to the roster, filtered); to a learner, their
    latest grade, above the activity, once the trainer has graded them."""
    if page.activity is None or not page.editable:
        return []
    if page.staff:
        # The numbers come from the platform's roster (NRPS, over the network): the page fetches
        # them once shown (`summary`), so that no launch holds its transaction open on the network.
        return [Panel("grading/panels/summary.html", None, order=5)]
    grade = services.latest_grade(page.activity, page.session.user_pk)
    return [Panel("grading/panels/my_grade.html", grade, order=10)] if grade is not None else []
