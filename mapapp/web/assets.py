"""Static assets fast to fetch again: versioned URLs (``?v=`` a hash of the file) cached
for a year, and text compressed (Flask-Compress) for pages, scripts and stylesheets."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from flask import Flask, Response, current_app, request
from flask_compress import Compress

YEAR = 365 * 24 * 3600
# The API and the exports compress themselves (once per version); these are compressed here.
COMPRESSED = ["text/html", "text/css", "text/javascript", "application/javascript", "image/svg+xml",
              "application/geo+json"]


@cache
def _version(path: str) -> str:
    try:
        return hashlib.sha1(Path(path).read_bytes(), usedforsecurity=False).hexdigest()[:10]
    except OSError:
        return ""


def _add_version(endpoint: str, values: dict) -> None:
    """``url_for('static', filename=…)`` gains ``v=<hash>``: a changed file is a new URL."""
    if endpoint == "static" and "filename" in values and "v" not in values:
        version = _version(str(Path(current_app.static_folder) / values["filename"]))
        if version:
            values["v"] = version


def _long_cache(response: Response) -> Response:
    if request.endpoint == "static" and request.args.get("v") and response.status_code == 200:
        response.cache_control.no_cache = None
        response.cache_control.public = True
        response.cache_control.max_age = YEAR
        response.cache_control.immutable = True
    return response


def init_app(app: Flask) -> None:
    app.config.setdefault("COMPRESS_MIMETYPES", COMPRESSED)
    app.config.setdefault("COMPRESS_ALGORITHM", ["br", "gzip"])
    app.config.setdefault("COMPRESS_MIN_SIZE", 500)
    Compress(app)
    app.url_defaults(_add_version)
    app.after_request(_long_cache)
