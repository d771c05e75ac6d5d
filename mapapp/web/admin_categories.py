"""The category tree in the staff area (``/admin/categories``): the tree with each
category's colour, icon, code, ESSGLOBAL activity and how many organisations carry it; add,
edit (labels per language, aliases, colour, icon picked from the self-hosted set), reorder,
move under another parent, merge, retire (asking where its organisations go) and restore.

Who: admins change the tree; editors may look at it. The tree is the whole network's
vocabulary (every country's markers and filters), so a partner editor never changes it.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import icons, vocab
from ..catalogue import categories as store
from ..importing import normalise
from ..translate import translated
from ..vocab import LANGUAGES
from .auth import role_required
from .db import get_db
from .i18n import current_language

bp = Blueprint("admin_categories", __name__, url_prefix="/admin/categories")

NEW_COLOUR = "#1f6f8b"


def _category_or_404(category_id: int) -> store.Category:
    found = store.get(get_db(), category_id)
    if found is None:
        abort(404)
    return found


def _fields() -> dict:
    """The form's fields as ``categories.check`` takes them. The colour: what was typed in
    the text box if it changed, else what was picked (both say the same with JavaScript)."""
    form = request.form
    was = form.get("colour_was", "")
    typed, picked = form.get("colour", "").strip(), form.get("colour_picker", "").strip()
    colour = typed if typed != was else (picked or typed)
    return {
        "labels": {lang: normalise.clean_text(form.get(f"label_{lang}", "")) for lang in LANGUAGES},
        "aliases": [normalise.clean_text(line) for line in form.get("aliases", "").splitlines()],
        "colour": colour,
        "icon": form.get("icon", "").strip(),
        "essglobal": form.get("essglobal") or None,
    }


def _essglobal_choices() -> list[tuple[str, str]]:
    lang = current_language()
    return [(t.code, t.labels.get(lang) or t.labels.get(vocab.DEFAULT_LANGUAGE, t.code)) for t in vocab.themes()]


def _form_page(template: str, status: int = 200, **context):
    db = get_db()
    return render_template(template, languages=LANGUAGES, essglobal=_essglobal_choices(), icon_svg=icons.svg,
                           top_level=store.tree(db), **context), status


@bp.get("")
@role_required("admin", "editor")
def index():
    """The tree, the retired categories, and (admins) the form to add one."""
    db = get_db()
    return _page(db)


def _page(db, *, error: str | None = None, values: dict | None = None):
    essglobal = dict(_essglobal_choices())
    return _form_page("admin/categories.html", 400 if error else 200, tree=store.tree(db), retired=store.retired(db),
                      counts=store.usage(db), essglobal_names=essglobal, error=error,
                      values=values or {"colour": NEW_COLOUR, "labels": {}, "aliases": [], "icon": "",
                                        "essglobal": None, "parent": request.args.get("parent", "")},
                      may_change=current_user.is_admin)


def _parent(value: str | None) -> int | None:
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        return abort(400)


def _error(e: store.CategoryError) -> str:
    return translated(e.args[0], current_language())


@bp.post("")
@role_required("admin")
def create():
    """Add a category, at the top level or under a top-level one."""
    db = get_db()
    fields = _fields()
    parent_id = _parent(request.form.get("parent"))
    try:
        category_id = store.create(db, user_email=current_user.email, parent_id=parent_id, **fields)
    except store.CategoryError as e:
        return _page(db, error=_error(e), values={**fields, "parent": request.form.get("parent", "")})
    created = store.get(db, category_id)
    flash(_("Category %(label)s added (code %(code)s).", label=created.label(current_language()), code=created.code))
    return redirect(url_for("admin_categories.index") + f"#category-{category_id}")


@bp.get("/<int:category_id>")
@role_required("admin", "editor")
def edit(category_id: int):
    """One category's form (read-only for editors)."""
    category = _category_or_404(category_id)
    return _form_page("admin/categories_edit.html", category=category, error=None,
                      values=_values_of(category), may_change=current_user.is_admin)


def _values_of(category: store.Category) -> dict:
    return {"labels": category.labels, "aliases": list(category.aliases), "colour": category.colour,
            "icon": category.icon, "essglobal": category.essglobal}


