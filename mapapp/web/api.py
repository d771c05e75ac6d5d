"""The public JSON API (read-only). Every error has one shape:
``{"ok": false, "error": "...", "status": 400, "parameter": "..."}``."""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from pathlib import Path

from flask import Blueprint, Response, current_app, jsonify, make_response, render_template, request, send_file, url_for
from flask_babel import gettext as _
from werkzeug.datastructures import Headers

from .. import catalogue, kinds, params, records, vocab
from ..catalogue import changes as change_store
from ..catalogue import fields as field_store
from ..catalogue import images as picture_store
from ..catalogue import owners as owner_store
from ..catalogue import personaldata, visitreads
from ..contributing import owners
from ..errors import BadRequest, NotFound, ServiceUnavailable
from ..filters import KINDS, Filters
from ..importing.normalise import parse_website
from ..mapdata import exportcache, exports, mapindex, partners
from ..params import whole_number
from . import apihttp, cold, jobqueue, openapi
from .db import category_tree, get_db, take_db
from .i18n import current_language
from .mapcontext import current_site, facet_options, map_index, shows_fictional, tile_attribution

bp = Blueprint("api", __name__, url_prefix="/api")
apihttp.init_blueprint(bp)
PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


def _int_arg(name: str, default: int | None, low: int, high: int) -> int:
    return whole_number(request.args.get(name), name, default=default, low=low, high=high)


@bp.get("/clusters")
def clusters():
    """Clusters and single organisations for a map view: ``bbox``, ``zoom`` and filters."""
    filters = Filters.from_args(request.args)
    if filters.bbox is None:
        raise BadRequest("bbox: required, as minLon,minLat,maxLon,maxLat", parameter="bbox")
    zoom = _int_arg("zoom", None, 0, mapindex.MAX_ZOOM)
    db = get_db()
    columns = map_index().get(db)
    everything = not filters.q and not filters.extra and not any(getattr(filters, kind) for kind in KINDS)
    bits = None
    if not everything:
        bits = mapindex.selection_bits(columns, filters, db)
        everything = mapindex.count_bits(bits) == mapindex.count_bits(columns.live)  # filters that keep all
    answer = mapindex.clusters(columns, None, filters.bbox, zoom, db, everything=everything, bits=bits,
                               stale_before=owners.stale_before(current_app.config["STALE_AFTER_DAYS"]))
    return jsonify({"ok": True, "zoom": zoom, **answer,
                    "cluster_fields": ["lat", "lon", "count", "bbox", "categories"],
                    "point_fields": ["slug", "name", "lat", "lon", "stale", "category"]})


@bp.get("/facets")
def facets():
    """How many organisations match, per filter value, with labels in the language."""
    filters = Filters.from_args(request.args)
    db = get_db()
    columns = map_index().get(db)
    lang = current_language()
    counts = mapindex.facet_counts(columns, filters, db)
    bits = mapindex.selection_bits(columns, filters, db)
    return jsonify({"ok": True, "total": mapindex.count_bits(bits), "bounds": mapindex.selection_bounds(columns, bits),
                    "facets": facet_options(db, counts, lang), "fictional": shows_fictional(db, filters)})


@bp.get("/categories")
def categories():
    """The category tree (what ``theme=`` takes), labelled in the language, with how many
    published organisations matching the other filters each category has (a parent: those
    in it or any of its children, each once)."""
    filters = Filters.from_args(request.args)
    db = get_db()
    counts = mapindex.facet_counts(map_index().get(db), filters, db)["theme"]
    lang = current_language()
    tree = category_tree()

    def described(category, parent: str | None) -> dict:
        activity = tree.essglobal(category.code)
        return {"code": category.code, "label": category.label(lang), "parent": parent,
                "colour": category.colour, "icon": category.icon or None, "essglobal": activity,
                "essglobal_uri": vocab.THEME_URI_BASE + activity if activity else None,
                "count": counts.get(category.code, 0)}

    items = [{**described(root, None),
              "children": [described(child, root.code) for child in root.children]} for root in tree.roots]
    return jsonify({"ok": True, "lang": lang, "categories": items})


