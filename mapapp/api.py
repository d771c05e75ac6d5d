"""The public JSON API (read-only). Every error has one shape:
``{"ok": false, "error": "...", "status": 400}``."""

from __future__ import annotations

from flask import Blueprint, jsonify, request, url_for

from . import catalogue, geo
from .db import get_db
from .errors import MapappError, NotFound
from .filters import Filters

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.errorhandler(MapappError)
def api_error(error: MapappError):
    body = {"ok": False, "error": error.message, "status": error.status}
    if error.parameter:
        body["parameter"] = error.parameter
    return jsonify(body), error.status


@bp.get("/organisations.geojson")
def organisations_geojson():
    """Published organisations matching the filters, as an RFC 7946 FeatureCollection."""
    filters = Filters.from_args(request.args)
    orgs = catalogue.find_organisations(get_db(), filters, located_only=True)
    collection = geo.feature_collection(
        orgs, url_for_slug=lambda slug: url_for("views.organisation", slug=slug))
    response = jsonify(collection)
    response.mimetype = "application/geo+json"
    return response


@bp.route("/<path:anything>")
def not_found(anything: str):
    raise NotFound(f"no API endpoint at /api/{anything}")
