"""Policy, checklist, declaration and submission endpoints (JSON) and pages (receipt, overview).

Everything is scoped by the launch session: the activity is the launch's own link, a learner
only reaches their own ticks and submissions, a trainer only the learners of their own link.
"""

from __future__ import annotations

from typing import Any

from flask import g, render_template, request, url_for
from marshmallow import ValidationError

from ..common.i18n import lazy_gettext as _l
from ..activities.api import launch_activity
from ..common.http import json_body
from ..common.launch import current_launch, launch_required
from ..common.spreadsheet import csv_download
from ..errors import ToolError
from ..extensions import db
from . import checklist as checklist_mod
from . import services
from .models import Submission
from .schemas import (
    AI_TOOLS,
    PURPOSES,
    CentreSettingsSchema,
    ChecklistEditSchema,
    PolicySchema,
    SubmitSchema,
    TicksSchema,
)
from .scales import SCALES

STAFF = ("trainer", "admin")

TOOL_LABELS = {
    "tool_assistant": _l("This tool's AI assistant"), "chatgpt": "ChatGPT", "le_chat": "Le Chat (Mistral)",
    "copilot": "Microsoft Copilot", "gemini": "Gemini", "claude": "Claude", "perplexity": "Perplexity",
    "deepl": "DeepL", "other": _l("Other"),
}
PURPOSE_LABELS = {
    "ideas": _l("Finding ideas"), "structure": _l("Structuring"), "drafting": _l("Drafting"),
    "rewording": _l("Rewording"), "translation": _l("Translating"), "information": _l("Finding information"),
    "feedback": _l("Feedback on my work"), "other": _l("Other"),
}
STATUS_LABELS = {"not_started": _l("Not started"), "in_progress": _l("In progress"), "submitted": _l("Submitted")}
FLAG_LABELS = {
    "level_above_policy": _l("Level above the policy"),
    "ai_where_forbidden": _l("AI used where forbidden"),
    "required_missing": _l("Required checklist items missing"),
}


def _load(schema, body: dict) -> dict:
    try:
        return schema.load(body)
    except ValidationError as exc:
        fields = {name: _l("This value is not valid.") for name in _flatten(exc.normalized_messages())}
        raise ToolError(_l("Some fields are not valid: check the highlighted ones."), status=422,
                        code="invalid_fields", hint=next(iter(fields), ""), fields=fields) from exc


def _flatten(messages: Any, prefix: str = "") -> list[str]:
    if isinstance(messages, dict):
        return [name for key, value in messages.items() for name in _flatten(value, f"{prefix}{key}.")] or [prefix.rstrip(".")]
    return [prefix.rstrip(".")]


def policy_json(policy: services.EffectivePolicy, ticks: dict[str, str] | None = None) -> dict[str, Any]:
    body = {**policy.snapshot(), "scale_label": str(policy.scale.label), "custom_checklist": policy.custom_checklist,
            "levels": [{"code": level.code, "rank": level.rank, "label": str(level.label),
                        "explanation": str(level.explanation)} for level in policy.scale.levels],
            "checklist": services.checklist_state(policy, ticks or {})}
    return body


# --- JSON endpoints ----------------------------------------------------------------------------


@launch_required()
def get_policy():
    session, _catalogue, activity = launch_activity()
    policy = services.policy_for(activity, session.resource_link)
    ticks = services.ticks_of(activity, session.user_pk) if session.role == "learner" else None
    return policy_json(policy, ticks)


@launch_required(*STAFF)
def put_policy():
    session, _catalogue, activity = launch_activity()
    data = _load(PolicySchema(), json_body())
    policy = services.set_policy(activity, session.resource_link, session.user_pk, data["level"], data["note"])
    db.session.commit()
    return policy_json(policy)


@launch_required(*STAFF)
def put_checklist():
    session, _catalogue, activity = launch_activity()
    data = _load(ChecklistEditSchema(), json_body())
    policy = services.set_checklist(activity, session.resource_link, session.user_pk, data["items"])
    db.session.commit()
    return policy_json(policy)


