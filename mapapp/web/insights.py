"""Insights pages: ``/stats`` (the network at a glance, filtered like the map), each chart
as PNG, SVG or CSV, a project's page and its PDF report. Staff may include drafts."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

from flask import Blueprint, Response, abort, current_app, make_response, render_template, request
from flask_login import current_user

from .. import catalogue, coldwork
from ..catalogue import demo as demo_rows
from ..errors import BadRequest, NotFound, ServiceUnavailable
from ..filters import Filters
from ..insights import charts, numbers, report, stored, views
from ..mapdata import mapindex
from ..params import whole_number
from . import cold, jobqueue, visitview
from .db import get_db
from .i18n import current_language
from .mapcontext import filter_panel, map_index, shows_fictional

bp = Blueprint("insights", __name__)
# Figures and pictures per catalogue version and request: drawn once, shown again at once.
_FIGURES = views.VersionCache(size=128)
_PICTURES = views.VersionCache(size=512)
LISTS = ("unmet", "partnerships")
MIME = {**charts.FORMATS, "csv": "text/csv; charset=utf-8", "pdf": "application/pdf"}


def _statuses() -> tuple[str, ...]:
    """Published organisations; staff who ask (``drafts=1``) see drafts too."""
    if request.args.get("drafts") == "1" and current_user.is_authenticated:
        return ("draft", "published")
    return ("published",)


def _version() -> str:
    """What the cached figures and pictures are valid for: the catalogue's state key (another
    catalogue, a new version, a restored backup at the same version are each another)."""
    return catalogue.state_key(get_db())


def _km() -> int:
    return whole_number(request.args.get("km"), "km", default=numbers.DEFAULT_KM, low=1, high=numbers.MAX_KM)


def _cold(make):
    """``make`` within the asking client's budget of cold work (it runs only when nothing is
    kept for its key, and once for all who ask for that key meanwhile)."""
    def limited():
        with cold.limiter().slot(cold.client(), wait=coldwork.DRAWING_WAIT):
            return make()
    return limited


# The figures of /stats per selection: after a change, the previous ones are served (with
# their date) while the new ones are counted, STATS_DEBOUNCE seconds after the first request
# that found them old (changes in a burst are counted once): by the job worker when one runs
# (once for every web worker, kept in files: ``insights.stored``), else in a thread of this one.
STATS_DEBOUNCE = 1.0


def _stats_kept() -> views.Refreshed:
    """This app's latest /stats figures (see ``views.Refreshed``)."""
    return current_app.extensions.setdefault("mapapp.stats", views.Refreshed(size=128))


def _stats_figures(filters: Filters, km: int, statuses: tuple[str, ...]) -> tuple[numbers.Insights, str]:
    """The figures, and "" when they are the catalogue's now, else the time of the state
    they were counted at (new ones are being counted)."""
    db = get_db()
    state = catalogue.state(db)
    # Of this catalogue's lineage only: a restored backup is not shown another's figures.
    args = tuple(sorted(filters.to_args().items()))
    key = ("stats", state.lineage, args, km, statuses)
    kept = _stats_kept().latest(key)
    if kept is not None and kept.state == state.key:
        return kept.value, ""
    selection = stored.Selection(state.lineage, args, km, statuses)
    jobs = jobqueue.current()
    large = map_index().get(db).size >= mapindex.BACKGROUND_FROM
    if large and jobs.worker_running():  # the job worker counts for every web worker
        found = stored.read(stored.folder(current_app.config["CACHE_DIR"]), selection)
        if found is not None:
            _stats_kept().keep(key, views.Kept(found.value, found.state, found.as_of))
            if found.state == state.key:
                return found.value, ""
            jobs.stats(selection)
            return found.value, found.as_of or state.changed_at
    elif large and kept is not None:
        _stats_kept().refresh(key, _counted_later(key, filters, km, statuses))
        return kept.value, kept.as_of or state.changed_at
    # (A small catalogue is counted again at once, well under a second: staff see their change.)

    def make() -> numbers.Insights:  # never counted for this selection: counted now, once for all who ask
        columns = map_index().get(db)
        value = numbers.compute(db, filters, km=km, statuses=statuses, columns=columns)
        fresh = "draft" in statuses or columns.version == state.version  # else the map's columns are being read
        _stats_kept().keep(key, views.Kept(value, state.key if fresh else "", state.changed_at))
        if fresh:  # for the other web workers too
            stored.write(stored.folder(current_app.config["CACHE_DIR"]), selection,
                         stored.Stored(value, state.key, state.changed_at))
        return value

    return _FIGURES.get(state.key, key, _cold(make)), ""


