"""What the public pages, the staff's page editor and every page's footer share: the site's
pages in the visitor's language, the privacy policy's address, and the values that fill the
ready-made texts' placeholders today."""

from __future__ import annotations

import sqlite3

from flask import Flask, current_app, g, url_for
from flask_babel import gettext as _

from .. import catalogue, pages, site
from ..catalogue import pages as stored_pages
from ..catalogue import site as stored_site
from .db import get_db
from .i18n import current_language


def current_site() -> site.Site:
    """The site as staff set it up, over the operator's defaults."""
    db = get_db()
    return site.effective(current_app.config, stored_site.read_settings(db), stored_site.file_digests(db))


def placeholder_values() -> dict[str, str]:
    """What fills ``[[name]]`` in page texts now: the settings of the day, not of the day the
    page was written."""
    the_site = current_site()
    host = pages.tile_host(the_site.tile_url)
    return pages.placeholder_values(
        site_name=the_site.name, contact_organisation=the_site.contact_organisation,
        contact_email=the_site.contact_email, confirm_hours=current_app.config["CONFIRM_HOURS"],
        # MAPAPP_RETENTION_DAYS: how long decided contributions keep their author's e-mail.
        retention_days=current_app.config["RETENTION_DAYS"],
        tile_host_text=host or _("none (this map shows no tiles from another server)"))


def footer_pages() -> list[dict]:
    """The pages listed in the footer: slug, kind and title in the visitor's language (or
    another), read once per request (the header's menu lists the "about" ones too)."""
    if "footer_pages" in g:
        return g.footer_pages
    lang = current_language()
    try:
        listed = stored_pages.all_pages(get_db(), footer_only=True)
    except (sqlite3.Error, catalogue.CatalogueError):
        return []  # an error page (the catalogue unreadable) still shows, without the list
    out = []
    for page in listed:
        chosen = pages.choose(page["texts"], lang)
        if chosen:
            out.append({"slug": page["slug"], "kind": page["kind"], "title": chosen[1]["title"], "lang": chosen[0]})
    g.footer_pages = out
    return out


def privacy_url() -> str | None:
    """The privacy policy's address, or None while there is none."""
    slug = stored_pages.slug_of_kind(get_db(), "privacy")
    return url_for("pages.show", slug=slug) if slug else None


def init_app(app: Flask) -> None:
    """Let every template list the pages and link the privacy policy (each asked only when a
    template calls it)."""
    app.jinja_env.globals.update(footer_pages=footer_pages, privacy_url=privacy_url)