@launch_required(*STAFF)
def reset_checklist():
    session, _catalogue, activity = launch_activity()
    policy = services.set_checklist(activity, session.resource_link, session.user_pk, None)
    db.session.commit()
    return policy_json(policy)


@launch_required()
def put_ticks():
    session, _catalogue, activity = launch_activity()
    data = _load(TicksSchema(), json_body())
    ticks = services.set_ticks(activity, session.resource_link, session.user_pk, data["ticks"])
    db.session.commit()
    return {"ticks": ticks}


def _learner_only(session) -> None:
    if session.role != "learner":
        raise ToolError(_l("Only learners submit work. Launch the activity as a learner to try it."), status=403,
                        code="learners_only")


@launch_required()
def create_submission():
    session, catalogue, activity = launch_activity()
    _learner_only(session)
    data = _load(SubmitSchema(), json_body())
    submission = services.submit(activity, session.resource_link, session.user_pk, catalogue, session.locale,
                                 data["declaration"])
    _after_submit(session, activity)
    db.session.commit()
    return {"version": submission.version, "receipt": submission.receipt, "flags": submission.flags,
            "receipt_url": url_for("declarations.receipt", token=g.launch_token, version=submission.version)}, 201


def _after_submit(session, activity) -> None:
    """Tell the platform's gradebook the work waits for grading (Submitted, PendingManual), in
    the submission's own transaction (not after a grade: see marking.services.queue_submission)."""
    from ..grading.services import queue_submission

    queue_submission(session, activity, session.resource_link)


def submission_json(submission: Submission) -> dict[str, Any]:
    return {"version": submission.version, "receipt": submission.receipt,
            "submitted_at": submission.submitted_at.isoformat(timespec="seconds") + "Z",
            "catalogue_item": submission.catalogue_item, "content_version": submission.content_version,
            "answers": submission.answers, "declaration": submission.declaration, "checklist": submission.checklist,
            "ai_log": submission.ai_log, "policy": submission.policy, "flags": submission.flags}


@launch_required()
def list_submissions():
    session, _catalogue, activity = launch_activity()
    return {"submissions": [{"version": s.version, "receipt": s.receipt,
                             "submitted_at": s.submitted_at.isoformat(timespec="seconds") + "Z", "flags": s.flags}
                            for s in services.submissions_of(activity, session.user_pk)]}


@launch_required()
def get_submission(version: int):
    session, _catalogue, activity = launch_activity()
    return submission_json(services.submission_of(activity, session.user_pk, version))


@launch_required(*STAFF)
def learner_submissions(user_pk: int):
    session, _catalogue, activity = launch_activity()
    services.learner_with_work(session.platform_id, activity, user_pk)
    return {"submissions": [submission_json(s) for s in services.submissions_of(activity, user_pk)]}


@launch_required(*STAFF)
def learner_submission(user_pk: int, version: int):
    session, _catalogue, activity = launch_activity()
    services.learner_with_work(session.platform_id, activity, user_pk)
    return submission_json(services.submission_of(activity, user_pk, version))


# --- pages ---------------------------------------------------------------------------------------


def labels() -> dict[str, Any]:
    return {"tools": TOOL_LABELS, "purposes": PURPOSE_LABELS, "statuses": STATUS_LABELS, "flags": FLAG_LABELS}


@launch_required()
def receipt(version: int):
    session, _catalogue, activity = launch_activity()
    submission = services.submission_of(activity, session.user_pk, version)
    return render_template("declarations/receipt.html", launch=session, token=g.launch_token, submission=submission,
                           learner=session.user, labels=labels(), link=session.resource_link,
                           versions=services.submissions_of(activity, session.user_pk))


@launch_required(*STAFF)
def trainer_submission(user_pk: int, version: int):
    session, _catalogue, activity = launch_activity()
    learner = services.learner_with_work(session.platform_id, activity, user_pk)
    submission = services.submission_of(activity, user_pk, version)
    return render_template("declarations/receipt.html", launch=session, token=g.launch_token, submission=submission,
                           learner=learner, labels=labels(), link=session.resource_link, trainer=True,
                           versions=services.submissions_of(activity, user_pk))