def _counted_later(key: tuple, filters: Filters, km: int, statuses: tuple[str, ...]):
    """The work of the thread that counts a selection's figures again (see ``_stats_kept``)."""
    app, kept = current_app._get_current_object(), _stats_kept()

    def work() -> None:
        time.sleep(STATS_DEBOUNCE)
        with app.app_context():
            db = get_db()
            index = map_index()
            index.get(db)
            index.wait()  # a large import's columns being read: count from them, not the previous ones
            state = catalogue.state(db)
            columns = index.get(db)
            value = numbers.compute(db, filters, km=km, statuses=statuses, columns=columns)
            fresh = "draft" in statuses or columns.version == state.version
            kept.keep(key, views.Kept(value, state.key if fresh else "", state.changed_at))
    return work


def _project_figures(slug: str, lang: str, statuses: tuple[str, ...]) -> report.ProjectFigures:
    db = get_db()
    figures = _FIGURES.get(_version(), ("project", slug, lang, statuses),
                           _cold(lambda: report.project_figures(db, slug, lang, statuses=statuses,
                                                                columns=map_index().get(db))))
    if figures is None:
        raise NotFound(f"no project '{slug}'")
    return figures


@bp.get("/stats")
def stats():
    """The network at a glance: charts with their tables, needs against offers, the unmet
    needs and the possible partnerships, for the map's filters."""
    filters = Filters.from_args(request.args)
    km, statuses = _km(), _statuses()
    lang = current_language()
    found, as_of = _stats_figures(filters, km, statuses)
    keep = {"km": km} if km != numbers.DEFAULT_KM else {}  # what the filter form must not forget
    if "draft" in statuses:
        keep["drafts"] = "1"
    projects = catalogue.project_and_visit_names(get_db(), lang)["project"]
    response = make_response(render_template(
        "stats.html", found=found, charts=views.charts_of(found, lang), km=km, keep=keep, as_of=as_of,
        projects=projects, fictional=shows_fictional(get_db(), filters),
        drafts="draft" in statuses, **filter_panel(get_db(), filters, bounds=False)))
    if as_of:  # new figures are being counted: not to be kept by a cache as the current ones
        response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/stats/<name>.<fmt>")
def stats_chart(name: str, fmt: str):
    """One chart of ``/stats`` as PNG or SVG, or its table (or a list) as CSV."""
    filters = Filters.from_args(request.args)
    km, statuses = _km(), _statuses()
    if name not in views.BY_DISTANCE:  # the same figures and picture whatever the distance
        km = numbers.DEFAULT_KM
    lang = current_language()
    found, as_of = _stats_figures(filters, km, statuses)
    key = ("stats", name, fmt, tuple(sorted(filters.to_args().items())), km, statuses, lang, as_of)
    return _file(key, found, name, fmt, lang, f"stats-{name}", as_of=as_of)


@bp.get("/projects/<slug>")
def project(slug: str):
    """A project's page: its visits, members by country and on a map, their needs and
    offers, and the partnerships among them."""
    statuses = _statuses()
    lang = current_language()
    figures = _project_figures(slug, lang, statuses)
    timeline = visitview.timeline(figures.visits, lang)
    places = [{"title": v["shown_title"], "when": v["when"], "kind": v["kind"], "place": v["place"] or v["city"],
               "lat": v["lat"], "lon": v["lon"]} for v in timeline if v["lat"] is not None and v["lon"] is not None]
    return render_template("project.html", figures=figures, found=figures.found, charts=figures.charts,
                           timeline=timeline, places=places,
                           drafts="draft" in statuses, fictional=demo_rows.project_has_fictional(get_db(), slug))


