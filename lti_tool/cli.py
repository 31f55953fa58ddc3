"""`flask --app wsgi lti-tool …`: administration commands, grouped by area."""

from __future__ import annotations

import json
import os

import click
from flask import current_app
from flask.cli import AppGroup
from marshmallow import ValidationError

from .demo.cli import seed_demo_class_command
from .records import privacy
from .extensions import db
from .gradebook.worker import worker_command
from .lti import keys as lti_keys
from .lti import services as lti_services
from .lti.schemas import DeploymentsSchema, ManualPlatformSchema
from .llm import services as llm_services
from .llm.cli import llm_config, llm_test

cli = AppGroup("lti-tool", help="Mentorat IA administration.")
cli.add_command(llm_config)
cli.add_command(llm_test)
cli.add_command(worker_command)  # `flask lti-tool worker`: the grade outbox
cli.add_command(seed_demo_class_command)  # a class at work, to try the trainer's pages on


@cli.command("rotate-keys")
@click.option("--grace", type=int, default=None,
              help="Seconds the previous key stays published once the new one signs (default: KEY_ROTATION_GRACE).")
@click.option("--publish-ahead", type=int, default=lti_keys.JWKS_MAX_AGE, show_default=True,
              help="Seconds the new key is published before it signs (the JWKS cache lifetime).")
def rotate_keys(grace: int | None, publish_ahead: int) -> None:
    """Add a new signing key; retire the previous ones after a grace period."""
    grace = current_app.config["KEY_ROTATION_GRACE"] if grace is None else grace
    purged = lti_keys.purge_expired_keys()
    new_key, retired = lti_keys.rotate_keys(grace, publish_ahead)
    db.session.commit()
    starts = f"signs from {new_key.signs_from:%Y-%m-%d %H:%M:%S} UTC" if new_key.signs_from else "signs now"
    click.echo(f"New signing key: {new_key.kid} (published now, {starts})")
    for key in retired:
        click.echo(f"Retiring key {key.kid}: published until {key.retire_at:%Y-%m-%d %H:%M} UTC")
    if purged:
        click.echo(f"Deleted {purged} key(s) past their grace period.")


@cli.command("registration-url")
@click.option("--ttl", type=int, default=None, help="Seconds the URL stays valid (default: REGISTRATION_INVITE_TTL).")
def registration_url(ttl: int | None) -> None:
    """Print a one-time dynamic registration URL to paste into Moodle (last line).

    The URL is on the tool's base URL (TOOL_BASE_URL): the command says which one it used and
    where it came from, since Moodle sends the administrator there and a tool answering on
    another address (another port) would leave them on a dead page.
    """
    ttl = current_app.config["REGISTRATION_INVITE_TTL"] if ttl is None else ttl
    token = lti_services.create_invite(ttl)
    db.session.commit()
    base_url = current_app.config["TOOL_BASE_URL"]
    if os.environ.get("TOOL_BASE_URL"):
        source = "from TOOL_BASE_URL"
    else:
        source = "the default: TOOL_BASE_URL is not set"
    click.echo(f"Tool base URL: {base_url} ({source}). It must be the address the running tool answers on; "
               f"to change it, set TOOL_BASE_URL (or, beside `PORT=… make run`, run `PORT=… make registration-url`).")
    hours = ttl / 3600
    click.echo(f"Paste this URL in Moodle (Site administration > Plugins > External tool > Manage tools > "
               f"Tool URL). Valid once, for {hours:g} hour(s):")
    click.echo(f"{base_url}/lti/register?invite={token}")


def _no_platform(issuer: str, client_id: str):
    click.echo(f"Error: no platform {issuer} with client id {client_id} (see list-platforms).", err=True)
    raise SystemExit(1)


def _load_or_exit(schema, values: dict):
    """`values` loaded by `schema`, or each problem printed and exit status 2."""
    try:
        return schema.load(values)
    except ValidationError as exc:
        for field, problems in exc.normalized_messages().items():
            click.echo(f"Error: {field}: {'; '.join(map(str, problems))}", err=True)
        raise SystemExit(2) from exc


@cli.command("add-platform")
@click.option("--issuer", required=True, help="Platform ID (issuer), e.g. https://moodle.example.org")
@click.option("--client-id", required=True, help="Client ID given by the platform.")
@click.option("--deployment-id", "deployment_ids", multiple=True, required=True, help="Deployment ID (repeatable).")
@click.option("--auth-url", required=True, help="Authentication request URL (…/mod/lti/auth.php on Moodle).")
@click.option("--token-url", required=True, help="Access token URL (…/mod/lti/token.php on Moodle).")
@click.option("--jwks-url", required=True, help="Public keyset URL (…/mod/lti/certs.php on Moodle).")
@click.option("--audience", default=None, help="Token audience, if the platform needs one.")
@click.option("--name", default="", help="A name for this platform, e.g. the centre's name.")
def add_platform(issuer, client_id, deployment_ids, auth_url, token_url, jwks_url, audience, name) -> None:
    """Register a platform by hand (platforms without dynamic registration)."""
    data = _load_or_exit(ManualPlatformSchema(), {
        "issuer": issuer, "client_id": client_id, "deployment_ids": list(deployment_ids),
        "auth_login_url": auth_url, "auth_token_url": token_url, "key_set_url": jwks_url,
        "auth_audience": audience, "name": name,
    })
    platform = lti_services.save_platform(lti_services.PlatformSpec(
        issuer=data["issuer"], client_id=data["client_id"], deployment_ids=tuple(data["deployment_ids"]),
        auth_login_url=data["auth_login_url"], auth_token_url=data["auth_token_url"],
        key_set_url=data["key_set_url"], auth_audience=data["auth_audience"], name=data["name"], method="manual",
    ))
    db.session.commit()
    click.echo(f"Platform {platform.id} registered: {platform.issuer} (client {platform.client_id}), "
               f"deployments: {', '.join(data['deployment_ids'])}")


