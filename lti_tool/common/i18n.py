"""Which language a response speaks: French first, English second."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones
from typing import Any

import flask_babel
from flask import Flask, current_app, g, has_request_context, request
from flask_babel import LazyString


def normalise_locale(value: str | None) -> str | None:
    """Map 'fr-FR', 'en_GB', 'EN' … to a supported language code, or None."""
    if not value or not isinstance(value, str):
        return None
    code = value.replace("_", "-").split("-", 1)[0].strip().lower()
    return code if code in current_app.config["SUPPORTED_LOCALES"] else None


def select_locale() -> str:
    """Flask-Babel locale selector.

    Order: the locale a view fixed for this request (launch session, LTI
    `launch_presentation.locale`), an explicit `?lang=`, the browser's Accept-Language, French.
    """
    chosen = getattr(g, "locale", None)
    if chosen:
        return chosen
    if not has_request_context():  # the CLI, the grade worker
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    explicit = normalise_locale(request.args.get("lang"))
    if explicit:
        return explicit
    best = request.accept_languages.best_match(current_app.config["SUPPORTED_LOCALES"])
    return best or current_app.config["BABEL_DEFAULT_LOCALE"]


def use_locale(value: str | None) -> None:
    """Fix this request's language if `value` names a supported one."""
    locale = normalise_locale(value)
    if locale:
        g.locale = locale
        flask_babel.refresh()  # Flask-Babel may have settled on another language already


def valid_timezone(name: str | None) -> bool:
    """Whether `name` is a time zone of the IANA database ("Europe/Paris")."""
    if not name or not isinstance(name, str) or name not in available_timezones():
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def select_timezone() -> str | None:
    """Flask-Babel time zone selector: the centre's (the launch's platform), else None, which
    Flask-Babel reads as the operator's TIMEZONE (BABEL_DEFAULT_TIMEZONE)."""
    return g.get("timezone") if has_request_context() else None


def use_timezone(name: str | None) -> None:
    """Show this request's times in the centre's time zone `name` (None: the operator's)."""
    if valid_timezone(name) and g.get("timezone") != name:
        g.timezone = name
        flask_babel.refresh()


def translations() -> Any:
    """The request's translations, looked up once per request and language.

    Flask-Babel looks them up again for every string (several context lookups each time), which
    a page with a hundred strings feels. Outside a request, Flask-Babel's own lookup.
    """
    if not has_request_context():
        return flask_babel.get_translations()
    request_g = g._get_current_object()  # one context lookup, not one per attribute
    key = request_g.get("locale")
    cached = request_g.get("i18n_translations")
    if cached is None or cached[0] != key:
        cached = request_g.i18n_translations = (key, flask_babel.get_translations())
    return cached[1]


def gettext(string: str, **variables: Any) -> str:
    """flask_babel.gettext through the request's translations."""
    text = translations().ugettext(string)
    return text % variables if variables else text


def lazy_gettext(string: str, **variables: Any) -> LazyString:
    """flask_babel.lazy_gettext through the request's translations (translated when rendered)."""
    return LazyString(gettext, string, **variables)


def install_template_gettext(app: Flask) -> None:
    """Templates' `_()` through the request's translations (after Flask-Babel's init_app)."""
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: translations().ugettext(s),
        ngettext=lambda s, p, n: translations().ungettext(s, p, n),
        pgettext=lambda c, s: translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: translations().unpgettext(c, s, p, n),
        newstyle=True,
    )


def missing_catalogues(directory: Path, locales: tuple[str, ...], source_locale: str = "en") -> list[str]:
    """The supported languages whose compiled catalogue (`messages.mo`) is not in `directory`: the
    interface would silently show them the English source strings."""
    return [locale for locale in locales
            if locale != source_locale and not (directory / locale / "LC_MESSAGES" / "messages.mo").is_file()]


# One way to write a time per language, on a 24-hour clock: "03/12/2026 18:05", "3 Dec 2026, 18:05".
TIME_FORMATS = {"fr": "dd/MM/yyyy HH:mm", "en": "d MMM yyyy, HH:mm"}


def local_time(value: datetime | str | None, seconds: bool = False) -> str:
    """A stored time (naive UTC, as every datetime here, or its ISO text from a JSON column) as
    the reader's language writes it, in the centre's time zone (its setting, else TIMEZONE):
    "03/12/2026 18:05"; with `seconds`, for receipts, "03/12/2026 18:05:07 (UTC+01:00)".
    The one helper every page and every time a page's script shows (sent formatted) goes through."""
    if not value:
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    pattern = TIME_FORMATS.get(flask_babel.get_locale().language, TIME_FORMATS["en"])
    if not seconds:
        return flask_babel.format_datetime(moment, pattern)
    written = flask_babel.format_datetime(moment, pattern.replace("HH:mm", "HH:mm:ss"))
    return f"{written} (UTC{flask_babel.format_datetime(moment, 'xxx')})"
