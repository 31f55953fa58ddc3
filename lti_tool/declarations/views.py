"""Policy, checklist, declaration and submission endpoints (JSON) and pages (receipt, a learner's version).

Everything is scoped by the launch session: the activity is the launch's own link, a learner
only reaches their own ticks and submissions, a trainer only the learners of their own link.
"""

from __future__ import annotations


from flask import current_app, g, render_template, url_for
from flask_babel import ngettext

from ..common.i18n import lazy_gettext as _l
from ..common.i18n import local_time
from ..activities.services import launched_activity
from ..common.http import json_api, json_body
from ..common.schemas import load_or_422
from ..lti.access import current_launch, launch_required
from ..lti.services import platform_timezone, set_platform_timezone
from ..common.errors import ToolError
from ..gradebook.services import post_submission
from . import checklist as checklist_mod
from . import services
from .schemas import (
    AI_TOOLS,
    PURPOSES,
    CentreSettingsBodySchema,
    CentreSettingsOut,
    CentreSettingsSchema,
    ChecklistEditSchema,
    PolicyOut,
    PolicySchema,
    SubmissionOut,
    SubmissionsOut,
    SubmissionSummariesOut,
    SubmittedOut,
    SubmitSchema,
    TicksOut,
    TicksSchema,
)
from ..activities.hooks import Panel
from .labels import CENTRE_TIMEZONES, labels
from .scales import SCALES

STAFF = ("trainer", "admin")

# --- JSON endpoints ----------------------------------------------------------------------------


@json_api("The assignment's AI-use policy and checklist (a learner's with their ticks)", out=PolicyOut,
          errors=(404, 409))
@launch_required()
def get_policy():
    session = current_launch()
    _catalogue, activity = launched_activity(session)
    policy = services.policy_for(activity, session.resource_link)
    ticks = services.ticks_of(activity, session.user_pk) if session.role == "learner" else {}
    return PolicyOut().dump(policy.with_ticks(ticks))


@json_api("Set the assignment's AI-use level and note", body=PolicySchema, out=PolicyOut, errors=(404, 409),
          example={"level": "planning", "note": "Ideas and planning only: the text is yours."})
@launch_required(*STAFF)
def put_policy():
    session = current_launch()
    _catalogue, activity = launched_activity(session)
    data = load_or_422(PolicySchema(), json_body())
    policy = services.set_policy(activity, session.resource_link, session.user_pk, data["level"], data["note"])
    return PolicyOut().dump(policy.with_ticks({}))


@json_api("Set the assignment's own checklist", body=ChecklistEditSchema, out=PolicyOut, errors=(404, 409))
@launch_required(*STAFF)
def put_checklist():
    session = current_launch()
    _catalogue, activity = launched_activity(session)
    data = load_or_422(ChecklistEditSchema(), json_body())
    policy = services.set_checklist(activity, session.resource_link, session.user_pk, data["items"])
    return PolicyOut().dump(policy.with_ticks({}))


@json_api("Give the assignment the centre's checklist again", out=PolicyOut, errors=(404, 409))
@launch_required(*STAFF)
def reset_checklist():
    session = current_launch()
    _catalogue, activity = launched_activity(session)
    policy = services.set_checklist(activity, session.resource_link, session.user_pk, None)
    return PolicyOut().dump(policy.with_ticks({}))


@json_api("Tick or untick the learner's checklist items", body=TicksSchema, out=TicksOut, errors=(404, 409),
          example={"ticks": {"before.frame": True, "during.confidential": True, "after.explain": True}})
@launch_required()
def put_ticks():
    session = current_launch()
    _catalogue, activity = launched_activity(session)
    data = load_or_422(TicksSchema(), json_body())
    ticks = services.set_ticks(activity, session.resource_link, session.user_pk, data["ticks"])
    # `ticks_shown`: each time as the pages write it (the page's script shows it as it is).
    return TicksOut().dump({"ticks": ticks, "ticks_shown": {item: local_time(at) for item, at in ticks.items()}})


def _learner_only(session) -> None:
    if session.role != "learner":
        raise ToolError(_l("Only learners submit work. Launch the activity as a learner to try it."), status=403,
                        code="learners_only")


@json_api("Submit the learner's work with their declaration", body=SubmitSchema, out=SubmittedOut, status=201,
          errors=(403, 404, 409), example={"declaration": {
              "level_used": "planning", "tools": ["le_chat"], "purposes": ["ideas"],
              "external_prompts": "Ideas of goals for an apprentice salesperson",
              "verification": "Compared with the standard.", "own_changes": "All the final text.", "honour": True}})
@launch_required()
def create_submission():
    session = current_launch()
    catalogue, activity = launched_activity(session)
    _learner_only(session)
    data = load_or_422(SubmitSchema(), json_body())
    submission = services.submit(activity, session.resource_link, session.user_pk, catalogue, session.locale,
                                 data["declaration"])
    post_submission(session)  # the gradebook learns the work waits for grading, in the same transaction
    return SubmittedOut().dump({
        "version": submission.version, "receipt": submission.receipt, "flags": submission.flags,
        "receipt_url": url_for("declarations.receipt", token=g.launch_token, version=submission.version)}), 201


@json_api("The learner's submitted versions, newest first", out=SubmissionSummariesOut, errors=(404, 409))
@launch_required()
def list_submissions():
    session = current_launch()
    _catalogue, activity = launched_activity(session)
    return SubmissionSummariesOut().dump({"submissions": services.submissions_of(activity, session.user_pk)})


