"""Public HTML pages: the map, the directory, organisation pages and the health check."""

from __future__ import annotations

import hashlib
import math
from urllib.parse import urlencode

from flask import Blueprint, current_app, jsonify, render_template, request, url_for
from flask_babel import gettext as _

from .. import catalogue, records, vocab
from ..catalogue import fields as field_store
from ..catalogue import images as picture_store
from ..catalogue import owners, visitreads
from ..contributing.owners import is_stale
from ..errors import BadRequest, NotFound
from ..filters import KINDS, Filters
from ..mapdata import mapindex
from ..mapdata.outlines import labels_bytes, outlines_bytes
from ..params import whole_number
from ..records import Record
from . import visitview
from .apihttp import wants_gzip
from .cold import public_base
from .db import get_db
from .errors import json_error
from .i18n import current_language
from .mapcontext import current_shell, filter_panel, map_context, map_index, shows_fictional

bp = Blueprint("views", __name__)
DIRECTORY_PAGE_SIZE = 25


@bp.get("/")
def index():
    """The map with filters and the list of organisations in view."""
    return render_template("index.html", **map_context(Filters.from_args(request.args)))


@bp.get("/organisations")
def directory():
    """The directory: the same filters, a paginated list, no JavaScript needed."""
    filters = Filters.from_args(request.args)
    db = get_db()
    columns = map_index().get(db)
    total, _ids = mapindex.listing(columns, filters, db, limit=0)
    pages = max(1, math.ceil(total / DIRECTORY_PAGE_SIZE))
    try:
        page = whole_number(request.args.get("page"), "page", default=1, low=1, high=pages)
    except BadRequest:
        raise BadRequest(_("page: there are %(pages)s pages of results", pages=pages), parameter="page") from None
    _total, ids = mapindex.listing(columns, filters, db, limit=DIRECTORY_PAGE_SIZE,
                                   offset=(page - 1) * DIRECTORY_PAGE_SIZE)
    orgs = catalogue.organisations_by_ids(db, ids)
    panel = filter_panel(db, filters, bounds=False)  # no map on the page
    return render_template("directory.html", orgs=orgs, page=page, pages=pages, page_size=DIRECTORY_PAGE_SIZE,
                           fictional=shows_fictional(db, filters), **{**panel, "total": total})


@bp.get("/organisations/<slug>")
def organisation(slug: str):
    """One published organisation's page, with its matches."""
    db = get_db()
    org = catalogue.get_organisation(db, slug)
    if org is None:
        raise NotFound(_("There is no published organisation at this address."))
    matches = mapindex.matches(map_index().get(db), db, org)
    checked = owners.checked_at(db, org["id"])
    lang = current_language()
    org = {**org, **visitreads.record_links(db, org["id"]),  # its projects' relations and visits, for the JSON-LD
           "pictures": picture_store.pictures_of(db, org["id"]),
           "projects": sorted(org["projects"], key=lambda p: vocab.collation_key(p["names"].get(lang) or p["name"], lang))}
    field_store.attach_public(db, [org])  # the network's public fields
    return render_template("organisation.html", org=org, matches=matches,
                           visit_lines=visitview.timeline(visitreads.visits_of_organisation(db, org["id"]), lang),
                           fictional=org["source"] == catalogue.FICTIONAL_SOURCE,
                           jsonld=organisation_jsonld(org), back=back_to_list(),
                           # The site's address, never the request's Host: a shared cache keeps the page.
                           canonical=records.organisation_url(public_base(), org["slug"]),
                           checked=checked, stale=is_stale(checked, current_app.config["STALE_AFTER_DAYS"]))


def back_to_list() -> dict:
    """Where an organisation page's "back" link goes: the map, or the directory page it was
    opened from (``from=directory``), with the filters and search it was opened with."""
    kept = [(k, v) for k, v in request.args.items(multi=True) if (k in (*KINDS, "q", "lang") or k.startswith("f-")) and v]
    if request.args.get("from") == "directory":
        page = request.args.get("page")
        args = kept + ([("page", page)] if page and page.isdigit() else [])
        return {"url": url_for("views.directory") + ("?" + urlencode(args) if args else ""),
                "label": _("Back to the directory")}
    return {"url": url_for("views.index") + ("?" + urlencode(kept) if kept else ""), "label": _("Back to the map")}


def organisation_jsonld(org: dict) -> dict:
    """schema.org ``Organization`` data for search engines and other maps (its public
    record's JSON-LD node, at the configured public address)."""
    return Record.of(org, base=public_base()).jsonld(current_language())


@bp.get("/map-shell.js")
def map_shell():
    """The map shell's script for the site's tile settings in the language asked (the map
    pages link it with its digest, ``mapcontext.shell_script_url``): the same for every
    visitor, kept a year by browsers and proxies (a new setting is a new URL)."""
    response = current_app.response_class(str(current_shell().script), mimetype="text/javascript")
    response.cache_control.public = True
    response.cache_control.max_age = 365 * 24 * 3600
    response.headers["Vary"] = "Accept-Encoding"
    return response


@bp.get("/basemap/countries.geojson")
def outlines():
    """The country outlines maps draw when their tiles do not arrive (cached for a day)."""
    compressed = wants_gzip()
    response = current_app.response_class(outlines_bytes(compressed), mimetype="application/geo+json")
    if compressed:
        response.headers["Content-Encoding"] = "gzip"
    response.headers["Vary"] = "Accept-Encoding"
    response.cache_control.public = True
    response.cache_control.max_age = 86400
    return response


@bp.get("/basemap/labels.<language>.json")
def outline_labels(language: str):
    """The names of countries and large towns written on those outlines, in ``language``
    (cached for a day, revalidated by its ETag)."""
    if language not in vocab.LANGUAGES:
        raise NotFound(f"no language '{language}': one of {', '.join(vocab.LANGUAGES)}")
    compressed = wants_gzip()
    body = labels_bytes(language, compressed)
    response = current_app.response_class(body, mimetype="application/json")
    if compressed:
        response.headers["Content-Encoding"] = "gzip"
    response.headers["Vary"] = "Accept-Encoding"
    response.set_etag(hashlib.sha1(body, usedforsecurity=False).hexdigest()[:20])
    response.cache_control.public = True
    response.cache_control.max_age = 86400
    return response.make_conditional(request)


@bp.get("/healthz")
def healthz():
    """200 with the organisation count while the catalogue answers, 503 otherwise."""
    try:
        count = catalogue.organisation_count(get_db())
    except Exception as e:  # any failure to read the catalogue means "unhealthy"
        current_app.logger.exception("health check failed")
        return json_error(f"catalogue unavailable: {type(e).__name__}", 503)
    return jsonify({"ok": True, "organisations": count})
