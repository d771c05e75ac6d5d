"""Response headers that every page and API answer carries."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, current_app, g, request
from werkzeug.routing import IntegerConverter

from ..params import MAX_ID


def tile_origin(tile_url: str) -> str:
    """The CSP source for the tile server: ``{s}`` subdomains become a wildcard."""
    parts = urlsplit(tile_url)
    host = parts.netloc.replace("{s}", "*")
    if not parts.scheme or not host:
        return "'self'"
    return f"{parts.scheme}://{host}"


FRAMEABLE = ("embed.embed",)  # the only pages partner sites may put in an iframe
# Pages that show staff data or take credentials: never kept by a browser or proxy.
PRIVATE_BLUEPRINTS = ("admin", "imports", "edit", "auth", "sources", "moderation", "personal")


class CatalogueId(IntegerConverter):
    """``<int:…>`` in routes: ids beyond SQLite's integers are simply not found (404)."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)


def add_headers(response: Response) -> Response:
    """Forbid framing (but for the embed), sniffing, any inline script (pages carry data as
    JSON blocks and run only their own files: no per-response nonce, so that a shared cache
    may keep them) and any script, style or image from another host but tiles."""
    # The tile server staff chose, on the pages that read the site's settings (mapcontext).
    site = g.get("mapapp_site")
    tiles = tile_origin(site.tile_url if site else current_app.config["TILE_URL"])
    frameable = request.endpoint in FRAMEABLE
    ancestors = current_app.config["EMBED_FRAME_ANCESTORS"] if frameable else "'none'"
    response.headers.setdefault(
        "Content-Security-Policy",
        f"default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        f"img-src 'self' data: {tiles}; connect-src 'self'; object-src 'none'; "
        f"base-uri 'self'; form-action 'self'; frame-ancestors {ancestors}",
    )
    if not frameable:
        response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    if request.blueprint in PRIVATE_BLUEPRINTS:
        response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    """Register the header hook and the bounded id converter (before any blueprint adds
    its routes)."""
    app.url_map.converters["int"] = CatalogueId
    app.after_request(add_headers)
