"""Error answers for the whole app: the API's one JSON shape, and the error page.

``{"ok": false, "error": "...", "status": 400, "parameter": "..."}`` under ``/api/`` and
for oEmbed; the translated error page everywhere else. Registered by ``create_app``.
"""

from __future__ import annotations

from flask import Flask, Response, current_app, jsonify, render_template, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from ..errors import MapappError
from ..translate import translated
from .i18n import current_language


def json_error(message: str, status: int, parameter: str | None = None) -> tuple[Response, int]:
    """The API's error answer."""
    body = {"ok": False, "error": message, "status": status}
    if parameter:
        body["parameter"] = parameter
    return jsonify(body), status


def answers_json() -> bool:
    """The API and oEmbed answer errors in the JSON shape; pages with a page."""
    return request.path.startswith("/api/") or request.path == "/oembed"


def _page(status: int, message: str, headers=()):
    return render_template("error.html", status=status, message=message), status, list(headers)


def mapapp_error(error: MapappError):
    # Busy (429) says when to come back.
    headers = [("Retry-After", str(error.retry_after))] if getattr(error, "retry_after", None) else []
    if answers_json():  # the API speaks English to programs
        response, status = json_error(error.message, error.status, error.parameter)
        return response, status, headers
    return _page(error.status, translated(error.message, current_language()), headers)


def too_large(error):
    limit = current_app.config["UPLOAD_MAX_MB"]
    return _page(413, _("The file is larger than %(limit)s MB. Split it, or remove columns the map does not "
                        "need.", limit=limit))


def not_found(error):
    if answers_json():
        return json_error("not found", 404)
    return _page(404, _("This page does not exist."))


def http_error(error: HTTPException):
    """Every other HTTP error, with its headers (``Allow`` for a 405)."""
    status = error.code or 500
    headers = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
    if answers_json():
        response, status = json_error("the API is read-only: use GET" if status == 405 else error.description,
                                      status)
        return response, status, headers
    return _page(status, error.description, headers)


def init_app(app: Flask) -> None:
    """Register the handlers."""
    app.register_error_handler(MapappError, mapapp_error)
    app.register_error_handler(413, too_large)
    app.register_error_handler(404, not_found)
    app.register_error_handler(HTTPException, http_error)
