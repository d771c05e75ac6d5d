"""What every map page (the map, the embed) and the filter panels share: the process's
map index, filter options with counts, the settings read by map.js, the template helpers."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote, urlencode

from babel import Locale
from flask import Flask, current_app, g, has_app_context, request, url_for
from flask_babel import get_translations, ngettext
from flask_babel import gettext as _
from markupsafe import Markup

from .. import accounts, catalogue, icons, kinds, multilingual, records, site, vocab
from ..catalogue import demo as demo_rows
from ..catalogue import fields as field_store
from ..catalogue import site as site_store
from ..catalogue.kinds import choices
from ..config import SETTINGS
from ..filters import Filters
from ..importing import columns
from ..mapdata import mapindex, markers, outlines
from ..mapdata.shell import DEFAULT_CENTER, DEFAULT_ZOOM, FIT_OPTIONS, FOCUS_ZOOM, MapShell, map_shell
from ..translate import N_
from .db import category_tree, get_db
from .i18n import current_language

DEFAULT_ATTRIBUTION = next(s.default for s in SETTINGS if s.name == "TILE_ATTRIBUTION")
# An embed's heights in pixels: the one definition that the embed page, oEmbed, the
# builder and embed.js read. The map's own (?height=) within min and max; what its frame
# adds around it at 400 px wide in the wordiest language (the filter bar and the footer,
# or the footer alone without controls); the bounds of a frame that follows its content
# (open filters make it taller than the map).
EMBED_HEIGHT = {"min": 200, "max": 2000, "default": 480, "around": {"controls": 150, "bare": 100},
                "frameMax": 4000}
# Organisations in the first page of the list beside the map.
LIST_SIZE = 50


def current_site() -> site.Site:
    """The site as staff set it up, read once per request (pages, embed, feeds, e-mails). A
    catalogue that cannot be read gives the operator's defaults: error pages still show."""
    if "mapapp_site" not in g:
        try:
            db = get_db()
            stored, files = site_store.read_settings(db), site_store.file_digests(db)
        except Exception:  # noqa: BLE001 - the error page of a broken catalogue must render
            current_app.logger.exception("the site's settings could not be read")
            stored, files = {}, {}
        g.mapapp_site = site.effective(current_app.config, stored, files)
    return g.mapapp_site


def map_index() -> mapindex.MapIndex:
    """The process's map index, created on first use; its columns are shared with the
    other worker processes through files in ``MAPAPP_CACHE_DIR``. After a large import it
    keeps answering from the columns it has while the new ones are read in the background."""
    index = current_app.extensions.get("mapapp.index")
    if index is None:
        index = current_app.extensions.setdefault(
            "mapapp.index", mapindex.MapIndex(Path(current_app.config["CACHE_DIR"]) / "map", background=True))
    return index


def facet_options(db, counts: dict, lang: str) -> dict:
    """Every filter value of every kind with its label and count, in its vocabulary's order;
    a category also says its parent's code (None for a top-level one), colour and icon (a
    parent's count is of the organisations in it or any of its children, each once)."""
    options = {}
    tree = category_tree()
    for kind in kinds.registry():
        present = counts.get(kind.name, {})
        options[kind.name] = [{"value": value, "label": label, "count": present.get(value, 0)}
                              for value, label in choices(db, kind, present, lang)]
        if isinstance(kind.vocabulary, kinds.Categories) and tree is not None:
            for option in options[kind.name]:
                found = tree.by_code[option["value"]]
                up = tree.parent(found.code)
                option.update(parent=up.code if up else None, colour=found.colour, icon=found.icon)
    return options


def offered_categories() -> list:
    """The categories forms and lists offer (``code``, ``label(lang)``, ``colour``, ``icon``,
    ``parent_id``), each parent followed by its children."""
    tree = category_tree()
    return tree.offered_list if tree is not None else []


def theme_label(code: str) -> str:
    """A category's label in the page's language, from the tree."""
    return kinds.BY_NAME["theme"].vocabulary.label(code, current_language())


def resource_icons() -> dict[str, list[str]]:
    """The path data of every need's and offer's icon (data/vocab/resources.csv), for map.js."""
    return {name: list(icons.paths(name)) for name in sorted({t.icon for t in vocab.resources() if t.icon})}


