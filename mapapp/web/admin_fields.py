"""The network's own fields in the staff area (``/admin/fields``, admins only): list, add,
edit, reorder, retire and restore typed fields, with their choices."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from .. import catalogue
from ..catalogue import categories as category_store
from ..catalogue import fields as store
from ..fields import CHOICE_TYPES, FILTERABLE, Field, clean
from ..text import slugify
from ..translate import translated
from ..vocab import LANGUAGES
from .auth import role_required
from .db import get_db
from .i18n import current_language

bp = Blueprint("admin_fields", __name__)
NEW_CHOICES = 3  # empty rows offered for new choices


def type_names() -> dict[str, str]:
    """The types as the form names them."""
    return {"text": _("Text"), "long_text": _("Long text"), "number": _("Number"), "date": _("Date"),
            "yes_no": _("Yes/no"), "choice": _("One choice"), "choices": _("Several choices"),
            "url": _("Web address")}


def _from_form(before: Field | None) -> Field:
    form = request.form
    kind = before.type if before else form.get("type", "")
    choices = []
    for i in range(int(form.get("choice_rows", "0") or 0)):
        labels = {lang: clean(form.get(f"choice_{i}_{lang}", ""))[:200] for lang in LANGUAGES}
        labels = {lang: text for lang, text in labels.items() if text}
        value = clean(form.get(f"choice_{i}_value", "")).lower()
        if form.get(f"choice_{i}_remove") or not (value or labels):
            continue
        value = slugify(value or next(iter(labels.values())), fallback="choice")[:60]
        choices.append({"value": value, "labels": labels})
    known = {c.code for c in category_store.all_categories(get_db())}
    return Field(
        id=before.id if before else 0,
        slug=before.slug if before else slugify(clean(form.get("slug", "")), fallback="")[:60],
        type=kind,
        labels={lang: clean(form.get(f"label_{lang}", ""))[:200] for lang in LANGUAGES
                if clean(form.get(f"label_{lang}", ""))},
        choices=choices if kind in CHOICE_TYPES else [],
        categories=[c for c in form.getlist("category") if c in known],
        required=bool(form.get("required")), public=form.get("visibility", "public") != "staff",
        filter=bool(form.get("filter")) and kind in FILTERABLE, in_popup=bool(form.get("in_popup")),
    )


def _page(template: str, **context):
    return render_template(template, types=type_names(), filterable=FILTERABLE, choice_types=CHOICE_TYPES,
                           tree=category_store.tree(get_db()), new_choices=NEW_CHOICES, **context)


@bp.route("/admin/fields", methods=["GET", "POST"])
@role_required("admin")
def index():
    """Every field, and a new one."""
    db = get_db()
    error, draft = None, None
    if request.method == "POST":
        draft = _from_form(None)
        try:
            with catalogue.write_transaction(db):
                store.create_field(db, draft)
        except store.FieldError as e:
            error = translated(e.args[0], current_language())
        else:
            flash(_("Field added: %(label)s", label=draft.label(current_language())))
            return redirect(url_for("admin_fields.index"))
    return _page("admin/fields.html", fields=store.list_fields(db, retired=True), error=error, draft=draft), \
        400 if error else 200


@bp.route("/admin/fields/<slug>", methods=["GET", "POST"])
@role_required("admin")
def edit(slug: str):
    """One field: labels, who sees it, where it applies, its choices."""
    db = get_db()
    fld = store.get_field(db, slug)
    if fld is None:
        abort(404)
    error = None
    if request.method == "POST":
        draft = _from_form(fld)
        try:
            with catalogue.write_transaction(db):
                store.update_field(db, draft, drop_values=bool(request.form.get("drop_values")))
        except store.FieldError as e:
            error, fld = translated(e.args[0], current_language()), draft
        else:
            flash(_("Saved."))
            return redirect(url_for("admin_fields.edit", slug=slug))
    used = store.choices_in_use(db, fld.id) if fld.type in CHOICE_TYPES else {}
    return _page("admin/fields_edit.html", field=fld, used=used, error=error), 400 if error else 200


@bp.post("/admin/fields/<slug>/<action>")
@role_required("admin")
def act(slug: str, action: str):
    """Move a field in the order (``up``, ``down``), ``retire`` it or ``restore`` it."""
    db = get_db()
    if action not in ("up", "down", "retire", "restore") or store.get_field(db, slug) is None:
        abort(404)
    with catalogue.write_transaction(db):
        if action in ("up", "down"):
            store.move(db, slug, -1 if action == "up" else 1)
        else:
            store.set_retired(db, slug, action == "retire")
    return redirect(url_for("admin_fields.index"))