@cli.command("add-deployment")
@click.option("--issuer", required=True, help="Platform ID (issuer) of a registered platform.")
@click.option("--client-id", required=True, help="Its client ID.")
@click.option("--deployment-id", "deployment_ids", multiple=True, required=True, help="Deployment ID (repeatable).")
def add_deployment(issuer, client_id, deployment_ids) -> None:
    """Add deployment ids to a registered platform (e.g. one whose registration named none)."""
    data = _load_or_exit(DeploymentsSchema(), {"issuer": issuer, "client_id": client_id,
                                               "deployment_ids": list(deployment_ids)})
    try:
        platform, added = lti_services.add_deployments(data["issuer"], data["client_id"], data["deployment_ids"])
    except LookupError:
        _no_platform(issuer, client_id)
    db.session.commit()
    click.echo(f"Platform {platform.id}: added {', '.join(added) if added else 'nothing (already known)'}.")


@cli.command("list-platforms")
def list_platforms() -> None:
    """List registered platforms."""
    for platform in lti_services.list_platforms():
        deployments = ", ".join(d.deployment_id for d in platform.deployments) or "-"
        click.echo(f"{platform.id}\t{platform.issuer}\t{platform.client_id}\t{platform.registration_method}\t{deployments}")


@cli.command("purge")
def purge() -> None:
    """Delete expired launch sessions and keys past their grace period; remove the texts of AI
    calls past their centre's retention period (their figures stay). Run it daily."""
    sessions = lti_services.purge_expired_sessions()
    keys = lti_keys.purge_expired_keys()
    texts = llm_services.purge_expired_texts()
    db.session.commit()
    click.echo(f"Deleted {sessions} expired launch session(s) and {keys} retired key(s); removed the texts of "
               f"{texts} AI call(s) past their centre's retention period.")


def _person_or_exit(issuer: str, client_id: str, sub: str):
    person = lti_services.user_by_sub(issuer, client_id, sub)
    if person is None:
        click.echo(f"Error: platform {issuer} (client {client_id}) knows no user {sub!r} here.", err=True)
        raise SystemExit(1)
    return person


_PLATFORM_OPTIONS = [
    click.option("--issuer", required=True, help="Platform ID (issuer), as list-platforms shows it."),
    click.option("--client-id", required=True, help="Its client ID."),
]
_PERSON_OPTIONS = _PLATFORM_OPTIONS + [
    click.option("--sub", required=True, help="The person's user id on the platform (Moodle: the user id in their profile URL)."),
]


def _with_options(options):
    def decorate(command):
        for option in reversed(options):
            command = option(command)
        return command
    return decorate


_platform_options = _with_options(_PLATFORM_OPTIONS)
_person_options = _with_options(_PERSON_OPTIONS)


@cli.command("export-person")
@_person_options
@click.option("--output", "-o", type=click.File("w", encoding="utf-8"), default="-",
              help="File to write (default: standard output).")
def export_person(issuer, client_id, sub, output) -> None:
    """Everything stored about one person on a platform, as JSON (GDPR right of access)."""
    person = _person_or_exit(issuer, client_id, sub)
    data = privacy.export_person(person)
    json.dump(data, output, ensure_ascii=False, indent=2)
    output.write("\n")
    db.session.commit()  # the register's entry, once the export is written


@cli.command("erase-person")
@_person_options
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def erase_person(issuer, client_id, sub, yes) -> None:
    """Erase one person's data on a platform (GDPR right of erasure). Cannot be undone."""
    person = _person_or_exit(issuer, client_id, sub)
    if not yes:
        click.confirm(f"Erase every record of {person.name or sub!r} on {issuer}? This cannot be undone", abort=True)
    erased = privacy.erase_person(person)
    db.session.commit()
    deleted = ", ".join(f"{table} {count}" for table, count in sorted(erased.rows_deleted.items())) or "none"
    click.echo(f"Erased user {sub}: rows deleted: {deleted}; AI calls kept without their texts: {erased.ai_calls_blanked}.")


@cli.command("privacy-register")
@_platform_options
def privacy_register(issuer, client_id) -> None:
    """The platform's personal data exports and erasures, latest first (tab-separated)."""
    platform = lti_services.platform_by_keys(issuer, client_id)
    if platform is None:
        _no_platform(issuer, client_id)
    for entry in privacy.register_of(platform.id):
        rows = ", ".join(f"{table} {count}" for table, count in sorted(entry.rows.items()))
        click.echo("\t".join([f"{entry.at:%Y-%m-%d %H:%M:%S}Z", entry.kind, entry.subject_sub or "-",
                              entry.subject or "-", entry.actor or entry.channel, rows]))
