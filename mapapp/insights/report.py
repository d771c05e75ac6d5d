"""A project's page and printable report: its visits, its members by country and on a map,
their needs and offers, and the partnerships among them; the PDF made with WeasyPrint
from the report's HTML, fetching nothing but the pictures it carries inline."""

from __future__ import annotations

import base64
import dataclasses
import re
from dataclasses import dataclass
from datetime import date

from ..catalogue import insights as store
from ..catalogue import visitreads
from ..filters import Filters
from . import charts, funders, numbers, views

PROJECT_CHARTS = ("countries", "members_map", "resources", "relations", "themes")
MEMBERS_LISTED = 1000
TEMPLATE = "project_report.html"  # rendered by the web page and by ``mapapp report`` alike


@dataclass
class ProjectFigures:
    project: dict
    name: str  # in the chosen language
    visits: list[dict]
    members: list[dict]  # the first MEMBERS_LISTED, by country then name
    found: numbers.Insights
    charts: dict[str, charts.Chart]
    statuses: tuple[str, ...]
    funder: funders.FunderFigures | None = None  # per country and kind; the timeline


def project_figures(db, slug: str, lang: str, *, statuses: tuple[str, ...] = ("published",),
                    columns=None) -> ProjectFigures | None:
    """Everything a project's page and report show; None when there is no such project.
    Partnerships among a project's members count at any distance. ``columns``: the map's,
    to count published members from (see ``numbers.compute``)."""
    project = store.project(db, slug)
    if project is None:
        return None
    found = numbers.compute(db, Filters(project=(slug,)), km=None, statuses=statuses, listed=200, columns=columns,
                            with_points=True)
    # Here a member's relation is the one it has to this project, not its own (a copy: the
    # figures of a selection may be shared with /stats).
    found = dataclasses.replace(found, by_relation=store.project_relation_counts(db, project["id"], statuses))
    return ProjectFigures(project=project, name=project["names"].get(lang) or project["name"],
                          visits=visitreads.visits_of_project(db, project["id"], statuses),
                          members=store.project_members(db, project["id"], statuses, MEMBERS_LISTED), found=found,
                          charts=views.charts_of(found, lang, names=PROJECT_CHARTS), statuses=statuses,
                          funder=funders.compute(db, project["id"], lang, statuses))


def template_values(figures: ProjectFigures, branding: dict | None = None) -> dict:
    """What ``TEMPLATE`` is rendered with; ``branding``: the logo and funding block
    (``brand.document_names``, pictures inline)."""
    return {"figures": figures, "found": figures.found, "charts": figures.charts,
            "images": inline_images(figures), "today": date.today().isoformat(), **(branding or {})}


def inline_images(figures: ProjectFigures) -> dict[str, str]:
    """The report's charts as PNG ``data:`` URIs (a PDF carries its pictures)."""
    pictures = dict(figures.charts)
    if figures.funder is not None:
        pictures["visits_map"] = figures.funder.places
    return {name: "data:image/png;base64," + base64.b64encode(charts.draw(chart, "png", titled=False)).decode("ascii")
            for name, chart in pictures.items() if not chart.empty}


# Unicode noncharacters (U+FFFE…): no font draws them, and one in a stored field gave the whole
# report's text a broken encoding (copying and screen readers read "\x00R\x00a…").
_NONCHARACTERS = re.compile("[\ufdd0-\ufdef\ufffe\uffff]")


class ReportError(RuntimeError):
    """A PDF cannot be made on this machine."""


def pdf(html: str) -> bytes:
    """The PDF of the report's HTML. Its fetcher reads ``data:`` URIs only: nothing on the
    disk or the network is read, whatever an organisation's fields contain."""
    try:
        from weasyprint import HTML  # loads Pango: only when a report is made
        from weasyprint.urls import URLFetcher
    except OSError as e:
        raise ReportError("PDF reports need Debian's Pango (apt-get install libpango-1.0-0 libpangoft2-1.0-0, "
                          f"or `make run`, which installs it): {e}") from e

    fetcher = URLFetcher(allowed_protocols={"data"}, allow_redirects=False, timeout=1)
    # Tagged (PDF/UA-1): headings, tables and the pictures' text alternatives reach screen readers.
    return HTML(string=_NONCHARACTERS.sub("", html), url_fetcher=fetcher, base_url="data:,").write_pdf(pdf_variant="pdf/ua-1")
