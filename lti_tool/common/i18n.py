"""Which language a response speaks: French first, English second."""

from __future__ import annotations

from flask import current_app, g, request


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