@bp.get("/organisations")
def organisations():
    """Published organisations matching the filters, by name, a page at a time."""
    filters = Filters.from_args(request.args)
    limit = _int_arg("limit", PAGE_SIZE, 1, MAX_PAGE_SIZE)
    offset = _int_arg("offset", 0, 0, 10**9)
    db = get_db()
    lang = current_language()
    total, ids = mapindex.listing(map_index().get(db), filters, db, limit=limit, offset=offset)
    items = [summary(org, lang) for org in catalogue.organisations_by_ids(db, ids)]
    body = {"ok": True, "total": total, "offset": offset, "limit": limit, "items": items, "next": None}
    if offset + limit < total:
        body["next"] = url_for("api.organisations", **{**request.args.to_dict(), "offset": offset + limit,
                                                       "limit": limit})
    return jsonify(body)


@bp.get("/changes")
def changes():
    """For machines keeping a copy: published organisations new or changed after ``since``
    (matching the filters, oldest first, a page at a time through ``next``), and those
    withdrawn from the map (unpublished, archived, deleted) since then, with when."""
    filters = Filters.from_args(request.args)
    since = params.timestamp(request.args.get("since"), "since")
    after_id = _int_arg("after", 0, 0, params.MAX_ID)
    limit = _int_arg("limit", PAGE_SIZE * 10, 1, MAX_PAGE_SIZE * 5)
    db = get_db()
    lang = current_language()
    rows = change_store.changed_since(db, filters, since, after_id, limit + 1)
    more, rows = len(rows) > limit, rows[:limit]
    items = [{**summary(org, lang), "id": org["id"], "created_at": org["created_at"], "updated_at": org["updated_at"]}
             for org in rows]
    body = {"ok": True, "since": since, "items": items,
            "withdrawn": change_store.withdrawn_since(db, since, MAX_PAGE_SIZE * 5) if not after_id else [],
            "next": None}
    if more:
        body["next"] = url_for("api.changes", **{**request.args.to_dict(), "since": rows[-1]["updated_at"],
                                                 "after": rows[-1]["id"], "limit": limit})
    return jsonify(body)


def summary(org: dict, lang: str) -> dict:
    """The public summary of an organisation shown in lists and popups (a link within the site)."""
    return records.Record.of(org, base=request.script_root).summary(lang)


@bp.get("/duplicates")
def duplicates():
    """Published organisations a new one may be: the same name, or the same website (the
    contribution form asks while its author types)."""
    name = request.args.get("name", "")[:300]
    website, _problem = parse_website(request.args.get("website", "")[:500])
    if len(name.strip()) < 3 and not website:
        return jsonify({"ok": True, "items": []})
    found = catalogue.likely_duplicates(get_db(), name, website or "")
    return jsonify({"ok": True, "items": [{"name": o["name"], "city": o["city"],
                                           "url": records.organisation_url(request.script_root, o["slug"])}
                                          for o in found]})


@bp.get("/organisations/<slug>")
def organisation(slug: str):
    """One published organisation with its public fields, and its nearest few possible
    partners (what a popup shows)."""
    db = get_db()
    org = catalogue.get_organisation(db, slug)
    if org is None:
        raise NotFound(f"no published organisation '{slug}'")
    lang = current_language()
    org = {**org, **visitreads.record_links(db, org["id"]),  # its relation to each project, its visits and roles
           "pictures": picture_store.pictures_of(db, org["id"])}
    field_store.attach_public(db, [org])
    body = {"ok": True, **records.Record.of(org, base=request.script_root).api_json(lang)}
    checked = owner_store.checked_at(db, org["id"])
    body["checked"] = checked[:10]
    body["stale"] = owners.is_stale(checked, current_app.config["STALE_AFTER_DAYS"])
    body["partners"] = partners.for_popup(map_index().get(db), db, org, lang, base=request.script_root)
    return jsonify(body)