@bp.post("/<int:category_id>")
@role_required("admin")
def save(category_id: int):
    """Save a category's labels, aliases, colour, icon and ESSGLOBAL activity."""
    db = get_db()
    category = _category_or_404(category_id)
    fields = _fields()
    try:
        changed = store.update(db, category_id, user_email=current_user.email, **fields)
    except store.CategoryError as e:
        return _form_page("admin/categories_edit.html", 400, category=category, error=_error(e), values=fields,
                          may_change=True)
    flash(_("Saved.") if changed else _("Nothing changed."))
    return redirect(url_for("admin_categories.index") + f"#category-{category_id}")


@bp.post("/<int:category_id>/move")
@role_required("admin")
def move(category_id: int):
    """Up or down within its level (``step``), or under another parent (``parent``: an id,
    or empty for the top level)."""
    db = get_db()
    _category_or_404(category_id)
    step = {"up": -1, "down": 1}.get(request.form.get("step", ""), 0)
    try:
        if "parent" in request.form:
            store.move(db, category_id, user_email=current_user.email, parent_id=_parent(request.form["parent"]))
        else:
            store.move(db, category_id, user_email=current_user.email, step=step)
    except store.CategoryError as e:
        flash(_error(e))
    return redirect(url_for("admin_categories.index") + f"#category-{category_id}")


def _targets(category: store.Category) -> list[store.Category]:
    """The categories a retired or merged one's organisations may go to: any other not
    retired, outside its own family."""
    family = {category.id, *(c.id for c in category.children)}
    return [c for c in store.all_categories(get_db()) if c.id not in family]


@bp.get("/<int:category_id>/retire")
@role_required("admin")
def retire_page(category_id: int):
    """Ask before retiring (``?merge=1``: before merging): how many organisations and
    subcategories it touches, and where the organisations go."""
    category = _category_or_404(category_id)
    if category.retired:
        abort(404)
    return _retire_form(category, merge=request.args.get("merge") == "1")


def _retire_form(category: store.Category, *, merge: bool, error: str | None = None):
    db = get_db()
    return render_template("admin/categories_retire.html", category=category, merge=merge, error=error,
                           touched=store.retirement(db, category.id), targets=_targets(category),
                           icon_svg=icons.svg), 400 if error else 200


@bp.post("/<int:category_id>/retire")
@role_required("admin")
def retire(category_id: int):
    """Retire (or merge) after the confirmation page: the organisations go where it says."""
    db = get_db()
    category = _category_or_404(category_id)
    if category.retired:
        abort(404)
    merge = request.form.get("merge") == "1"
    into = _parent(request.form.get("into"))
    if merge and into is None:
        return _retire_form(category, merge=True, error=_("Choose the category to merge it into."))
    try:
        moved = store.retire(db, category_id, user_email=current_user.email, into=into, merge=merge)
    except store.CategoryError as e:
        return _retire_form(category, merge=merge, error=_error(e))
    label = category.label(current_language())
    if merge:
        target = store.get(db, into)
        flash(_("%(label)s merged into %(into)s: %(n)s organisations moved. Restore, under retired categories, takes it back.",
                label=label, into=target.label(current_language()), n=moved))
    else:
        flash(_("%(label)s retired (%(n)s organisations changed). Restore, under retired categories, takes it back.",
                label=label, n=moved))
    return redirect(url_for("admin_categories.index"))


@bp.post("/<int:category_id>/restore")
@role_required("admin")
def restore(category_id: int):
    """Bring a retired category back, with its organisations as they were."""
    db = get_db()
    category = _category_or_404(category_id)
    try:
        count = store.restore(db, category_id, user_email=current_user.email)
    except store.CategoryError as e:
        flash(_error(e))
        return redirect(url_for("admin_categories.index"))
    flash(_("%(label)s restored; %(n)s organisations have their categories as before.",
            label=category.label(current_language()), n=count))
    return redirect(url_for("admin_categories.index") + f"#category-{category_id}")


@bp.get("/icons.json")
@role_required("admin", "editor")
def icon_search():
    """Icons of the self-hosted set whose name or English tags hold ``q``: each name with its
    SVG path data, for the picker to draw (at most 60)."""
    found = icons.search(request.args.get("q", "")[:100])
    return jsonify({"ok": True, "icons": [{"name": name, "paths": list(icons.paths(name))} for name in found]})
