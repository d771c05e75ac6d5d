"""Each web worker keeps the public answers a shared cache may keep, for as long as it may.

The map's answers and the anonymous public pages (``apihttp.MAP_ANSWERS | SHARED_PAGES``)
are sent ``public, max-age=MAP_CACHE_SECONDS``: a browser or a caching proxy already reuses
them that long, so a visitor may see an edit that late. Without a proxy in front, every worker
keeps them too, under the same contract: a repeat of the same URL (parameters in a normal
order), in the same language and the same representation (the client's accepted encodings:
Flask-Compress's gzip and identity copies are other bytes) is sent the kept bytes and headers
until ``MAP_CACHE_SECONDS`` have passed, and a conditional request whose copy is still the kept
one is answered 304. Edits do not empty it (staff edit every few seconds: it would never
serve); another catalogue lineage (a restored backup, a migration: ``catalogue.State``) does.

Only what a shared cache may keep is kept: an anonymous GET of those endpoints answered 200,
``public``, with an ``ETag``, no ``Set-Cookie``, varying on nothing but the encoding, the
language and the cookie (the session is not the visitor's own: staff signed in and visitors
with a message to show are never served from it, nor stored). The whole is an LRU bounded in
bytes per worker (``ANSWER_CACHE_MB``; 0 keeps none), safe across the threads of a gthread
worker. A request served from it runs no view and no hook: its answer is the one the first
request got, headers and all.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from cachetools import TTLCache
from flask import Flask, Response, request

from .. import catalogue
from ..catalogue.migrations import SchemaError
from .apihttp import ENCODINGS, MAP_ANSWERS, SHARED_PAGES, _personal, normal_query
from .db import get_db
from .i18n import TZ_COOKIE, current_language

KEPT_ENDPOINTS = MAP_ANSWERS | SHARED_PAGES
# The request headers a kept answer may vary on: the key holds the encoding and the language,
# and a session that is not the visitor's own (checked before serving) changes nothing.
VARY_KEPT = frozenset({"accept-encoding", "accept-language", "cookie"})


def clock() -> float:
    """Seconds on a clock that only goes forward (tests move it instead of waiting)."""
    return time.monotonic()


@dataclass(frozen=True)
class Kept:
    """One answer as it was sent: status, final headers, final (compressed) bytes."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    at: float

    @property
    def size(self) -> int:
        return len(self.body) + sum(len(name) + len(value) for name, value in self.headers) + 200


class AnswerCache:
    """The kept answers of one worker process (all its threads), of one catalogue lineage."""

    def __init__(self, max_bytes: int, seconds: int):
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._lineage = ""
        self._kept: TTLCache = TTLCache(maxsize=max_bytes, ttl=seconds, timer=lambda: clock(),
                                        getsizeof=lambda kept: kept.size)

    def __len__(self) -> int:
        with self._lock:
            self._kept.expire()
            return len(self._kept)

    def get(self, key: tuple, lineage: str) -> Kept | None:
        with self._lock:
            if lineage != self._lineage:  # another catalogue: nothing kept is its
                self._kept.clear()
                self._lineage = lineage
                return None
            return self._kept.get(key)

    def put(self, key: tuple, lineage: str, kept: Kept) -> None:
        if kept.size > self.max_bytes:
            return
        with self._lock:
            if lineage != self._lineage:
                self._kept.clear()
                self._lineage = lineage
            self._kept[key] = kept


def _key() -> tuple | None:
    """What the answer to this request is the same for, or None when it is not to be kept."""
    if request.method not in ("GET", "HEAD") or request.endpoint not in KEPT_ENDPOINTS:
        return None
    if _personal():
        return None
    encodings = tuple(request.accept_encodings.quality(name) for name in ENCODINGS)
    return (request.host, request.path, normal_query(), current_language(), encodings,
            request.cookies.get(TZ_COOKIE, ""))


def _keepable(response: Response) -> bool:
    """Whether a shared cache could keep this answer for everyone asking the same."""
    if request.method != "GET" or response.status_code != 200 or response.is_streamed:
        return False
    if "Set-Cookie" in response.headers or not response.headers.get("ETag"):
        return False
    control = response.cache_control
    if not control.public or control.private or control.no_store or control.no_cache:
        return False
    return all(part.strip().lower() in VARY_KEPT for part in response.headers.get("Vary", "").split(",")
               if part.strip())


def _answer(kept: Kept) -> Response:
    """The kept answer (or a 304 when the client's copy is it), with its age."""
    response = Response(kept.body, status=kept.status, headers=list(kept.headers))
    response.headers["Age"] = str(max(0, int(clock() - kept.at)))
    return response.make_conditional(request)


def init_app(app: Flask) -> None:
    """Serve and keep the public answers, around the app's whole dispatch (before every
    hook, after Flask-Compress and the session have had their say)."""
    max_bytes = int(app.config.get("ANSWER_CACHE_MB", 0)) * 2**20
    seconds = int(app.config.get("MAP_CACHE_SECONDS", 0))
    if max_bytes <= 0 or seconds <= 0:  # nothing may be reused: nothing kept
        return
    app.extensions["mapapp.answercache"] = AnswerCache(max_bytes, seconds)
    dispatch: Callable[[], Response] = app.full_dispatch_request

    def full_dispatch_request() -> Response:
        key = _key()
        if key is None:
            return dispatch()
        try:
            lineage = catalogue.state(get_db()).lineage
        except (catalogue.CatalogueError, SchemaError, sqlite3.Error):
            return dispatch()  # the page says the catalogue is unreachable, in its own way
        cache: AnswerCache = app.extensions["mapapp.answercache"]
        kept = cache.get(key, lineage)
        if kept is not None:
            return _answer(kept)
        response = dispatch()
        if _keepable(response):
            cache.put(key, lineage, Kept(response.status_code, tuple(response.headers.items()),
                                         response.get_data(), clock()))
        return response

    app.full_dispatch_request = full_dispatch_request  # type: ignore[method-assign]
