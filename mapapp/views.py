"""Public HTML pages: the map, organisation pages and the health check."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, jsonify, render_template, url_for

from . import catalogue, maps, vocab
from .db import get_db

bp = Blueprint("views", __name__)


@bp.app_context_processor
def inject_helpers() -> dict:
    return {"vocab": vocab, "lang": vocab.DEFAULT_LANGUAGE,
            "site_name": current_app.config["SITE_NAME"]}


@bp.get("/")
def index():
    """The full-page map; the data layer is loaded by static/js/map.js."""
    shell = maps.map_shell(
        tile_url=current_app.config["TILE_URL"],
        attribution=current_app.config["TILE_ATTRIBUTION"],
        max_zoom=current_app.config["TILE_MAX_ZOOM"],
        asset_url=lambda path: url_for("static", filename=path),
    )
    settings = {
        "mapName": shell.name,
        "dataUrl": url_for("api.organisations_geojson"),
    }
    return render_template("index.html", shell=shell, settings=settings,
                           fictional=catalogue.has_fictional(get_db()))


@bp.get("/organisations/<slug>")
def organisation(slug: str):
    """One published organisation's page."""
    org = catalogue.get_organisation(get_db(), slug)
    if org is None:
        abort(404)
    return render_template("organisation.html", org=org,
                           fictional=org["source"] == catalogue.FICTIONAL_SOURCE)


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
