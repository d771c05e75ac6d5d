"""Projects' visits and events for the public: the index of projects (``/projects``), each
project's calendar (``/projects/<slug>/events.ics``), and the dates of a timeline written in
the visitor's language."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlsplit

from babel.dates import format_interval
from flask import Blueprint, Response, current_app, render_template, request, url_for
from flask_babel import format_date, get_locale

from .. import calendar, catalogue, mail
from ..catalogue import insights as store
from ..catalogue import visitreads
from ..errors import NotFound
from .db import get_db
from .i18n import DEFAULT_LANGUAGE, current_language

bp = Blueprint("events", __name__)


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


def _project_url(slug: str) -> str:
    """The project page on MAPAPP_PUBLIC_URL (this server's address until it is set)."""
    try:
        return mail.message_links(current_app)("insights.project", {"slug": slug})
    except mail.NoPublicAddress:
        return url_for("insights.project", slug=slug, _external=True)


@bp.get("/projects")
def projects():
    """The projects that are not archived: name, dates, members."""
    lang = current_language()
    listed = [{**p, "shown_name": p["names"].get(lang) or p["name"], "when": dates_of(p["start_date"], p["end_date"])}
              for p in visitreads.public_projects(get_db())]
    return render_template("projects.html", projects=listed)


@bp.get("/projects/<slug>/events.ics")
def project_calendar(slug: str):
    """A project's visits and events as an iCalendar feed, in ``?lang=``."""
    db = get_db()
    project = store.project(db, slug)
    if project is None:
        raise NotFound(f"no project '{slug}'")
    lang = current_language()
    key = catalogue.state_key(db)
    response = Response(mimetype="text/calendar")
    response.set_etag(f"{key}-{lang}")
    if request.if_none_match.contains(f"{key}-{lang}"):
        return response.make_conditional(request)
    url = _project_url(slug)
    body = calendar.project_calendar(project, visitreads.visits_of_project(db, project["id"]), lang,
                                     host=urlsplit(url).hostname or "localhost", project_url=url,
                                     name=project["names"].get(lang) or project["name"])
    response.set_data(body)
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Content-Disposition"] = f'inline; filename="{slug}.ics"'
    response.headers["Cache-Control"] = "public, no-cache"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response.make_conditional(request)