@bp.get("/visits")
def visits():
    """The visits and events of the projects ``project`` (repeatable; every project not archived
    when none is given), by date: title in the visitor's language, kind, dates, place, point,
    and the published organisations with their role."""
    slugs = tuple(dict.fromkeys(s for s in request.args.getlist("project") if s))
    if len(slugs) > 50 or any(len(s) > 100 for s in slugs):
        raise BadRequest("project: up to 50 project slugs", parameter="project")
    lang = current_language()
    found = visitreads.visits_of_projects(get_db(), slugs)
    return jsonify({"ok": True, "total": len(found), "visits": [{
        "slug": v["slug"], "project": v["project"], "kind": v["kind"], "title": v["titles"].get(lang) or v["title"],
        "title_lang": lang if v["titles"].get(lang) else None, "date": v["date"], "end_date": v["end_date"],
        "place": v["place"], "city": v["city"], "country": v["country"] or None, "lat": v["lat"], "lon": v["lon"],
        "description": v["descriptions"].get(lang) or "",
        "organisations": [{"slug": o["slug"], "name": o["name"], "role": o["role"]} for o in v["organisations"]],
    } for v in found]})


@bp.get("/organisations.geojson")
def organisations_geojson():
    """Published organisations matching the filters, as an RFC 7946 FeatureCollection."""
    return _export("geojson", base_url=request.script_root, attachment=False)  # links within the site


@bp.get("/organisations.<any(csv, xlsx, gpkg, html, essglobal.csv, jsonld, ttl):fmt>")
def organisations_export(fmt: str):
    """The filtered organisations as a file: CSV, XLSX, GeoPackage, HTML map, ESSGLOBAL CSV, or
    linked data (JSON-LD, Turtle)."""
    return _export("essglobal" if fmt == "essglobal.csv" else fmt, base_url=cold.public_base(), attachment=True)


def export_cache() -> exportcache.ExportCache:
    """The process's export cache, created on first use."""
    return current_app.extensions.setdefault(
        "mapapp.exports", exportcache.ExportCache(Path(current_app.config["CACHE_DIR"]) / "exports",
                                                  max_bytes=int(current_app.config["EXPORT_CACHE_MB"]) * 2**20))


def _pinned(chunks, tree):
    """``chunks`` read with the request's category tree, as they are sent after it ended."""
    with kinds.categories_pinned(tree):
        yield from chunks


def export_about(filters: Filters, changed_at: str) -> exports.About:
    """What the standalone HTML map says about itself, from the settings."""
    config = current_app.config
    return exports.About(site_name=current_site().name, day=changed_at[:10], licence=config["DATA_LICENCE"],
                         licence_url=config["DATA_LICENCE_URL"], filters=filters, site=current_site())


