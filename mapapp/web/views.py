"""Public HTML pages: the map, the directory, organisation pages and the health check."""

from __future__ import annotations

import math
from urllib.parse import urlencode

from flask import Blueprint, current_app, jsonify, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from .. import catalogue, vocab
from ..errors import BadRequest, MapappError, NotFound
from ..filters import Filters
from ..mapdata import mapindex
from ..mapdata.shell import map_shell
from ..params import whole_number
from .api import facet_options, map_index
from .db import get_db
from .i18n import current_language
from .security import csp_nonce

bp = Blueprint("views", __name__)
DIRECTORY_PAGE_SIZE = 25


@bp.app_context_processor
def inject_helpers() -> dict:
    return {"vocab": vocab, "lang": current_language(), "site_name": current_app.config["SITE_NAME"],
            "url_with": url_with}


def url_with(**changes) -> str:
    """The current page's URL with some query parameters changed (None removes one)."""
    args = request.args.to_dict(flat=False)
    for key, value in changes.items():
        if value is None:
            args.pop(key, None)
        else:
            args[key] = [value]
    if request.endpoint is None:  # an error page for an unknown address
        return request.path + "?" + urlencode(args, doseq=True)
    return url_for(request.endpoint, **(request.view_args or {}), **args)


def _answers_json() -> bool:
    """The API and oEmbed answer errors in the API's JSON shape; pages with a page."""
    return request.path.startswith("/api/") or request.path == "/oembed"


@bp.app_errorhandler(MapappError)
def page_error(error: MapappError):
    if _answers_json():
        return jsonify({"ok": False, "error": error.message, "status": error.status,
                        **({"parameter": error.parameter} if error.parameter else {})}), error.status
    return render_template("error.html", status=error.status, message=error.message), error.status


@bp.app_errorhandler(413)
def too_large(error):
    limit = current_app.config["UPLOAD_MAX_MB"]
    return render_template("error.html", status=413, message=_(
        "The file is larger than %(limit)s MB. Split it, or remove columns the map does not need.",
        limit=limit)), 413


@bp.app_errorhandler(404)
def not_found(error):
    if _answers_json():
        return jsonify({"ok": False, "error": "not found", "status": 404}), 404
    return render_template("error.html", status=404, message=_("This page does not exist.")), 404


@bp.app_errorhandler(HTTPException)
def http_error(error: HTTPException):
    """Every other HTTP error: the API's JSON shape under /api/, the error page elsewhere."""
    status = error.code or 500
    headers = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
    if _answers_json():
        message = "the API is read-only: use GET" if status == 405 else error.description
        return jsonify({"ok": False, "error": message, "status": status}), status, headers
    return render_template("error.html", status=status, message=error.description), status, headers


def _filter_panel(db, filters: Filters) -> dict:
    snapshot = map_index().get(db)
    counts = mapindex.facet_counts(snapshot, filters, db)
    return {"options": facet_options(db, counts, current_language()), "filters": filters,
            "total": int(mapindex.selection(snapshot, filters, db).sum())}


def map_context(filters: Filters, *, locked: tuple[str, ...] = (), extra: dict | None = None) -> dict:
    """What the map templates need: the folium shell, settings for map.js, the filter panel.
    Locked kinds (embeds) offer only their locked values."""
    db = get_db()
    shell = map_shell(
        tile_url=current_app.config["TILE_URL"],
        attribution=current_app.config["TILE_ATTRIBUTION"],
        max_zoom=current_app.config["TILE_MAX_ZOOM"],
        asset_url=lambda path: url_for("static", filename=path),
        nonce=csp_nonce(),
    )
    settings = {
        "mapName": shell.name,
        "lang": current_language(),
        "page": url_for("views.organisation", slug="SLUG"),
        "locked": {kind: list(getattr(filters, kind)) for kind in locked},
        "api": {"clusters": url_for("api.clusters"), "facets": url_for("api.facets"),
                "organisations": url_for("api.organisations"),
                "organisation": url_for("api.organisation", slug="SLUG")},
        "i18n": {
            "loading": _("Loading organisations…"),
            "inView": _("%(n)s organisations in view"),
            "oneInView": _("1 organisation in view"),
            "noneInView": _("No organisation in this part of the map. Zoom out or change the filters."),
            "error": _("The organisations could not be loaded. Try reloading the page."),
            "more": _("Zoom in to see the others."),
            "fictional": _("Fictional demo organisation"),
            "cluster": _("%(n)s organisations: zoom in"),
            "total": _("%(n)s organisations"),
            "totalOne": _("1 organisation"),
        },
        **(extra or {}),
    }
    panel = _filter_panel(db, filters)
    for kind in locked:
        allowed = set(getattr(filters, kind))
        panel["options"][kind] = [o for o in panel["options"][kind] if o["value"] in allowed]
    return {"shell": shell, "settings": settings, "fictional": catalogue.has_fictional(db), **panel}


