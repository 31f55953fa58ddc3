"""The centre's LLM pages: the AI assistant's settings and its usage.

Behind the launch token: the settings page is the centre administrator's; usage is the
administrator's (every course of the centre) or a trainer's (their own course). The assistant's
own endpoints are the exercises' (activities.assistant).
"""

from __future__ import annotations

from typing import Any

from flask import current_app, g, redirect, render_template, request, url_for
from flask_babel import format_decimal
from marshmallow import ValidationError

from ..common.errors import ToolError
from ..common.http import form_body, json_api
from ..common.i18n import lazy_gettext as _l
from ..extensions import db
from ..lti.access import current_launch, launch_required
from ..lti.models import LtiUser
from . import centre, quotas
from .schemas import LlmConfigSchema, UsageReportOut

REFUSALS = {
    "non_eu": _l("This endpoint processes requests outside the EU: it is refused. Only the tool's operator can "
                 "allow non-EU endpoints, in the tool's configuration."),
    "eu_unconfirmed": _l("This endpoint is not a known EU-hosted service: tick the box to confirm that it is "
                         "hosted in the EU (your confirmation is recorded)."),
    "bad_url": _l("Enter the endpoint's address (http:// or https://), without any credentials in it."),
    "internal_address": _l("This address is inside a private network (private, loopback or link-local): it is "
                           "refused. For a model hosted on the tool's own network, its operator can allow it in "
                           "the tool's configuration."),
    "unresolvable_address": _l("This address cannot be found (no DNS answer): check it, then try again."),
    "model_required": _l("Enter the name of the model to use."),
    "server_or_url": _l("Choose a Mistral server or a self-hosted address, not both."),
    "bad_config": _l("These settings cannot work with this provider."),
    "invalid": _l("This value is not valid."),
}

TEST_RESULTS = {
    "auth": _l("The service refused the API key: check the key, and that it may use this model."),
    "timeout": _l("The service did not answer in time."),
    "unavailable": _l("The service could not be reached, or answered with a server error."),
    "rate_limited": _l("The service answered that its rate limit or quota is reached."),
    "refused": _l("The service refused the test message (content filter)."),
    "bad_config": _l("The service refused the request: check the model name and the endpoint."),
    "endpoint_refused": _l("This endpoint is not allowed by the hosting rules."),
}


# --- the centre's settings -----------------------------------------------------------------------


def _form_values(row, settings) -> dict[str, Any]:
    values = {"provider": settings.provider, "model": settings.model, "base_url": settings.base_url or "",
              "server": settings.server or ""}
    for name in ("temperature", "max_tokens", "timeout", "quota_learner_daily_calls", "quota_learner_daily_tokens",
                 "quota_centre_monthly_calls", "quota_centre_monthly_tokens", "log_retention_months"):
        value = getattr(row, name) if row is not None else None
        # Decimals as the reader's language writes them: "0,3" in French.
        values[name] = "" if value is None else format_decimal(value) if isinstance(value, float) else value
    return values


def _settings_page(*, form: dict[str, Any] | None = None, errors: dict[str, Any] | None = None, report=None,
                   status: int = 200):
    session = current_launch()
    row = centre.centre_config(session.platform_id)
    env = centre.environment_settings()
    settings = centre.merge_settings(env, row)
    values = dict(form) if form is not None else _form_values(row, settings)
    values.pop("api_key", None)  # write-only: never sent back, not even what was just typed
    confirmed_by = db.session.get(LtiUser, row.eu_confirmed_by) if row and row.eu_confirmed_by else None
    defaults = quotas.quotas_for(None)
    body = render_template(
        "llm/admin.html", launch=session, token=g.launch_token, values=values, errors=errors or {}, row=row,
        key_hint=centre.key_hint(row), env=env, allow_non_eu=env.allow_non_eu, defaults=defaults,
        default_retention=centre.log_retention_months(None),
        confirmed_by=confirmed_by, report=report, test_results=TEST_RESULTS,
        saved=request.args.get("saved") == "1" and form is None)
    return body, status


def _load_form() -> tuple[dict[str, Any], centre.ConfigChange | None, dict[str, Any]]:
    raw = form_body().to_dict()
    try:
        data = LlmConfigSchema().load(raw)
    except ValidationError as exc:
        return raw, None, {name: REFUSALS["invalid"] for name in exc.normalized_messages()}
    return raw, centre.ConfigChange(**data), {}


@launch_required("admin")
def settings_page():
    return _settings_page()


@launch_required("admin")
def save_settings():
    session = current_launch()
    raw, change, errors = _load_form()
    if change is None:
        return _settings_page(form=raw, errors=errors, status=422)
    try:
        centre.save_config(session.platform_id, session.user_pk, change,
                           allow_internal=current_app.config["LLM_ALLOW_INTERNAL_ENDPOINTS"])
    except centre.ConfigRefused as exc:
        db.session.rollback()
        return _settings_page(form=raw, errors={exc.field: REFUSALS[exc.reason]}, status=422)
    return redirect(url_for("llm.settings_page", token=g.launch_token, saved=1), code=303)


@launch_required("admin")
def test_settings():
    """Test the settings in the form (not saved; a blank key means the stored one)."""
    session = current_launch()
    raw, change, errors = _load_form()
    if change is None:
        return _settings_page(form=raw, errors=errors, status=422)
    try:
        settings, _record = centre.candidate_settings(
            session.platform_id, change, allow_internal=current_app.config["LLM_ALLOW_INTERNAL_ENDPOINTS"])
    except centre.ConfigRefused as exc:
        return _settings_page(form=raw, errors={exc.field: REFUSALS[exc.reason]}, status=422)
    report = centre.check_connection(settings, platform_id=session.platform_id, user_pk=session.user_pk,
                                     context_pk=session.context_pk, resource_link_pk=session.resource_link_pk,
                                     locale=session.locale)
    return _settings_page(form=raw, report=report)


# --- usage ---------------------------------------------------------------------------------------


def _usage() -> dict[str, Any]:
    session = current_launch()
    # An administrator sees every course of the centre; a trainer only the launch's course.
    if session.role != "admin" and session.context_pk is None:
        raise ToolError(_l("You are not allowed to see this page."), status=403, code="forbidden_role")
    course = None if session.role == "admin" else session.context_pk
    since = quotas.month_start()
    rows = quotas.usage_by_course_and_model(session.platform_id, since, course)
    limits = quotas.quotas_for(centre.centre_config(session.platform_id))
    calls, tokens = quotas.usage_since(session.platform_id, since) if course is None else (None, None)
    return {"since": since, "rows": rows, "quotas": limits, "centre_calls": calls, "centre_tokens": tokens,
            "scope": "centre" if course is None else "course"}


@launch_required("trainer", "admin")
def usage_page():
    data = _usage()
    return render_template("llm/usage.html", launch=current_launch(), token=g.launch_token, **data)


@json_api("The AI assistant's use this month", out=UsageReportOut)
@launch_required("trainer", "admin")
def usage_json():
    data = _usage()
    return UsageReportOut().dump({
        "since": data["since"].isoformat() + "Z", "scope": data["scope"], "rows": data["rows"],
        "centre": None if data["scope"] != "centre" else {
            "calls": data["centre_calls"], "tokens": data["centre_tokens"],
            "monthly_calls_quota": data["quotas"].centre_monthly_calls,
            "monthly_tokens_quota": data["quotas"].centre_monthly_tokens}})
