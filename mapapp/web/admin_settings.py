"""The site's settings in the staff area (admins only): identity, colours, the map's default
view and tiles, the contact shown in the footer. Every save is audited and shows everywhere
at once (``catalogue.site``; the checks are ``mapapp.site``'s)."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import site
from ..catalogue import site as site_store
from ..translate import translated
from ..vocab import LANGUAGES
from .auth import role_required
from .db import get_db
from .i18n import current_language

bp = Blueprint("site_settings", __name__, url_prefix="/admin/settings")


@bp.after_request
def private(response):
    """Staff pages are never kept by a browser or a proxy."""
    response.headers["Cache-Control"] = "no-store"
    return response

TEXT_KEYS = ("site_name", "tile_url", "tile_attribution", "contact_organisation", "contact_email")
COLOUR_KEYS = ("primary_colour", "accent_colour")
PER_LANGUAGE = ("tagline", "intro")
VIEW_FIELDS = ("view_south", "view_west", "view_north", "view_east")


def labels() -> dict[str, str]:
    """Each setting's name as the form and the flash message say it."""
    return {"site_name": _("Site name"), "tagline": _("Tagline"), "intro": _("Introduction"),
            "primary_colour": _("Primary colour"), "accent_colour": _("Accent colour"),
            "default_view": _("Default view of the map"), "tile_url": _("Tile server address"),
            "tile_attribution": _("Tile attribution"), "contact_organisation": _("Organisation behind the site"),
            "contact_email": _("Contact address")}


def form_values(stored: dict) -> dict[str, str]:
    """The form's fields filled from what staff stored (empty: the default)."""
    values = {key: stored.get(key) or "" for key in TEXT_KEYS + COLOUR_KEYS}
    for key in PER_LANGUAGE:
        for lang in LANGUAGES:
            values[f"{key}:{lang}"] = (stored.get(key) or {}).get(lang, "")
    view = stored.get("default_view")
    numbers = [view[0][0], view[0][1], view[1][0], view[1][1]] if view else ["", "", "", ""]
    values.update({name: str(n) for name, n in zip(VIEW_FIELDS, numbers)})
    return values


def changes_from(form) -> tuple[dict, dict[str, str]]:
    """The settings the form asks for, as stored (None: back to the default), and the
    typed values to show again."""
    typed = {key: form.get(key, "") for key in TEXT_KEYS + COLOUR_KEYS + VIEW_FIELDS}
    changes: dict = {}
    for key in TEXT_KEYS + COLOUR_KEYS:
        changes[key] = site.clean_text(typed[key]) or None
    for key in PER_LANGUAGE:
        texts = {}
        for lang in LANGUAGES:
            typed[f"{key}:{lang}"] = form.get(f"{key}:{lang}", "")
            text = site.clean_text(typed[f"{key}:{lang}"], one_line=key == "tagline")
            if text:
                texts[lang] = text
        changes[key] = texts or None
    numbers = [typed[name].strip() for name in VIEW_FIELDS]
    if not any(numbers):
        changes["default_view"] = None
    else:
        try:
            south, west, north, east = (round(float(n), 5) for n in numbers)
            changes["default_view"] = [[south, west], [north, east]]
        except ValueError:
            changes["default_view"] = numbers  # refused by the check, saying what to write
    return changes, typed


@bp.route("", methods=["GET", "POST"])
@role_required("admin")
def index():
    """The settings form; a save stores what changed, with its audit entry."""
    db = get_db()
    stored = site_store.read_settings(db)
    values, errors = form_values(stored), {}
    status = 200
    if request.method == "POST":
        changes, values = changes_from(request.form)
        lang = current_language()
        errors = {key: translated(message, lang) for key, message in site.check(changes).items()}
        if errors:
            flash(_("Nothing was saved: fix the fields marked below."))
            status = 400
        else:
            changed = site_store.write_settings(db, changes, current_user.email)
            if changed:
                names = labels()
                flash(_("Saved: %(fields)s. Every page shows it now.",
                        fields=", ".join(label for key, label in names.items() if key in changed)))
            else:
                flash(_("Nothing changed."))
            return redirect(url_for(".index"))
    return render_template("admin/settings.html", values=values, errors=errors, labels=labels(), is_colour=site.is_colour,
                           defaults={"site_name": current_app.config["SITE_NAME"],
                                     "tile_url": current_app.config["TILE_URL"],
                                     "primary_colour": site.Site.primary_colour,
                                     "accent_colour": site.Site.accent_colour}), status
