"""Static assets fast to fetch again: versioned URLs (``?v=`` a hash of the file) cached
for a year, and text compressed (Flask-Compress) for pages, scripts and stylesheets."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from flask import Flask, Response, current_app, request
from flask_compress import Compress

YEAR = 365 * 24 * 3600
# Compressed here, for every client that accepts it (Werkzeug and Flask-Compress read the
# header's qualities: ``gzip;q=0`` is a refusal). The exports send their own copies
# compressed once per catalogue state, and so are left alone (they set Content-Encoding).
COMPRESSED = ["text/html", "text/css", "text/javascript", "application/javascript", "image/svg+xml",
              "application/geo+json", "application/json"]


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


class _Compress(Compress):
    """Flask-Compress choosing among the encodings as Werkzeug reads the client's qualities.

    Flask-Compress (1.25) picks an encoding the client lists even at ``q=0`` (``gzip;q=0``,
    a refusal, got gzip). It is handed the header rewritten from ``request.accept_encodings``:
    each encoding it offers, at the quality the client gives it (``*`` included), refusals
    left out."""

    def after_request(self, response: Response) -> Response:
        offered = self.streaming_algorithms if response.is_streamed else self.enabled_algorithms
        qualities = {name: request.accept_encodings.quality(name) for name in offered}
        header = ", ".join(f"{name};q={q:g}" for name, q in qualities.items() if q > 0)
        environ = request.environ
        original = environ.get("HTTP_ACCEPT_ENCODING")
        environ["HTTP_ACCEPT_ENCODING"] = header or "identity"
        try:
            return super().after_request(response)
        finally:
            if original is None:
                environ.pop("HTTP_ACCEPT_ENCODING", None)
            else:
                environ["HTTP_ACCEPT_ENCODING"] = original


def init_app(app: Flask) -> None:
    app.config.setdefault("COMPRESS_MIMETYPES", COMPRESSED)
    app.config.setdefault("COMPRESS_ALGORITHM", ["br", "gzip"])
    app.config.setdefault("COMPRESS_MIN_SIZE", 500)
    _Compress(app)
    app.url_defaults(_add_version)
    app.after_request(_long_cache)