@bp.get("/projects/<slug>/<name>.<fmt>")
def project_chart(slug: str, name: str, fmt: str):
    """One chart of a project's page (PNG, SVG, CSV), or its report as PDF (``report.pdf``)."""
    statuses = _statuses()
    lang = current_language()
    figures = _project_figures(slug, lang, statuses)
    if name == "report" and fmt == "pdf":
        try:
            body = _report_pdf(slug, lang, statuses)
        except report.ReportError as e:
            raise ServiceUnavailable(str(e)) from e
        if body is None:  # the worker is making it: a page that asks again by itself
            page = make_response(render_template("report_preparing.html", figures=figures), 202)
            page.headers["Refresh"] = str(REPORT_REFRESH)
            page.headers["Retry-After"] = str(REPORT_REFRESH)
            page.headers["Cache-Control"] = "no-store"
            return page
        response = Response(body, mimetype=MIME["pdf"])
        response.headers["Content-Disposition"] = f'inline; filename="{slug}-report.pdf"'
        return _cacheable(response)
    return _file(("project", slug, name, fmt, statuses, lang), figures.found, name, fmt, lang, f"{slug}-{name}",
                 chart_names=report.PROJECT_CHARTS)


# A report takes a few seconds to make; a request waits this long for the worker's, then
# answers with a page that asks again every REPORT_REFRESH seconds.
REPORT_WAIT = 5
REPORT_REFRESH = 3


def _report_pdf(slug: str, lang: str, statuses: tuple[str, ...]) -> bytes | None:
    """The report's PDF, made by the job worker once per catalogue version, project, language and
    statuses (one job for all who ask meanwhile; the worker writes it under ``CACHE_DIR``);
    None while the worker is still making it."""
    version = _version()
    folder = Path(current_app.config["CACHE_DIR"]) / "reports"
    digest = hashlib.sha256(repr((version, slug, lang, statuses)).encode()).hexdigest()[:24]
    path = folder / f"v{version}-{digest}.pdf"
    if not path.exists():
        queue = jobqueue.current()

        def asked() -> dict:  # a waiting request holds a server thread: within the client's budget
            queue.report(path, slug, lang, statuses)
            return queue.wait_for_report(path, REPORT_WAIT)

        job = _cold(asked)()
        if not path.exists():
            if job.get("state") in ("queued", "running") and not job.get("worker_missing"):
                return None
            raise report.ReportError(job.get("worker_missing") or job.get("message")
                                     or "the report could not be made: ask again in a minute")
        for old in folder.glob("v*.pdf"):  # the reports of other catalogue states
            if old.name[1:].partition("-")[0] != version:
                old.unlink(missing_ok=True)
    return path.read_bytes()


def _file(key: tuple, found: numbers.Insights, name: str, fmt: str, lang: str, filename: str, *,
          chart_names: tuple[str, ...] = views.CHARTS, as_of: str = "") -> Response:
    if fmt not in MIME or fmt == "pdf":
        raise BadRequest(f"format: use png, svg or csv, not '{fmt}'", parameter="format")
    if name in LISTS:
        if fmt != "csv":
            raise BadRequest(f"{name}: a list downloads as CSV only", parameter="format")
        headings, rows = views.list_rows(found, lang)[name]
        body = views.csv_of(charts.Chart(name, "bars", name, headings, tuple(rows)))
    elif name in chart_names:
        chart = views.charts_of(found, lang, names=(name,))[name]
        titled = request.args.get("titled") != "0"  # the pages give the title above the picture
        draw = _cold(lambda: charts.draw(chart, fmt, titled=titled))  # a table is cheap; a picture is not
        body = _PICTURES.get(_version(), (*key, titled), (lambda: views.csv_of(chart)) if fmt == "csv" else draw)
    else:
        abort(404)
    response = Response(body, mimetype=MIME[fmt])
    if request.args.get("download") == "1" or fmt == "csv":
        response.headers["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    return _cacheable(response, as_of)


def _cacheable(response: Response, as_of: str = "") -> Response:
    """Kept by the browser, asked again with the catalogue's version as validator (and the
    time of the previous figures while new ones are counted)."""
    response.set_etag(f"{_version()}-{current_language()}-{_statuses()[0]}" + (f"-of-{as_of}" if as_of else ""))
    response.headers["Cache-Control"] = "private, no-cache" if current_user.is_authenticated else "public, no-cache"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response.make_conditional(request)