def category_icon(name: str) -> Markup:
    """A category's icon, decorative (its label says what it is)."""
    return Markup(icons.svg(name, size=16))  # nosec B704 # icons.svg checks the name and path data


def filter_panel(db, filters: Filters, *, bounds: bool = True) -> dict:
    """The filter panel: options with counts, the filters, how many organisations match
    and (``bounds``, for a map) the bounds of their points."""
    columns = map_index().get(db)
    counts = mapindex.facet_counts(columns, filters, db)
    selected = mapindex.selection_bits(columns, filters, db)
    return {"options": facet_options(db, counts, current_language()), "filters": filters,
            "total": mapindex.count_bits(selected),
            "bounds": mapindex.selection_bounds(columns, selected) if bounds else None}


def first_list(db, filters: Filters) -> dict:
    """The list beside the map for a view that shows every located organisation of the
    selection: what /api/organisations answers for it (total and first page)."""
    total, ids = mapindex.listing(map_index().get(db), filters, db, limit=LIST_SIZE, located_only=True)
    lang = current_language()
    items = [records.Record.of(org, base=request.script_root).summary(lang)
             for org in catalogue.organisations_by_ids(db, ids)]
    return {"total": total, "items": items}


def map_context(filters: Filters, *, locked: tuple[str, ...] = (), extra: dict | None = None) -> dict:
    """What the map templates need: the folium shell, settings for map.js, the filter panel.
    Locked kinds (embeds) offer only their locked values."""
    db = get_db()
    panel = filter_panel(db, filters)
    shell = current_shell()
    settings = {
        "lang": current_language(),
        "kinds": [k.name for k in kinds.registry()],
        "center": list(DEFAULT_CENTER),
        "fit": FIT_OPTIONS,
        "focusZoom": FOCUS_ZOOM,
        "listSize": LIST_SIZE,
        "categories": category_legend(db, Filters(**{kind: getattr(filters, kind) for kind in locked})),
        "zoom": DEFAULT_ZOOM,
        "page": url_for("views.organisation", slug="SLUG"),
        "suggest": url_for("contribute.suggest", slug="SLUG"),
        "locked": {kind: list(filters.values(kind)) for kind in locked},
        "api": {"clusters": url_for("api.clusters"), "facets": url_for("api.facets"),
                "organisations": url_for("api.organisations"),
                "organisation": url_for("api.organisation", slug="SLUG")},
        "i18n": {
            "loading": _("Loading organisations…"),
            "inView": plural_forms(lambda n: get_translations().ngettext(
                "%(num)s organisation in view", "%(num)s organisations in view", n)),
            "noneInView": _("No organisation in this part of the map. Zoom out or change the filters."),
            "noMatch": _("No organisation matches these filters or this search anywhere. Change or clear them."),
            "error": _("The organisations could not be loaded. Try reloading the page."),
            "more": _("Zoom in to see the others."),
            "fictional": _("Fictional demo organisation"),
            "cluster": _("%(n)s organisations: zoom in"),
            "clusterForms": plural_forms(lambda n: get_translations().ngettext(
                "%(n)s organisation, zoom in", "%(n)s organisations, zoom in", n)),
            # A popup's groups; French puts a no-break space before the colon ("Besoins :").
            "needsLabel": _("Needs:"),
            "offersLabel": _("Offers:"),
            "partnersLabel": _("Possible partners:"),
            # %(n)s: the resources a possible partner offers (or needs) that match, "funding, training"
            "partnerOffers": _("offers %(n)s"),
            "partnerNeeds": _("needs %(n)s"),
            "mapRegion": _("Map of the organisations"),
            "mapRole": _("map"),
            "total": plural_forms(lambda n: get_translations().ngettext("%(num)s organisation", "%(num)s organisations", n)),
            # %(n)s: a date (the JS fills one placeholder name)
            "stale": _("not confirmed since %(n)s: may be out of date"),
            "staleMarker": _("not confirmed for a long time"),
            "legend": _("Categories"),
            "legendHint": _("Choose a category to show only its organisations; choose it again to show all."),
            "suggest": _("Suggest a correction"),
            "closeCard": _("Close this card"),
        },
        "basemap": basemap_settings(),
        "resourceIcons": resource_icons(),
        **(extra or {}),
    }
    # The shell sets the first view from these bounds (or the focus), so that it shows
    # every located organisation of the selection: map.js asks for its clusters only,
    # the list's first page is here. Or it shows staff's default view: map.js asks for
    # that view's list too (the selection's whole list is not the view's).
    bounds = first_bounds(filters, panel["bounds"])
    settings["initial"] = {"total": panel["total"], "bounds": bounds,
                           "list": first_list(db, filters) if bounds == panel["bounds"] else None}
    if catalogue.has_fictional(db):  # for the banner map.js shows when the filters reach the demo
        settings["i18n"]["demoBanner"] = _("Demo data: the organisations shown here are fictional.")
    for kind in locked:
        allowed = set(filters.values(kind))
        panel["options"][kind] = [o for o in panel["options"][kind] if o["value"] in allowed]
    return {"shell": shell, "shell_url": shell_script_url(shell), "settings": settings,
            "fictional": shows_fictional(db, filters), **panel}


