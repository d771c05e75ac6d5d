"""The visitor's language: ``?lang=``, then a cookie, then Accept-Language (Flask-Babel)."""

from __future__ import annotations

from flask import Flask, Response, request
from flask_babel import Babel, get_locale

from ..translate import translated
from ..vocab import DEFAULT_LANGUAGE, LANGUAGES

COOKIE = "lang"
NAMES = {"en": "English", "fr": "Français", "it": "Italiano", "pl": "Polski", "el": "Ελληνικά",
         "nl": "Nederlands"}


def select_language() -> str:
    """The language of this request."""
    asked = (request.args.get("lang") or "").lower()
    if asked in LANGUAGES:
        return asked
    remembered = request.cookies.get(COOKIE, "")
    if remembered in LANGUAGES:
        return remembered
    return request.accept_languages.best_match(LANGUAGES) or DEFAULT_LANGUAGE


def current_language() -> str:
    """The language code ("en", "fr", …) of the current request."""
    return str(get_locale() or DEFAULT_LANGUAGE)


def remember_language(response: Response) -> Response:
    """Keep a language chosen with ``?lang=`` for the next pages."""
    asked = (request.args.get("lang") or "").lower()
    if asked in LANGUAGES and request.cookies.get(COOKIE) != asked:
        response.set_cookie(COOKIE, asked, max_age=365 * 24 * 3600, samesite="Lax",
                            secure=request.is_secure, httponly=True)
    return response


def init_app(app: Flask) -> None:
    """Set up Flask-Babel with the translations in mapapp/translations."""
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LANGUAGE)
    Babel(app, locale_selector=select_language)
    app.after_request(remember_language)
    app.jinja_env.globals.update(LANGUAGES=LANGUAGES, LANGUAGE_NAMES=NAMES)
    # Messages from the working modules (import reports…) in the visitor's language.
    app.jinja_env.filters["tr"] = lambda text: translated(text, current_language())
