"""HTTP behaviour shared by every public API answer: CORS, validators and 304s, gzip.

ETags come from the catalogue's version, the URL and the language, so a request
whose validator still matches is answered 304 before any query runs.
"""

from __future__ import annotations

import gzip
import hashlib
from datetime import datetime, timezone

from flask import Blueprint, Response, g, request

from .. import catalogue
from .db import get_db
from .i18n import current_language

COMPRESSIBLE = ("application/json", "application/geo+json", "text/csv")
MIN_GZIP_BYTES = 1024


def wants_gzip() -> bool:
    """The client accepts gzip-compressed answers."""
    return "gzip" in (request.headers.get("Accept-Encoding") or "").lower()


def _validators() -> tuple[str, datetime]:
    version, changed_at = catalogue.last_change(get_db())
    # The day is part of it: an entry not checked for long fades on the map as days pass.
    today = datetime.now(timezone.utc).date().isoformat()
    key = f"{version}|{today}|{request.full_path}|{current_language()}|{'gzip' if wants_gzip() else ''}"
    etag = hashlib.sha1(key.encode(), usedforsecurity=False).hexdigest()[:20]
    return etag, datetime.strptime(changed_at, "%Y-%m-%dT%H:%M:%SZ")


def _cors(response: Response) -> Response:
    # Public, read-only data: any site may read it, and never with credentials.
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers.pop("Access-Control-Allow-Credentials", None)
    return response


def before_request():
    """Answer 304 at once when the client's copy is still current."""
    if request.method not in ("GET", "HEAD"):
        return None
    g.api_etag, g.api_modified = _validators()
    not_modified = False
    if request.if_none_match:
        not_modified = request.if_none_match.contains(g.api_etag)
    elif request.if_modified_since:
        not_modified = g.api_modified <= request.if_modified_since.replace(tzinfo=None)
    if not_modified:
        response = Response(status=304)
        response.set_etag(g.api_etag)
        response.last_modified = g.api_modified
        response.headers["Vary"] = "Accept-Encoding, Accept-Language, Cookie"
        return _cors(response)
    return None


def after_request(response: Response) -> Response:
    """Add CORS, validators and gzip to successful answers."""
    _cors(response)
    if response.status_code != 200 or request.method not in ("GET", "HEAD"):
        return response
    if "api_etag" in g:
        response.set_etag(g.api_etag)
        response.last_modified = g.api_modified
        response.headers["Cache-Control"] = "no-cache"  # keep, but ask again with the validators
    response.headers["Vary"] = "Accept-Encoding, Accept-Language, Cookie"
    if (wants_gzip() and response.mimetype in COMPRESSIBLE and not response.direct_passthrough
            and not response.is_streamed and "Content-Encoding" not in response.headers):
        body = response.get_data()
        if len(body) >= MIN_GZIP_BYTES:
            response.set_data(gzip.compress(body, compresslevel=6))
            response.headers["Content-Encoding"] = "gzip"
    return response


def init_blueprint(bp: Blueprint) -> None:
    """Attach the hooks to the API blueprint."""
    bp.before_request(before_request)
    bp.after_request(after_request)
