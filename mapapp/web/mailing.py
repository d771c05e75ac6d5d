"""The contribution flow's settings for the pages: the site's configuration, and links
made from the request (or MAPAPP_PUBLIC_URL when set)."""

from __future__ import annotations

from flask import current_app, url_for

from ..contributing import flow


def settings() -> flow.Settings:
    """The flow's settings, with absolute links (for e-mails)."""
    public = current_app.config.get("PUBLIC_URL", "").rstrip("/")

    def link(endpoint: str, values: dict) -> str:
        if public:
            return public + url_for(endpoint, **values)
        return url_for(endpoint, _external=True, **values)

    return flow.settings_from(current_app.config, link)
