"""The contribution flow's settings for the pages: the site's configuration, and links
made from the request (or MAPAPP_PUBLIC_URL when set)."""

from __future__ import annotations

import dataclasses

from flask import current_app, url_for

from ..contributing import flow
from ..mapdata import geocode
from .db import get_db


def settings() -> flow.Settings:
    """The flow's settings, with absolute links (for e-mails)."""
    public = current_app.config.get("PUBLIC_URL", "").rstrip("/")

    def link(endpoint: str, values: dict) -> str:
        if public:
            return public + url_for(endpoint, **values)
        return url_for(endpoint, _external=True, **values)

    db = get_db()

    def locate(values: dict):
        outcome = geocode.chain_from_settings(current_app.config, db).locate(
            geocode.Address.from_record(values), skip=lambda step: step.name == "provided")
        loc = outcome.location
        return (loc.lat, loc.lon, loc.precision, loc.source) if loc else None

    return dataclasses.replace(flow.settings_from(current_app.config, link), locate=locate)
