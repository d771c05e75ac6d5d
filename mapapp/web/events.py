"""Projects' visits and events for the public: the index of projects (``/projects``) and each
project's calendar (``/projects/<slug>/events.ics``)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Response, render_template, request, url_for

from .. import catalogue, ics
from ..catalogue import insights as store
from ..catalogue import visitreads
from ..errors import NotFound
from . import cold
from .db import get_db
from .i18n import current_language
from .visitview import dates_of

bp = Blueprint("events", __name__)


def _project_url(slug: str) -> str:
    """The project page on the site's public address (``cold.public_base``), never the
    request's Host: a calendar is kept and shared."""
    return cold.public_base() + url_for("insights.project", slug=slug)


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
    body = ics.project_calendar(project, visitreads.visits_of_project(db, project["id"]), lang,
                                     host=urlsplit(url).hostname or "localhost", project_url=url,
                                     name=project["names"].get(lang) or project["name"])
    response.set_data(body)
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Content-Disposition"] = f'inline; filename="{slug}.ics"'
    response.headers["Cache-Control"] = "public, no-cache"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response.make_conditional(request)
