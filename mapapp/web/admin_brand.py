"""The site's logo and EU funding block: the admins' page ``/admin/settings/brand``, the logo's
versioned address, and the names the header, footer and embed templates show them with."""

from __future__ import annotations

import re

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import brand, images, site
from ..catalogue import site as store
from ..translate import translated
from ..vocab import LANGUAGES
from . import mapcontext
from .auth import role_required
from .db import get_db
from .i18n import current_language

bp = Blueprint("brand", __name__)
_LOGO_NAME = re.compile(r"^logo-([0-9a-f]{16})\.(png|svg)$")
# A sanitised SVG may still hold CSS; nothing in it may run or fetch, even opened on its own.
_SVG_CSP = "default-src 'none'; style-src 'unsafe-inline'"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")


def current_site() -> site.Site:
    """The ``Site`` of this request, read once (``mapcontext.current_site``: every template's)."""
    return mapcontext.current_site()


def _logo_src(found: site.Site) -> str:
    if not found.logo:
        return ""
    info = store.read_file_info(get_db(), brand.LOGO)
    return url_for(brand.LOGO_ENDPOINT, filename=brand.logo_filename(info["sha256"], info["media_type"])) if info else ""


@bp.app_context_processor
def brand_names() -> dict:
    """``site``, the logo's address (``logo_src``, "" without one), the funding block in the
    visitor's language (``funding``, None when off) and the emblem's address."""
    found = current_site()
    return {"site": found, "logo_src": _logo_src(found), "funding": brand.funding(found, current_language()),
            "eu_emblem_src": url_for("static", filename="eu/eu-emblem.svg")}


@bp.get("/site/<filename>")
def logo(filename: str):
    """The logo at its versioned address: cached for ever; an SVG may run nothing."""
    if not _LOGO_NAME.match(filename):
        abort(404)
    found = store.read_file(get_db(), brand.LOGO)
    if found is None or brand.logo_filename(found["sha256"], found["media_type"]) != filename:
        abort(404)
    response = Response(found["data"], mimetype=found["media_type"])
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    response.headers["X-Content-Type-Options"] = "nosniff"
    if found["media_type"] == "image/svg+xml":
        response.headers["Content-Security-Policy"] = _SVG_CSP
    return response


@bp.get("/admin/settings/brand")
@role_required("admin")
def page():
    """The logo (upload, remove) and the funding block (switch, disclaimer per language)."""
    return _page()


def _page(errors: dict | None = None, typed: dict | None = None, status: int = 200):
    found = current_site()
    disclaimers = typed if typed is not None else {code: found.funding_disclaimer.get(code, "") for code in LANGUAGES}
    response = render_template("admin/brand.html", errors=errors or {}, disclaimers=disclaimers,
                               defaults=brand.DEFAULT_DISCLAIMER, statements=site.FUNDED_BY_EU,
                               max_mb=images.MAX_BYTES // (1024 * 1024))
    return response, status


@bp.post("/admin/settings/brand/logo")
@role_required("admin")
def upload_logo():
    """Store an uploaded logo, cleaned (a bitmap re-encoded, an SVG sanitised)."""
    upload = request.files.get("logo")
    data = upload.read(images.MAX_BYTES + 1) if upload else b""
    if not data:
        return _page({"logo": _("Choose a PNG, JPEG, WebP or SVG file.")}, status=400)
    try:
        media_type, cleaned = images.clean(data)
    except images.ImageRefused as e:
        return _page({"logo": translated(e.args[0], current_language())}, status=400)
    store.write_file(get_db(), brand.LOGO, media_type, cleaned, current_user.email)
    flash(_("The logo is saved; it shows in the header, the embed, e-mails and reports."))
    return redirect(url_for("brand.page"))


@bp.post("/admin/settings/brand/logo/remove")
@role_required("admin")
def remove_logo():
    """Remove the logo: the site's name shows alone."""
    store.write_file(get_db(), brand.LOGO, "", None, current_user.email)
    flash(_("The logo is removed."))
    return redirect(url_for("brand.page"))


@bp.post("/admin/settings/brand/funding")
@role_required("admin")
def save_funding():
    """Switch the funding block on or off, and set its disclaimer per language (empty: the EU's
    standard text)."""
    typed = {code: request.form.get(f"disclaimer_{code}", "") for code in LANGUAGES}
    errors = {}
    cleaned = {}
    for code, text in typed.items():
        text = " ".join(_CONTROL.sub(" ", text).split())
        if len(text) > brand.MAX_DISCLAIMER:
            errors[f"disclaimer_{code}"] = _("At most %(n)s characters: shorten the text.", n=brand.MAX_DISCLAIMER)
        elif text:
            cleaned[code] = text
    if errors:
        return _page(errors, typed, status=400)
    changed = store.write_settings(get_db(), {"funding_enabled": request.form.get("funding_enabled") == "1",
                                              "funding_disclaimer": cleaned or None}, current_user.email)
    flash(_("The funding block is saved.") if changed else _("Nothing changed."))
    return redirect(url_for("brand.page"))


@bp.after_request
def _private(response: Response) -> Response:
    # The staff page is never kept by a browser or proxy; the logo is public and immutable.
    if request.endpoint != brand.LOGO_ENDPOINT:
        response.headers["Cache-Control"] = "no-store"
    return response

