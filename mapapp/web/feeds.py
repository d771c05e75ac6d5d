"""The change feed for feed readers and aggregators: ``/feed.atom``, the organisations new
or changed last (published, matching the map's filters), built with feedgen."""

from __future__ import annotations

from datetime import datetime

from feedgen.feed import FeedGenerator
from flask import Blueprint, Response, request, url_for
from flask_babel import gettext as _

from .. import catalogue, kinds, vocab
from ..catalogue import changes as change_store
from ..filters import Filters
from ..records import organisation_url
from ..text import strip_unsafe
from .cold import public_base
from .db import get_db
from .i18n import current_language
from .mapcontext import current_site

bp = Blueprint("feeds", __name__)
FEED_SIZE = 50


@bp.get("/feed.atom")
def atom():
    """An Atom feed of the organisations new or changed last, for the map's filters."""
    filters = Filters.from_args(request.args)
    db = get_db()
    lang = current_language()
    rows = change_store.latest(db, filters, FEED_SIZE, lang)
    query = {**filters.to_args(), "lang": lang}
    base = public_base()  # never the request's Host: a shared cache keeps this answer for everyone
    feed = FeedGenerator()
    feed.id(base + url_for("feeds.atom", **query))
    feed.title(_("%(site)s: new and changed organisations", site=strip_unsafe(current_site().name)))
    tagline, _other = current_site().text(current_site().tagline, lang)
    feed.subtitle(strip_unsafe(tagline) or _("Social and solidarity economy map"))
    feed.link(href=base + url_for("feeds.atom", **query), rel="self", type="application/atom+xml")
    feed.link(href=base + url_for("views.index", **query), rel="alternate", type="text/html")
    feed.language(lang)
    feed.generator("mapapp")
    _version, changed_at = catalogue.last_change(db)
    feed.updated(_moment(rows[0]["updated_at"] if rows else changed_at))
    for org in rows:
        entry = feed.add_entry(order="append")
        page = organisation_url(base, org["slug"])
        entry.id(page)
        # Stored text may predate the input cleaning (strip_unsafe): one U+FFFE must not fail
        # the whole feed, which XML cannot carry.
        entry.title(strip_unsafe(org["name"]))
        entry.link(href=page, rel="alternate", type="text/html")
        entry.published(_moment(org["created_at"]))
        entry.updated(_moment(org["updated_at"]))
        place = ", ".join(p for p in (org["city"], vocab.country_name(org["country"] or "", lang)) if p)
        summary = "\n\n".join(p for p in (place, org["description_in_lang"]) if p)
        entry.summary(strip_unsafe(summary), type="text")  # never markup
        for theme in org["themes"]:
            entry.category(term=theme, scheme=vocab.THEME_URI_BASE, label=kinds.theme_label(theme, lang))
    response = Response(feed.atom_str(pretty=True), mimetype="application/atom+xml")
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


def _moment(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))
