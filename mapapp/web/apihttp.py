"""HTTP behaviour shared by every public API answer: CORS, validators and 304s.

ETags come from the catalogue's state key (``catalogue.state_key``), the day, the path,
the request's parameters in a normal order and the language, so a request whose validator still matches is answered 304 before any query
runs. Compression is Flask-Compress's (see ``assets``): it adds the encoding to a strong
ETag (``"…:gzip"``), as this module does for the exports that send their own gzipped copy.

The map's answers (clusters, list, facets, categories, one organisation for a popup) are the same for every visitor
asking the same URL, and the map asks on a fixed grid of tiles (``mapindex.snap_bbox``):
they are sent ``public`` with a short ``max-age`` and a ``stale-while-revalidate``, so that
a browser and a caching proxy (deploy/nginx-mapapp.conf) serve repeats. Signed-in staff get
``private`` answers, never kept by a shared cache.

The public pages an anonymous visitor opens from the map (the map itself, the embed, the
directory, organisation pages: ``SHARED_PAGES``) are the same for every visitor of a URL
in a language too: they carry no nonce, no CSRF token, no cookie (the language a ``?lang=``
chose is remembered by static/js/site.js), and get the same validators and
``Cache-Control``. Their ETag names the language and the app's templates and static files,
so that a French visitor never gets an English copy, nor a page linking yesterday's assets.
A visitor whose session says something of their own (staff signed in, a message to show)
gets a ``private`` page, asked again each time.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path

from flask import Blueprint, Flask, Response, current_app, g, request, session
from flask_login import current_user

from .. import catalogue
from ..catalogue.migrations import SchemaError
from .db import get_db
from .i18n import LANGUAGES, current_language

VARY = "Accept-Encoding, Accept-Language, Cookie"
# The encodings an answer may come in: Flask-Compress's and the exports' kept gzip copies.
ENCODINGS = ("gzip", "br", "deflate", "zstd")
# The answers a visitor's map asks for while panning and opening popups: shared by every
# visitor of a URL.
MAP_ANSWERS = frozenset({"api.clusters", "api.organisations", "api.facets", "api.categories", "api.organisation"})
# The public pages every anonymous visitor of a URL sees alike (in their language).
SHARED_PAGES = frozenset({"views.index", "views.directory", "views.organisation", "embed.embed"})


def normal_query() -> str:
    """The request's parameters in one order (each name's values in theirs), so that two
    URLs asking the same thing share their validator."""
    return "&".join(f"{name}={value}" for name, value in sorted(request.args.items(multi=True)))


def wants_gzip() -> bool:
    """The client accepts gzip-compressed answers (``gzip;q=0`` refuses them)."""
    return request.accept_encodings.quality("gzip") > 0


def _validators() -> tuple[str, datetime]:
    state = catalogue.state(get_db())
    # The day is part of it: an entry not checked for long fades on the map as days pass.
    today = datetime.now(timezone.utc).date().isoformat()
    etag = hashlib.sha1(f"{state.key}|{today}|{request.path}?{normal_query()}|{current_language()}|"
                        f"{_build(current_app.template_folder, current_app.static_folder)}".encode(),
                        usedforsecurity=False).hexdigest()[:20]
    return etag, datetime.strptime(state.changed_at, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)


@lru_cache(maxsize=4)
def _build(*folders: str | None) -> str:
    """A digest of the app's templates and static files (names, sizes, times), read once per
    process: a page rendered by other templates, or linking other assets, is another page."""
    seen = hashlib.sha1(usedforsecurity=False)
    for folder in folders:
        for root, _dirs, files in sorted(os.walk(folder or ".")):
            for name in sorted(files):
                found = (Path(root) / name).stat()
                seen.update(f"{root}/{name}|{found.st_size}|{found.st_mtime_ns}".encode())
    return seen.hexdigest()[:12]


# Set for a while on the browser of a visitor who has just changed an entry (an owner's edit
# link): their next pages are their own, not a copy kept from before their change.
FRESH_COOKIE = "mapapp_fresh"


def mark_fresh(response: Response) -> Response:
    """Let the visitor who made a change see it at once: for as long as shared copies are kept,
    their requests pass by them (this app's, nginx's: ``deploy/nginx-mapapp.conf``)."""
    config = current_app.config
    response.set_cookie(FRESH_COOKIE, "1", max_age=config["MAP_CACHE_SECONDS"] + config["MAP_STALE_SECONDS"],
                        samesite="Lax", secure=request.is_secure, httponly=True)
    return response


def _personal() -> bool:
    """Whether the request's session holds something of the visitor's own: staff signed in,
    or a message to show once; or the visitor has just changed an entry. Without a session
    cookie, nothing (and the session is not opened: Flask would add ``Vary: Cookie`` for it)."""
    if FRESH_COOKIE in request.cookies:
        return True
    if current_app.config["SESSION_COOKIE_NAME"] not in request.cookies:
        return False
    return bool(current_user.is_authenticated or session.get("_flashes"))


def _cors(response: Response) -> Response:
    # Public, read-only data: any site may read it, and never with credentials.
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers.pop("Access-Control-Allow-Credentials", None)
    return response


def _client_copy(etag: str) -> str:
    """``etag``, or its encoded twin (``etag:gzip``) when that is what the client holds in
    an encoding it still accepts: that copy is as current as the plain one."""
    for encoding in ENCODINGS:
        twin = f"{etag}:{encoding}"
        if request.if_none_match.contains(twin) and request.accept_encodings.quality(encoding) > 0:
            return twin
    return etag


def _not_modified(etag: str, modified) -> Response | None:
    """A 304 when the client's copy (``If-None-Match``/``If-Modified-Since``) is this one."""
    answer = Response()
    answer.set_etag(_client_copy(etag))
    answer.last_modified = modified
    answer.make_conditional(request)
    return answer if answer.status_code == 304 else None