@json_api("One of the learner's submitted versions, whole", out=SubmissionOut, errors=(404, 409))
@launch_required()
def get_submission(version: int):
    session = current_launch()
    _catalogue, activity = launched_activity(session)
    return SubmissionOut().dump(services.submission_of(activity, session.user_pk, version))


@json_api("A learner's submitted versions, whole", out=SubmissionsOut, errors=(404, 409))
@launch_required(*STAFF)
def learner_submissions(user_pk: int):
    session = current_launch()
    _catalogue, activity = launched_activity(session)
    services.learner_with_work(session.platform_id, activity, user_pk)
    return SubmissionsOut().dump({"submissions": services.submissions_of(activity, user_pk)})


@json_api("One of a learner's submitted versions, whole", out=SubmissionOut, errors=(404, 409))
@launch_required(*STAFF)
def learner_submission(user_pk: int, version: int):
    session = current_launch()
    _catalogue, activity = launched_activity(session)
    services.learner_with_work(session.platform_id, activity, user_pk)
    return SubmissionOut().dump(services.submission_of(activity, user_pk, version))


# --- pages ---------------------------------------------------------------------------------------


@launch_required()
def receipt(version: int):
    session = current_launch()
    _catalogue, activity = launched_activity(session)
    submission = services.submission_of(activity, session.user_pk, version)
    return render_template("declarations/receipt.html", launch=session, token=g.launch_token, submission=submission,
                           learner=session.user, labels=labels(), link=session.resource_link,
                           versions=services.submissions_of(activity, session.user_pk))


@launch_required(*STAFF)
def trainer_submission(user_pk: int, version: int):
    session = current_launch()
    _catalogue, activity = launched_activity(session)
    learner = services.learner_with_work(session.platform_id, activity, user_pk)
    submission = services.submission_of(activity, user_pk, version)
    return render_template("declarations/receipt.html", launch=session, token=g.launch_token, submission=submission,
                           learner=learner, labels=labels(), link=session.resource_link, trainer=True,
                           versions=services.submissions_of(activity, user_pk))


# --- the centre's settings (administrators) --------------------------------------------------------


@launch_required("admin")
def centre_page():
    session = current_launch()
    template = checklist_mod.render(services.centre_template(session.platform_id))
    scale = services.centre_scale(session.platform_id)
    previews = {code: services.scale_change_preview(session.platform_id, code) for code in SCALES if code != scale.code}
    return render_template("declarations/centre.html", launch=session, token=g.launch_token, scales=SCALES,
                           scale=scale, template=template, moments=checklist_mod.MOMENT_LABELS, previews=previews,
                           score_maximum=services.centre_score_maximum(session.platform_id), timezones=CENTRE_TIMEZONES,
                           timezone=platform_timezone(session.platform_id) or current_app.config["BABEL_DEFAULT_TIMEZONE"])


@json_api("Set the centre's AI-use scale, checklist template and default maximum score",
          body=CentreSettingsBodySchema, out=CentreSettingsOut, errors=(409,))
@launch_required("admin")
def put_centre():
    session = current_launch()
    body = json_body()
    current = services.centre_scale(session.platform_id).code
    wanted = {"scale": body.get("scale", current), "confirm_scale": body.get("confirm_scale"),
              "score_maximum": body.get("score_maximum")}
    if "timezone" in body:
        wanted["timezone"] = body["timezone"]
    data = load_or_422(CentreSettingsSchema(), wanted)
    if data["scale"] != current and data["confirm_scale"] != data["scale"]:
        changes = services.scale_change_preview(session.platform_id, data["scale"])
        message = ngettext("Changing the scale changes how %(num)d assignment reads its level: look at the "
                           "preview, then confirm.",
                           "Changing the scale changes how %(num)d assignments read their level: look at the "
                           "preview, then confirm.", len(changes))
        raise ToolError(message, status=409, code="scale_change_unconfirmed", fields={"scale": message})
    items = None
    if "items" in body:
        items = load_or_422(ChecklistEditSchema(), {"items": body["items"]})["items"]
    settings = services.save_centre_settings(session.platform_id, session.user_pk, scale=data["scale"], template=items,
                                             score_maximum=data["score_maximum"])
    if data["timezone"] is not None:
        set_platform_timezone(session.platform_id, data["timezone"])
    return CentreSettingsOut().dump({
        "scale": settings.scale,
        "score_maximum": services.centre_score_maximum(session.platform_id),
        "timezone": platform_timezone(session.platform_id) or current_app.config["BABEL_DEFAULT_TIMEZONE"],
        "checklist": checklist_mod.render(services.centre_template(session.platform_id))})


def activity_panels(page) -> list[Panel]:
    """What the activity page shows of the assignment's AI policy (activities.hooks): for a
    learner, the policy above the activity, the checklist and the declaration form below it; for a
    trainer, the policy and checklist settings above it."""
    if page.policy is None:
        return []
    if page.staff:
        return [Panel("declarations/panels/trainer.html",
                      {"policy": page.policy, "moments": checklist_mod.MOMENT_LABELS, "labels": labels()}, order=20)]
    activity, user_pk = page.activity, page.session.user_pk
    values = {"policy": page.policy,
              "checklist": checklist_mod.by_moment(services.checklist_state(page.policy,
                                                                           services.ticks_of(activity, user_pk))),
              "submissions": services.submission_summaries(activity, user_pk), "tools": AI_TOOLS,
              "purposes": PURPOSES, "labels": labels()}
    return [Panel("declarations/panels/policy.html", values, order=20),
            Panel("declarations/panels/submit.html", values, before_content=False, order=80)]