def _overview_rows():
    session, _catalogue, activity = launch_activity()
    rows = services.overview(activity, session.resource_link)
    status, flag = request.args.get("status") or None, request.args.get("flag") or None
    return session, activity, rows, services.filter_rows(rows, status, flag), status, flag


@launch_required(*STAFF)
def overview_page():
    session, activity, all_rows, rows, status, flag = _overview_rows()
    policy = services.policy_for(activity, session.resource_link)
    return render_template("declarations/overview.html", launch=session, token=g.launch_token, rows=rows,
                           total=len(all_rows), status=status, flag=flag, labels=labels(), policy=policy,
                           link=session.resource_link, statuses=services.STATUSES, flags=services.FLAGS)


@launch_required(*STAFF)
def overview_json():
    _session, _activity, _all, rows, _status, _flag = _overview_rows()
    return {"learners": [row.as_dict() for row in rows]}


# The spreadsheet export: a column per key of OverviewRow.as_dict, headed in the interface's
# language; statuses and flags as the overview page names them (the JSON export keeps the codes).
CSV_COLUMNS = {
    "learner": _l("Learner"), "status": _l("Status"), "versions": _l("Versions"),
    "submitted_at": _l("Submitted at (UTC)"), "declared_level": _l("Declared AI use"),
    "allowed_level": _l("Allowed AI use"), "checklist_ticked": _l("Checklist items ticked"),
    "checklist_total": _l("Checklist items"), "required_missing": _l("Required items missing"),
    "ai_calls": _l("AI assistant calls"), "flags": _l("Flags"),
}


@launch_required(*STAFF)
def overview_csv():
    _session, _activity, _all, rows, _status, _flag = _overview_rows()
    return csv_download("overview.csv", CSV_COLUMNS, (with_labels(row.as_dict()) for row in rows))


def with_labels(data: dict[str, Any]) -> dict[str, Any]:
    """An export row with its status and flags as the pages name them (JSON keeps the codes)."""
    data["status"] = str(STATUS_LABELS.get(data["status"], data["status"]))
    data["flags"] = ", ".join(str(FLAG_LABELS.get(flag, flag)) for flag in data["flags"])
    return data


# --- the centre's settings (administrators) --------------------------------------------------------


@launch_required("admin")
def centre_page():
    session = current_launch()
    template = checklist_mod.render(services.centre_template(session.platform_id))
    return render_template("declarations/centre.html", launch=session, token=g.launch_token, scales=SCALES,
                           scale=services.centre_scale(session.platform_id), template=template,
                           moments=checklist_mod.MOMENT_LABELS)


@launch_required("admin")
def put_centre():
    session = current_launch()
    body = json_body()
    data = _load(CentreSettingsSchema(), {"scale": body.get("scale", services.centre_scale(session.platform_id).code)})
    items = None
    if "items" in body:
        items = _load(ChecklistEditSchema(), {"items": body["items"]})["items"]
    settings = services.save_centre_settings(session.platform_id, session.user_pk, scale=data["scale"], template=items)
    db.session.commit()
    return {"scale": settings.scale, "checklist": checklist_mod.render(services.centre_template(session.platform_id))}


def learner_panel(session, activity) -> dict[str, Any]:
    """What the learner page shows of the policy, the checklist and the submissions."""
    policy = services.policy_for(activity, session.resource_link)
    ticks = services.ticks_of(activity, session.user_pk)
    from ..grading.services import latest_grade

    return {"policy": policy, "checklist": checklist_mod.by_moment(services.checklist_state(policy, ticks)),
            "grade": latest_grade(activity, session.user_pk),
            "submissions": services.submission_summaries(activity, session.user_pk), "tools": AI_TOOLS,
            "purposes": PURPOSES, "labels": labels()}


def trainer_panel(session, activity) -> dict[str, Any]:
    policy = services.policy_for(activity, session.resource_link)
    return {"policy": policy, "moments": checklist_mod.MOMENT_LABELS, "labels": labels()}

