"""The request's side of cold work (exports, charts, reports): who is asking, the process's
limiter and lock pool, and the site's stable public address for the links a download holds."""

from __future__ import annotations

from pathlib import Path

from flask import current_app, request

from .. import coldwork


def client() -> str:
    """The asking client's key for the limits (its address, hashed; IPv6 by /64)."""
    return coldwork.client_key(request.remote_addr or "unknown", current_app.config["SECRET_KEY"])


def limiter() -> coldwork.ColdLimiter:
    """The process's limiter of cold computations, shared by exports, charts and reports."""
    config = current_app.config
    return current_app.extensions.setdefault("mapapp.cold", coldwork.ColdLimiter(
        per_client=int(config["COLD_PER_CLIENT"]), total=int(config["COLD_TOTAL"])))


def locks() -> coldwork.LockPool:
    """Lock files that let one process compute a kept file while the others wait for it."""
    return current_app.extensions.setdefault(
        "mapapp.cold_locks", coldwork.LockPool(Path(current_app.config["CACHE_DIR"]) / "locks"))


def public_base() -> str:
    """The site's address for links in exports, linked data, feeds and profiles, never the
    request's Host header (which anyone can set, and which would then be kept or cached
    by a proxy): MAPAPP_PUBLIC_URL, else the address ``mapapp serve`` listens on."""
    config = current_app.config
    public = (config.get("PUBLIC_URL") or "").strip().rstrip("/")
    if public:
        return public
    host = str(config.get("HOST") or "")
    host = "127.0.0.1" if host in ("", "0.0.0.0", "::") else host  # listening everywhere: reached locally  # nosec B104
    return f"http://{f'[{host}]' if ':' in host else host}:{config.get('PORT') or 5000}"