def _export(kind: str, *, base_url: str, attachment: bool):
    """An export: sent from its kept file when there is one; else streamed as it is read
    (CSV, GeoJSON, XLSX, linked data), made by the job worker (GeoPackage) or built whole in a
    temporary file, within the client's cold budget, and
    kept only when it is the whole catalogue's or asked for often (see ``exportcache``)."""
    filters = Filters.from_args(request.args)
    db = get_db()
    if kind in exports.WHOLE_IN_MEMORY:  # refused at once, before anything is read
        exports.check_size(kind, catalogue.count_organisations(db, filters, located_only=kind == "html"))
    lang, config = current_language(), current_app.config
    attribution = tile_attribution()
    # The state key tells apart two catalogues at the same version number (a restored backup,
    # another database). Nothing here comes from the request's Host.
    state = catalogue.state(db)
    changed_at = state.changed_at
    contacts = personaldata.export_contacts(db)  # staff's choice (the personal data page)
    fields = field_store.public_fields(db)  # a column each in CSV and XLSX
    parts = (kind, sorted(filters.to_args().items()), lang, base_url, current_site().tile_url,
             attribution, current_site().name, config["DATA_LICENCE"], config["DATA_LICENCE_URL"], contacts)
    cache = export_cache()
    path = cache.path_for(state.key, parts, exports.EXTENSIONS[kind])
    compressible = kind in exports.COMPRESSIBLE
    gzipped = compressible and apihttp.wants_gzip()
    sending = ExportAnswer(kind, exports.download_name(filters, kind, changed_at[:10]), attachment, gzipped)
    kept = cache.kept(path)
    if kept:
        return sending.kept_file(kept)
    if kind == "gpkg" and jobqueue.current().worker_running():
        return _geopackage(path, filters, lang=lang, base_url=base_url, contacts=contacts, sending=sending)
    whole_catalogue = not filters.to_args()
    keep = cache.worth_keeping(path, whole_catalogue=whole_catalogue)
    batches = lambda: catalogue.iter_export_batches(db, filters)  # noqa: E731

    if kind in exports.STREAMED:
        release = cold.limiter().enter(cold.client())
        db = take_db()  # read while the answer is sent, after this request has ended
        try:
            chunks = _pinned(exports.stream(batches(), kind, lang=lang, base_url=base_url, contacts=contacts,
                                            fields=fields), category_tree())
            if keep:
                chunks = cache.keep_stream(path, chunks, gzip_path=_gz(path))
            response = sending.stream(_then(chunks, release))
        except BaseException:
            db.close()
            release()
            raise
        response.call_on_close(db.close)
        response.call_on_close(release)
        return response

    def build(target: Path) -> None:
        exports.write((org for batch in batches() for org in batch), kind, target, lang=lang, base_url=base_url,
                      tile_url=current_site().tile_url, attribution=attribution, about=export_about(filters, changed_at),
                      contacts=contacts, fields=fields)

    if keep:  # one process builds it; the others asking meanwhile wait and send the same file
        with cold.locks().hold(path.name):
            if not cache.kept(path):
                with cold.limiter().slot(cold.client()):
                    made = cache.temporary(exports.EXTENSIONS[kind])
                    try:
                        build(made)
                        cache.keep_file(path, made, gzipped=compressible)
                    finally:
                        made.unlink(missing_ok=True)
        return sending.kept_file(path)
    with cold.limiter().slot(cold.client()):
        made = cache.temporary(exports.EXTENSIONS[kind])
        try:
            build(made)
            handle = open(made, "rb")  # noqa: SIM115 # closed by the response
        finally:
            made.unlink(missing_ok=True)  # the open handle still reads it; nothing stays
    return sending.file(handle)


# A GeoPackage of a few thousand organisations is made in about a second: a request waits this
# long for the worker's, then answers with a page that asks again every GPKG_REFRESH seconds.
GPKG_WAIT = 5
GPKG_REFRESH = 5


def _geopackage(path: Path, filters: Filters, *, lang: str, base_url: str, contacts: bool,
                sending: ExportAnswer) -> Response:
    """The GeoPackage, made by the job worker once per catalogue state and filters (one job
    for everyone asking meanwhile, ``mapdata.exportjob``) and kept: sent once it is there,
    else a page that asks again by itself until it is."""
    queue = jobqueue.current()
    with cold.limiter().slot(cold.client()):  # a waiting request holds a server thread
        queue.export_gpkg(path, filters.to_args(), lang=lang, base_url=base_url, contacts=contacts)
        job = queue.wait_for_report(path, GPKG_WAIT, kind="export")
    kept = export_cache().kept(path)
    if kept:
        return sending.kept_file(kept)
    if job.get("state") == "failed":
        raise ServiceUnavailable(_("The GeoPackage could not be made (%(reason)s); ask again in a minute.",
                                   reason=job.get("message") or "?"))
    page = make_response(render_template("export_preparing.html", again=request.full_path), 202)
    page.headers["Refresh"] = str(GPKG_REFRESH)
    page.headers["Retry-After"] = str(GPKG_REFRESH)
    page.headers["Cache-Control"] = "no-store"
    return page


