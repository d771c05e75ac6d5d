"""The contribution flow's settings, for the pages and the command line alike: the site's
configuration, and the links in messages, made from MAPAPP_PUBLIC_URL and never from the
request (see ``mail.public_address``)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from urllib.parse import urlsplit

from flask import Flask, current_app

from ..contributing import flow
from ..mail import public_address
from ..mapdata import geocode
from .db import get_db


def message_links(app: Flask) -> Callable[[str, dict], str]:
    """(endpoint, values) → the absolute address of that page on the site's public address.

    Built from the app's URL map bound to that address, not from a request: the same links
    whether a visitor's request or cron sends the message. Raises ``mail.NoPublicAddress``
    when real mail would go out with no address configured."""
    base = urlsplit(public_address(app.config))
    adapter = app.url_map.bind(base.netloc, script_name=base.path or "/", url_scheme=base.scheme)

    def link(endpoint: str, values: dict) -> str:
        values = dict(values)
        app.inject_url_defaults(endpoint, values)
        return adapter.build(endpoint, values, force_external=True)

    return link


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

    return dataclasses.replace(flow.settings_from(app.config, link), locate=locate)
