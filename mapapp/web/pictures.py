"""Organisations' logos and photos: served at addresses that carry their sha256 (cached for
ever), and managed from the staff edit page (add with alt text, replace, remove, reorder)."""

from __future__ import annotations

import re

from flask import Blueprint, Response, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import catalogue, images
from ..catalogue import images as store
from ..translate import translated
from . import scope
from .auth import role_required
from .db import get_db
from .i18n import current_language
from .picturefiles import max_bytes, read_upload

bp = Blueprint("pictures", __name__)
_NAME = re.compile(r"^([1-9][0-9]{0,17})-([0-9a-f]{8})(-thumb)?\.webp$")


@bp.app_template_global()
def picture_src(picture: dict, thumb: bool = False) -> str:
    """The address of a picture (a row of ``catalogue.images``) or of its thumbnail."""
    return request.script_root + images.picture_path(picture["id"], picture["sha256"], thumb=thumb)


@bp.get("/images/<name>")
def serve(name: str):
    """A picture or its thumbnail, at its versioned address: public and immutable once its
    organisation has it; a pending one (sent with a contribution) only to staff, never cached."""
    match = _NAME.match(name)
    if not match:
        abort(404)
    found = store.read_picture(get_db(), int(match[1]), thumb=bool(match[3]))
    if found is None or found["sha256"][:8] != match[2]:
        abort(404)
    pending = found["organisation_id"] is None or found["contribution_id"] is not None
    if pending and not current_user.is_authenticated:
        abort(404)
    response = Response(found["data"], mimetype=found["media_type"])
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'"
    response.headers["Cache-Control"] = "private, no-store" if pending else "public, max-age=31536000, immutable"
    return response


def _editable(org_id: int) -> None:
    state = catalogue.organisation_state(get_db(), org_id)
    if state is None:
        abort(404)
    scope.require(state)


def _picture_of_editable(image_id: int) -> dict:
    found = store.picture_info(get_db(), image_id)
    if found is None or found["organisation_id"] is None or found["contribution_id"] is not None:
        abort(404)
    _editable(found["organisation_id"])
    return found


def _back(org_id: int):
    return redirect(url_for("edit.edit", org_id=org_id) + "#pictures")


@bp.post("/admin/organisations/<int:org_id>/pictures")
@role_required("admin", "editor")
def add(org_id: int):
    """Add a logo (replacing the old one) or a photo, with its alt text."""
    _editable(org_id)
    role = request.form.get("role")
    if role not in store.ROLES:
        abort(400)
    data = read_upload("picture")
    try:
        if not data:
            raise images.ImageRefused(_("Choose a PNG, JPEG or WebP file."))
        store.add_picture(get_db(), images.clean_picture(data, max_bytes()), role=role,
                          alt=request.form.get("alt", ""), organisation_id=org_id, created_by=current_user.email)
    except (images.ImageRefused, store.PictureRefused) as e:
        flash(_("The picture was not added: %(why)s", why=translated(e.args[0], current_language())), "error")
        return _back(org_id)
    flash(_("The logo is saved.") if role == "logo" else _("The photo is added."))
    return _back(org_id)


@bp.post("/admin/pictures/<int:image_id>")
@role_required("admin", "editor")
def change(image_id: int):
    """Change a picture: its alt text, its bytes (a new file), its place, or remove it."""
    found = _picture_of_editable(image_id)
    db = get_db()
    action = request.form.get("action")
    try:
        if action == "remove":
            store.remove_picture(db, image_id)
            flash(_("The picture is removed."))
        elif action in ("earlier", "later"):
            store.move_picture(db, image_id, -1 if action == "earlier" else 1)
        elif action == "save":
            data = read_upload("picture")
            if data:
                store.replace_picture(db, image_id, images.clean_picture(data, max_bytes()))
            store.set_alt(db, image_id, request.form.get("alt", ""))
            flash(_("The picture is saved."))
        else:
            abort(400)
    except (images.ImageRefused, store.PictureRefused) as e:
        flash(_("The picture was not changed: %(why)s", why=translated(e.args[0], current_language())), "error")
    return _back(found["organisation_id"])