def current_shell() -> MapShell:
    """The folium map shell for the site's tile settings in the visitor's language."""
    tiles = tile_settings()
    return map_shell(
        tile_url=tiles["url"],
        attribution=tiles["attribution"],
        max_zoom=tiles["maxZoom"],
        leaflet_js=url_for("static", filename="vendor/leaflet/leaflet.js"),
        leaflet_css=url_for("static", filename="vendor/leaflet/leaflet.css"),
    )


def shell_script_url(shell: MapShell) -> str:
    """Where the page loads the shell's script from (``views.map_shell``): a script of its
    own, not inline, so that the page needs no per-response CSP nonce and a shared cache
    can keep it; ``v`` is the script's digest, so a new tile setting is a new URL."""
    digest = hashlib.sha1(str(shell.script).encode(), usedforsecurity=False).hexdigest()[:12]
    return url_for("views.map_shell", lang=current_language(), v=digest)


def shows_fictional(db, filters: Filters) -> bool:
    """Whether the selection (the map's, the directory's, the stats') holds a fictional demo
    organisation: what the demo banner says, and only then. The demo's few ids come through
    an index, then are looked up in the map's columns, whatever the catalogue's size."""
    fictional = demo_rows.fictional_ids(db)
    return bool(fictional) and mapindex.selects_any(map_index().get(db), filters, db, fictional)


def site_colours() -> dict[str, str]:
    """The site's colours for a ``<style>``: only ``#rrggbb`` values (what the settings form
    lets through) ever reach the CSS; anything else gives the default."""
    shown = current_site()
    return {"primary": shown.primary_colour if site.is_colour(shown.primary_colour) else site.Site.primary_colour,
            "accent": shown.accent_colour if site.is_colour(shown.accent_colour) else site.Site.accent_colour}


def first_bounds(filters: Filters, selection: list | None) -> list | None:
    """The map's first view (min lon, min lat, max lon, max lat): the staff's default view when
    the visitor chose nothing (or nothing located matches), else the selection's bounds."""
    view = current_site().default_view
    if view and (selection is None or not filters.to_args()):
        (south, west), (north, east) = view
        return [west, south, east, north]
    return selection


def category_legend(db, filters: Filters) -> dict:
    """The markers' colours and icons and the legend, for map.js: every category of the map
    index's palette by its index (labels in the visitor's language), which of them the
    organisations of ``filters`` (an embed's locked ones; else all) have as their main one,
    and each icon's path data once."""
    columns = map_index().get(db)
    legend = markers.legend(db, columns.palette, mapindex.category_counts(columns, filters, db), current_language())
    legend["categories"][0]["label"] = _("No category")
    return legend


def url_with(**changes) -> str:
    """The current page's URL with some query parameters changed (None removes one)."""
    args = request.args.to_dict(flat=False)
    for key, value in changes.items():
        if value is None:
            args.pop(key, None)
        else:
            args[key] = [value]
    if request.endpoint is None:  # an error page for an unknown address
        return request.path + "?" + urlencode(args, doseq=True)
    return url_for(request.endpoint, **(request.view_args or {}), **args)


