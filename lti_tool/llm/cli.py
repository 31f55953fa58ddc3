"""`flask lti-tool llm-config` and `llm-test`: a centre's LLM from the command line.

The API key is read from an environment variable named on the command line, never from argv
(argv shows in `ps` and in shell history).
"""

from __future__ import annotations

import os

import click
from marshmallow import ValidationError

from ..extensions import db
from ..lti.models import Platform
from . import centre
from .schemas import LlmConfigSchema

REASONS = {
    "non_eu": "this endpoint is outside the EU; set LLM_ALLOW_NON_EU=1 in the tool's environment to allow it",
    "eu_unconfirmed": "this endpoint is not a known EU-hosted service; add --confirm-eu once you have checked it is",
    "bad_url": "the endpoint must be an http(s) URL without credentials",
    "model_required": "--model is required for this provider",
    "server_or_url": "give either --server or --base-url for Mistral, not both",
    "bad_config": "these settings cannot work with this provider",
}


def _platform(platform_id: int) -> Platform:
    platform = db.session.get(Platform, platform_id)
    if platform is None:
        raise click.ClickException(f"No platform {platform_id}; see `flask lti-tool list-platforms`.")
    return platform


@click.command("llm-config")
@click.option("--platform-id", type=int, required=True, help="The centre's platform (see list-platforms).")
@click.option("--provider", type=click.Choice(["fake", "mistral", "openai"]), required=True)
@click.option("--model", default="", help="Model name, e.g. mistral-small-latest.")
@click.option("--base-url", default=None, help="OpenAI-compatible base URL (…/v1) or a self-hosted Mistral server.")
@click.option("--server", type=click.Choice(["eu", "global", "us"]), default=None, help="Mistral server (default eu).")
@click.option("--api-key-env", default=None, metavar="VAR", help="Name of the environment variable holding the key.")
@click.option("--confirm-eu", is_flag=True, help="Confirm that a custom endpoint is hosted in the EU (recorded).")
@click.option("--temperature", type=float, default=None)
@click.option("--max-tokens", type=int, default=None)
@click.option("--timeout", type=float, default=None, help="Seconds per call, retries included.")
@click.option("--log-retention-months", type=int, default=None,
              help="Months the AI log keeps prompts and answers before `purge` removes them (default: kept as set, "
                   "else LLM_LOG_RETENTION_MONTHS).")
def llm_config(platform_id, provider, model, base_url, server, api_key_env, confirm_eu, temperature, max_tokens,
               timeout, log_retention_months) -> None:
    """Set a centre's LLM provider, model, endpoint and key (the hosting rules apply), and how
    long its AI log keeps texts."""
    _platform(platform_id)
    api_key = None
    if api_key_env:
        api_key = os.environ.get(api_key_env)
        if not api_key:
            raise click.ClickException(f"The environment variable {api_key_env} is empty or not set.")
    row = centre.centre_config(platform_id)
    values = {"provider": provider, "model": model, "base_url": base_url, "server": server,
              "temperature": temperature, "max_tokens": max_tokens, "timeout": timeout, "confirm_eu": confirm_eu}
    for name in ("quota_learner_daily_calls", "quota_learner_daily_tokens", "quota_centre_monthly_calls",
                 "quota_centre_monthly_tokens"):
        values[name] = getattr(row, name) if row is not None else None  # quotas are kept as they are
    values["log_retention_months"] = log_retention_months if log_retention_months is not None else (
        row.log_retention_months if row is not None else None)
    try:
        data = LlmConfigSchema().load(values)
    except ValidationError as exc:
        raise click.ClickException(f"Invalid value: {exc.normalized_messages()}") from None
    try:
        saved = centre.save_config(platform_id, None, centre.ConfigChange(**{**data, "api_key": api_key}))
    except centre.ConfigRefused as exc:
        raise click.ClickException(f"Refused: {REASONS.get(exc.reason, exc.reason)}.") from None
    db.session.commit()
    settings = centre.effective_settings(platform_id)
    where = centre.endpoint_url(settings) or "offline"
    key = centre.key_hint(saved) or "none"
    click.echo(f"Platform {platform_id}: {settings.provider} model={settings.model or '-'} endpoint={where} "
               f"key={key} eu_confirmed={'yes' if saved.eu_confirmed_at else 'no'} "
               f"log_retention_months={centre.log_retention_months(saved)}")


@click.command("llm-test")
@click.option("--platform-id", type=int, required=True)
def llm_test(platform_id: int) -> None:
    """Send one short message with the centre's saved settings and report the answer."""
    _platform(platform_id)
    settings = centre.effective_settings(platform_id)
    report = centre.check_connection(settings, platform_id=platform_id, user_pk=None)
    db.session.commit()
    if report.ok:
        click.echo(f"OK: {report.provider} model {report.model} answered in {report.latency_ms} ms.")
        return
    raise click.ClickException(f"{report.code}: {report.detail or 'no detail'} ({report.latency_ms} ms)")