def _validated(response: Response, etag: str, modified) -> None:
    """The answer's validators and lifetime. An answer sent gzipped (an export by itself, or
    Flask-Compress) is another representation: its own ETag."""
    encoding = response.headers.get("Content-Encoding")
    response.set_etag(f"{etag}:{encoding}" if encoding else etag)
    response.last_modified = modified
    response.headers["Cache-Control"] = cache_control()


def before_request():
    """Answer 304 at once when the client's copy is still current (Werkzeug decides)."""
    if request.method not in ("GET", "HEAD"):
        return None
    g.api_etag, g.api_modified = _validators()
    answer = _not_modified(g.api_etag, g.api_modified)
    if answer is None:
        return None
    answer.headers["Vary"] = vary()
    answer.headers["Cache-Control"] = cache_control()
    return _cors(answer)


def after_request(response: Response) -> Response:
    """Add CORS and validators to successful answers."""
    _cors(response)
    if response.status_code != 200 or request.method not in ("GET", "HEAD"):
        return response
    if "api_etag" in g:
        _validated(response, g.api_etag, g.api_modified)
    response.headers["Vary"] = vary()
    return response


def page_before_request():
    """A shared page whose copy the visitor holds is still current: 304 at once."""
    if request.endpoint not in SHARED_PAGES or request.method not in ("GET", "HEAD"):
        return None
    g.shared_page = True
    if _personal():  # a signed-in person's page: theirs, and their ?lang= kept in a cookie
        return None
    g.same_page_for_everyone = True  # no language cookie for it (web.i18n)
    try:
        g.page_etag, g.page_modified = _validators()
    except (catalogue.CatalogueError, SchemaError, sqlite3.Error):
        return None  # the page says the catalogue is unreachable, in its own way (never kept)
    answer = _not_modified(g.page_etag, g.page_modified)
    if answer is None:
        return None
    answer.headers["Vary"] = VARY
    answer.headers["Cache-Control"] = cache_control()
    return answer


def page_after_request(response: Response) -> Response:
    """Validators and ``Cache-Control`` on a shared page (``private`` for staff)."""
    if not g.get("shared_page") or request.method not in ("GET", "HEAD"):
        return response
    if response.status_code == 200 and "page_etag" in g:
        _validated(response, g.page_etag, g.page_modified)
    else:  # a staff member's page, a message shown once, an error: never kept by others
        response.headers["Cache-Control"] = "private, no-cache"
    response.headers["Vary"] = VARY
    return response


def vary() -> str:
    """The request headers the answer depends on. A map answer that names its language
    (``lang=``, as the map asks) is the same whatever the visitor's cookies and languages,
    so that a shared cache keeps one copy for everyone (staff's are ``private``)."""
    if request.endpoint in MAP_ANSWERS and (request.args.get("lang") or "").lower() in LANGUAGES:
        g.same_for_everyone = True  # the session's own ``Vary: Cookie`` left off too (web.auth)
        return "Accept-Encoding"
    return VARY


def cache_control() -> str:
    """How long the answer may be reused: a map answer a little while by anyone (not a
    signed-in person's); anything else kept but asked again with its validators."""
    config = current_app.config
    # Without a session cookie nobody is signed in (and the session is not opened: Flask
    # would add ``Vary: Cookie`` for it).
    if config["SESSION_COOKIE_NAME"] in request.cookies and current_user.is_authenticated:
        return "private, no-cache"
    if FRESH_COOKIE in request.cookies:  # who just changed an entry sees it now
        return "private, no-cache"
    if request.endpoint in SHARED_PAGES and config["MAP_CACHE_SECONDS"]:
        # Shared caches keep a page a while; a browser asks again each time (a 304 when it is
        # unchanged), so that a visitor who changes an entry never sees their own old copy.
        return (f"public, max-age=0, s-maxage={config['MAP_CACHE_SECONDS']}, "
                f"stale-while-revalidate={config['MAP_STALE_SECONDS']}")
    if request.endpoint in MAP_ANSWERS and config["MAP_CACHE_SECONDS"]:
        return (f"public, max-age={config['MAP_CACHE_SECONDS']}, "
                f"stale-while-revalidate={config['MAP_STALE_SECONDS']}")
    return "no-cache"  # keep, but ask again with the validators


def init_blueprint(bp: Blueprint) -> None:
    """Attach the hooks to the API blueprint."""
    bp.before_request(before_request)
    bp.after_request(after_request)


def init_pages(app: Flask) -> None:
    """Attach the shared pages' hooks to the app (they act on ``SHARED_PAGES`` only)."""
    app.before_request(page_before_request)
    app.after_request(page_after_request)