@bp.get("/")
def index():
    """The map with filters and the list of organisations in view."""
    return render_template("index.html", **map_context(Filters.from_args(request.args)))


@bp.get("/organisations")
def directory():
    """The directory: the same filters, a paginated list, no JavaScript needed."""
    filters = Filters.from_args(request.args)
    db = get_db()
    total = catalogue.count_organisations(db, filters)
    pages = max(1, math.ceil(total / DIRECTORY_PAGE_SIZE))
    try:
        page = whole_number(request.args.get("page"), "page", default=1, low=1, high=pages)
    except BadRequest:
        raise BadRequest(_("page: there are %(pages)s pages of results", pages=pages), parameter="page") from None
    orgs = catalogue.find_organisations(db, filters, limit=DIRECTORY_PAGE_SIZE,
                                        offset=(page - 1) * DIRECTORY_PAGE_SIZE)
    panel = _filter_panel(db, filters)
    return render_template("directory.html", orgs=orgs, page=page, pages=pages, page_size=DIRECTORY_PAGE_SIZE,
                           fictional=catalogue.has_fictional(db), **{**panel, "total": total})


@bp.get("/organisations/<slug>")
def organisation(slug: str):
    """One published organisation's page, with its matches."""
    db = get_db()
    org = catalogue.get_organisation(db, slug)
    if org is None:
        raise NotFound(_("There is no published organisation at this address."))
    return render_template("organisation.html", org=org, matches=catalogue.matches(db, org["id"]),
                           fictional=org["source"] == catalogue.FICTIONAL_SOURCE,
                           jsonld=organisation_jsonld(org))


def organisation_jsonld(org: dict) -> dict:
    """schema.org ``Organization`` data for search engines and other maps."""
    lang = current_language()
    data = {
        "@context": "https://schema.org",
        "@type": "Organization",
        "name": org["name"],
        "url": url_for("views.organisation", slug=org["slug"], _external=True),
        "address": {"@type": "PostalAddress", "streetAddress": org["street"] or None,
                    "postalCode": org["postcode"] or None, "addressLocality": org["city"] or None,
                    "addressRegion": org["region"] or None, "addressCountry": org["country"]},
        "knowsAbout": [vocab.themes().label(t, lang) for t in org["themes"]] or None,
        "description": org["descriptions"].get(lang) or org["description"] or None,
        "email": org["email"] or None,
        "telephone": org["phone"] or None,
        "sameAs": org["website"] or None,
    }
    if org["lat"] is not None:
        data["geo"] = {"@type": "GeoCoordinates", "latitude": org["lat"], "longitude": org["lon"]}
    data["address"] = {k: v for k, v in data["address"].items() if v is not None}
    return {k: v for k, v in data.items() if v is not None}


@bp.get("/healthz")
def healthz():
    """200 with the organisation count while the catalogue answers, 503 otherwise."""
    try:
        count = catalogue.organisation_count(get_db())
    except Exception as e:  # any failure to read the catalogue means "unhealthy"
        current_app.logger.exception("health check failed")
        return jsonify({"ok": False, "error": f"catalogue unavailable: {type(e).__name__}",
                        "status": 503}), 503
    return jsonify({"ok": True, "organisations": count})