def basemap_settings() -> dict:
    """What basemap.js needs to draw country outlines when the tiles do not arrive."""
    return {"outlines": url_for("views.outlines"), "labels": url_for("views.outline_labels", language=current_language()),
            "attribution": outlines.ATTRIBUTION,
            "notice": _("The map tiles could not be loaded: showing country outlines only."),
            "noticeShort": _("Outlines only: no map tiles."),
            "words": {"zoomIn": _("Zoom in"), "zoomOut": _("Zoom out"), "closePopup": _("Close this popup"),
                      "closeNotice": _("Close this notice"),
                      "leaflet": _("Leaflet, a JavaScript library for interactive maps")}}


def tile_attribution() -> str:
    """The tiles' attribution: staff's plain text (escaped: Leaflet shows it as HTML), the
    operator's HTML, or OpenStreetMap's default in the visitor's language."""
    configured = current_site().tile_attribution
    if configured != current_app.config["TILE_ATTRIBUTION"]:
        return site.attribution_html(configured)
    if configured != DEFAULT_ATTRIBUTION:
        return configured
    return _("%(osm)s contributors", osm='&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a>')


def tile_settings() -> dict:
    """The base layer of every map surface: the map shell is built from it, the small maps
    (organisation page, staff pin editor) read it through basemap.js's ``mapappTiles``."""
    url = current_site().tile_url
    if url and url != current_app.config["TILE_URL"] and site.tile_url_error(url):
        url = current_app.config["TILE_URL"]  # only what the settings form lets through
    return {"url": url, "attribution": tile_attribution(),
            "maxZoom": current_app.config["TILE_MAX_ZOOM"]}


def staff_words() -> dict[str, dict[str, str]]:
    """Codes staff screens show, as words in the staff member's language."""
    return {
        "precision": {"provided": _("coordinates from the file"), "address": _("address"), "street": _("street"),
                      "postcode": _("postcode"), "locality": _("town or village"), "region": _("region"),
                      "country": _("country only"), "manual": _("placed by hand"), "": _("not located")},
        "status": {"draft": _("draft"), "published": _("published"), "archived": _("archived")},
        "role": {"admin": _("administrator"), "editor": _("editor")},
    }


def audit_text(entry: dict) -> str:
    """What an audit entry did, in the staff member's language: "edited: street, themes",
    "published", "created by import #4"…"""
    action = entry["action"]
    words = staff_words()
    kind, _sep, rest = action.partition(":")
    if kind == "edit":
        labels = [_(columns.FIELD_LABELS[f]) if f in columns.FIELD_LABELS else _(_OTHER_FIELDS[f]) if f in _OTHER_FIELDS else f
                  for f in accounts.changed_fields(entry["before"], entry["after"])]
        return _("edited: %(fields)s", fields=", ".join(labels)) if labels else _("saved without changes")
    if kind == "status":
        return _("status set to %(status)s", status=words["status"].get(rest, rest))
    if kind == "bulk-status":
        n = len((entry["before"] or {}).get("statuses") or {})
        return ngettext("%(num)s organisation set to %(status)s", "%(num)s organisations set to %(status)s", n,
                        status=words["status"].get(rest, rest))
    if kind == "undo-bulk-status":
        return _("change #%(n)s undone", n=rest)
    if kind == "import":
        number, _sep, what = rest.partition(":")
        return (_("created by import #%(n)s", n=number) if what == "created"
                else _("updated by import #%(n)s", n=number))
    if kind == "undo-import":
        return _("import #%(n)s undone", n=rest)
    if kind == "remove-demo":
        return ngettext("demo data removed: %(num)s organisation", "demo data removed: %(num)s organisations",
                        ((entry["after"] or {}).get("counts") or {}).get("organisations", 0))
    if kind == "undo-remove-demo":
        return _("removal of the demo data undone (change #%(n)s)", n=rest)
    if kind == "undo":
        return _("change #%(n)s undone", n=rest)
    if kind == "contribution":
        return _("accepted from contribution #%(n)s", n=rest)
    if kind == "contribution-rejected":
        return _("contribution #%(n)s rejected", n=rest)
    if kind == "owner-links-revoked":
        return _("edit links sent to its owner withdrawn")
    if kind == "created":
        return _("created by staff")
    if kind == "owner-link-sent":
        return _("edit link sent to its e-mail")
    if kind == "project-member":
        labels = [_(_OTHER_FIELDS[f]) for f in accounts.changed_fields(entry["before"], entry["after"]) if f in _OTHER_FIELDS]
        return _("projects changed on a project's page: %(fields)s", fields=", ".join(labels))
    if kind == "project-bulk":
        return ngettext("%(num)s organisation added to a project", "%(num)s organisations added to a project",
                        len((entry["before"] or {}).get("memberships") or {}))
    if kind in ("project", "project-delete", "project-delete-undone", "project-restore"):
        return _("project #%(n)s changed (Projects)", n=rest)
    if kind == "page":
        return _("page #%(n)s changed (Pages)", n=rest)
    if kind == "visit":
        return _("visit #%(n)s changed (Visits and events)", n=rest)
    if kind in ("category", "category-retire"):
        return _("category #%(n)s changed (Categories)", n=rest)
    if kind == "personal-data":
        return _("e-mail erased at its owner's request (personal data)")
    return action


