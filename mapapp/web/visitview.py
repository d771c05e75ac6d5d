"""What pages show of projects' visits and events: their dates written in the visitor's
language and their titles in it (shared by the organisation pages, the project pages and the
projects' index)."""

from __future__ import annotations

from datetime import date

from babel.dates import format_interval
from flask_babel import format_date, get_locale

from .i18n import DEFAULT_LANGUAGE


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def dates_of(start: str | None, end: str | None = None) -> str:
    """A date or a range in the visitor's language: "1 mars 2026", "1–3 mars 2026"."""
    first, last = _day(start), _day(end)
    if first is None:
        return ""
    if last is None or last <= first:
        return format_date(first, "long")
    return format_interval(first, last, "yMMMd", locale=get_locale())


def timeline(visits: list[dict], lang: str) -> list[dict]:
    """``visits`` with what a timeline shows: ``shown_title`` in ``lang`` (``fallback`` when
    the original title, in the site's default language, stands in), ``when`` written in the visitor's language."""
    return [{**v, "shown_title": v["titles"].get(lang) or v["title"], "fallback": not v["titles"].get(lang) and lang != DEFAULT_LANGUAGE,
             "when": dates_of(v.get("date"), v.get("end_date"))} for v in visits]