def _gz(path: Path) -> Path:
    return path.with_name(path.name + ".gz")


@dataclass(frozen=True)
class ExportAnswer:
    """How an export is sent: its media type, name, and whether it is gzipped."""

    kind: str
    name: str
    attachment: bool
    gzipped: bool

    def kept_file(self, path: Path) -> Response:
        if self.gzipped and (packed := export_cache().kept(_gz(path))):
            return self._headers(send_file(packed, mimetype=exports.MEDIA_TYPES[self.kind], conditional=False,
                                           etag=False, max_age=None), gzipped=True)
        if self.gzipped:  # its gzipped copy went first (least recently used): compress as it goes
            return self.file(open(path, "rb"))  # noqa: SIM115 # closed by the response
        # Conditional: a large download broken off resumes with a Range request.
        return self._headers(send_file(path, mimetype=exports.MEDIA_TYPES[self.kind], conditional=True,
                                       etag=False, max_age=None))

    def file(self, handle) -> Response:
        if self.gzipped:
            return self.stream(_read(handle))
        return self._headers(send_file(handle, mimetype=exports.MEDIA_TYPES[self.kind], conditional=False,
                                       etag=False, max_age=None))

    def stream(self, chunks) -> Response:
        response = Response(_gzip(chunks) if self.gzipped else chunks,
                            mimetype=exports.MEDIA_TYPES[self.kind])
        return self._headers(response, gzipped=self.gzipped)

    def _headers(self, response: Response, *, gzipped: bool = False) -> Response:
        if gzipped:
            response.headers["Content-Encoding"] = "gzip"
        response.headers["Content-Disposition"] = content_disposition(self.name, self.attachment)
        return response


def content_disposition(name: str, attachment: bool) -> str:
    """The header that names the download (as ``send_file`` writes it)."""
    headers = Headers()
    headers.set("Content-Disposition", "attachment" if attachment else "inline", filename=name)
    return headers["Content-Disposition"]


def _then(chunks, done):
    """``chunks``, then ``done()`` as soon as the last is sent (not only when the server
    closes the answer)."""
    try:
        yield from chunks
    finally:
        done()


def _read(handle, size: int = 1 << 16):
    with handle:
        while block := handle.read(size):
            yield block


def _gzip(chunks):
    packer = zlib.compressobj(6, zlib.DEFLATED, 31)  # 31: gzip framing
    for chunk in chunks:
        if packed := packer.compress(chunk):
            yield packed
    yield packer.flush()


@bp.get("/vocabularies")
def vocabularies():
    """Themes, needs/offers, relations, countries, projects and visits, labelled and counted."""
    db = get_db()
    columns = map_index().get(db)
    options = facet_options(db, mapindex.facet_counts(columns, Filters(), db), current_language())
    resources = options.pop("need")
    offers = {o["value"]: o["count"] for o in options.pop("offer")}
    for item in resources:
        item["needs"], item["offers"] = item.pop("count"), offers.get(item["value"], 0)
    return jsonify({"ok": True, "lang": current_language(), "themes": options["theme"],
                    "resources": resources, "relations": options["relation"],
                    "countries": options["country"], "projects": options["project"],
                    "visits": options["visit"]})


@bp.get("/openapi.json")
def openapi_document():
    """The OpenAPI 3.1 description of this API."""
    return jsonify(openapi.document(cold.public_base()))  # never the Host header: the answer is cached


@bp.route("/<path:anything>")
def not_found(anything: str):
    raise NotFound(f"no API endpoint at /api/{anything}")
