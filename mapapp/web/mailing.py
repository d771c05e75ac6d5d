"""The contribution flow's settings for the pages: the site's configuration, the links in
messages (made from MAPAPP_PUBLIC_URL and never from the request: ``mail.message_links``), and
the geocoder chain that locates a contribution."""

from __future__ import annotations

import dataclasses

from flask import current_app

from ..contributing import flow
from ..mail import message_links
from ..mapdata import geocode
from .db import get_db
from .mapcontext import current_site


def settings() -> flow.Settings:
    """The flow's settings, with absolute links (for e-mails); raises ``mail.NoPublicAddress``
    (a 503 page saying what to set) before anything is done when no mail could carry them."""
    app = current_app._get_current_object()
    link = message_links(app)

    def locate(values: dict):
        outcome = geocode.chain_from_settings(app.config, get_db()).locate(
            geocode.Address.from_record(values), skip=lambda step: step.name == "provided")
        loc = outcome.location
        return (loc.lat, loc.lon, loc.precision, loc.source) if loc else None

    return dataclasses.replace(flow.settings_from(app.config, link, site_name=current_site().name), locate=locate)
