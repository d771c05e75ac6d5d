"""Response headers that every page and API answer carries."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, current_app, request


def tile_origin(tile_url: str) -> str:
    """The CSP source for the tile server: ``{s}`` subdomains become a wildcard."""
    parts = urlsplit(tile_url)
    host = parts.netloc.replace("{s}", "*")
    if not parts.scheme or not host:
        return "'self'"
    return f"{parts.scheme}://{host}"


FRAMEABLE = ("embed.embed",)  # the only pages partner sites may put in an iframe


def add_headers(response: Response) -> Response:
    """Forbid framing (but for the embed), sniffing and any script, style or image from
    another host but tiles."""
    tiles = tile_origin(current_app.config["TILE_URL"])
    frameable = request.endpoint in FRAMEABLE
    ancestors = current_app.config["EMBED_FRAME_ANCESTORS"] if frameable else "'none'"
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
        f"img-src 'self' data: {tiles}; connect-src 'self'; object-src 'none'; "
        f"base-uri 'self'; form-action 'self'; frame-ancestors {ancestors}",
    )
    if not frameable:
        response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    return response


def init_app(app: Flask) -> None:
    """Register the header hook."""
    app.after_request(add_headers)
