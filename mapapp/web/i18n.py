"""The visitor's language: ``?lang=``, then a cookie, then Accept-Language (Flask-Babel)."""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime, timezone
from functools import cache

from flask import Flask, Response, current_app, g, request
from flask_babel import Babel, format_date, format_datetime, get_locale

from ..translate import translated
from ..vocab import DEFAULT_LANGUAGE, LANGUAGE_NAMES, LANGUAGES

COOKIE = "lang"
TZ_COOKIE = "tz"  # set by static/js/staff.js from the browser's own time zone
NAMES = LANGUAGE_NAMES  # vocab's, the one list of languages


def select_language() -> str:
    """The language of this request."""
    asked = (request.args.get("lang") or "").lower()
    if asked in LANGUAGES:
        return asked
    remembered = request.cookies.get(COOKIE, "")
    if remembered in LANGUAGES:
        return remembered
    return request.accept_languages.best_match(LANGUAGES) or DEFAULT_LANGUAGE


def select_timezone() -> str:
    """The staff member's time zone, as their browser told it (``tz`` cookie), else the setting."""
    told = request.cookies.get(TZ_COOKIE, "")
    if told and told in _zones():
        return told
    return current_app.config.get("TIMEZONE") or "UTC"


@cache
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def when(value: str | None) -> str:
    """An ISO timestamp of the catalogue (UTC) as a date and time in the visitor's language
    and time zone: "2 déc. 2026, 08:18:45"."""
    if not value:
        return ""
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return str(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return format_datetime(moment, "medium")


def day(value: str | None) -> str:
    """An ISO date (or the day of a timestamp) written in the visitor's language, as public
    pages show it: "6 décembre 2026", not 2026-12-06."""
    try:
        found = date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return str(value)
    return format_date(found, "long") if found else ""


def current_language() -> str:
    """The language code ("en", "fr", …) of the current request."""
    return str(get_locale() or DEFAULT_LANGUAGE)


def remember_language(response: Response) -> Response:
    """Keep a language chosen with ``?lang=`` for the next pages."""
    asked = (request.args.get("lang") or "").lower()
    if g.get("same_for_everyone") or g.get("same_page_for_everyone"):  # kept by a shared cache (web.apihttp): no cookie
        return response
    if asked in LANGUAGES and request.cookies.get(COOKIE) != asked:
        response.set_cookie(COOKIE, asked, max_age=365 * 24 * 3600, samesite="Lax",
                            secure=request.is_secure, httponly=True)
    return response


def init_app(app: Flask) -> None:
    """Set up Flask-Babel with the translations in mapapp/translations."""
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LANGUAGE)
    Babel(app, locale_selector=select_language, timezone_selector=select_timezone)
    app.after_request(remember_language)
    app.jinja_env.globals.update(LANGUAGES=LANGUAGES, LANGUAGE_NAMES=NAMES)
    # Messages from the working modules (import reports…) in the visitor's language.
    app.jinja_env.filters["tr"] = lambda text: translated(text, current_language())
    app.jinja_env.filters["when"] = when
    app.jinja_env.filters["day"] = day