_OTHER_FIELDS = {"projects": N_("projects"), "memberships": N_("relations to projects"), "visits": N_("visits"), "descriptions": N_("translated descriptions"),
                 "status": N_("status"), "geo_precision": N_("location precision"), "geo_source": N_("location source")}


@lru_cache(maxsize=4)
def _favicon(static_folder: str) -> str:
    # In the page itself: one request fewer, and none after the page has loaded.
    svg = (Path(static_folder) / "favicon.svg").read_text(encoding="utf-8").strip()
    return "data:image/svg+xml," + quote(svg, safe=" =:/\"'<>")


def _town(city: str | None, country: str | None) -> str:
    """A town's name in the visitor's language where CLDR has one ("Varsovie"), else as stored."""
    return multilingual.local_town(city, country, current_language())


def plural_forms(form: Callable[[int], str]) -> dict[str, str]:
    """A count's message for map.js, per CLDR plural category of the visitor's language
    ("one", "few", "many", "other"), each the catalogue's own form for a number of that
    category: the script picks one with ``Intl.PluralRules``, so that "5 organizacji" reads
    the same after a filter change as the server wrote it on first load."""
    # The same for every request in a language (the catalogues are compiled once), and two
    # hundred translations each time: kept per language and message (``form``'s code).
    lang = current_language()
    key = (lang, form.__code__)
    forms = _PLURAL_FORMS.get(key)
    if forms is None:
        rule = Locale.parse(lang).plural_form
        forms = {}
        for n in range(0, 200):
            forms.setdefault(rule(n), form(n).replace("%(num)s", "%(n)s"))
        forms.setdefault("other", form(100).replace("%(num)s", "%(n)s"))  # Polish "other": fractions only
        _PLURAL_FORMS[key] = forms
    return dict(forms)


_PLURAL_FORMS: dict[tuple, dict[str, str]] = {}


def show_count_forms() -> dict[str, str]:
    """The phone's filter sheet button, "Show 76 organisations", in every plural form
    (static/js/sheet.js picks one as the count changes)."""
    return plural_forms(lambda n: get_translations().ngettext("Show %(num)s organisation", "Show %(num)s organisations", n))


def template_helpers() -> dict:
    """Names every template may use."""
    return {"filter_kinds": kinds.registry(), "favicon": _favicon(current_app.static_folder), "basemap_settings": basemap_settings, "audit_text": audit_text, "tile_attribution": tile_attribution, "staff_words": staff_words, "vocab": vocab, "lang": current_language(), "town": _town,
            "offered_categories": offered_categories, "theme_label": theme_label, "category_icon": category_icon,
            "site": current_site(), "site_name": current_site().name, "site_colours": site_colours(),
            "url_with": url_with, "embed_height": EMBED_HEIGHT, "map_center": list(DEFAULT_CENTER),
            "map_zoom": DEFAULT_ZOOM, "tile_settings": tile_settings, "show_count_forms": show_count_forms}


def init_app(app: Flask) -> None:
    """Register the template helpers, and the catalogue's filter fields as kinds of the
    registry (read from the request's catalogue when a request first needs them)."""
    app.context_processor(template_helpers)

    def field_kinds() -> tuple:
        if not has_app_context():
            return ()  # a streamed answer read after its request: its filters were parsed before
        try:
            return field_store.filter_kinds(get_db())
        except catalogue.CatalogueError:
            return ()  # the page that needs the catalogue says it is unreachable, in its own way

    @app.before_request
    def _field_kinds() -> None:
        kinds.use_fields(field_kinds)
