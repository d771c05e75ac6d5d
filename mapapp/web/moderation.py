"""The moderation queue: what visitors sent in and confirmed, with a side-by-side view
against the stored organisation, likely duplicates, and accept / reject / undo."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import accounts, catalogue, kinds, vocab
from ..catalogue import contributions as store
from ..catalogue import fields as field_store
from ..catalogue import images as picture_store
from ..catalogue import owners
from ..contributing import flow
from ..importing.importer import category_index
from ..importing.rows import check_record
from ..translate import translated
from . import scope
from .auth import role_required
from .db import get_db
from .i18n import NAMES as LANGUAGE_NAMES
from .i18n import current_language
from .mailing import settings

bp = Blueprint("moderation", __name__, url_prefix="/admin/moderation")
# What a moderator may change before accepting (the form's own fields).
EDITABLE = ("name", "street", "postcode", "city", "country", "website", "email", "phone", "description")
COMPARED = ("name", "street", "postcode", "city", "country", "website", "email", "phone", "description", "lat", "lon",
            "status")


def _compare(db, item: dict) -> list[dict]:
    """Each field: as stored, as it would be; ``changed`` where they differ."""
    current = catalogue.organisation_state(db, item["organisation_id"]) if item["organisation_id"] else None
    proposed = flow.merged(db, item) or {"values": {}, "related": {}}
    rows = []
    for name in COMPARED:
        before = (current or {}).get("values", {}).get(name) if current else None
        after = proposed["values"].get(name)
        if before in (None, "") and after in (None, ""):
            continue
        rows.append({"field": name, "before": before, "after": after, "changed": before != after})
    before_texts = (current or {}).get("related", {}).get("descriptions") or {}
    after_texts = proposed.get("related", {}).get("descriptions") or {}
    for lang in sorted({*before_texts, *after_texts}):
        before, after = before_texts.get(lang), after_texts.get(lang)
        rows.append({"field": f"description_{lang}", "before": before, "after": after, "changed": before != after})
    for kind in ("themes", "needs", "offers"):
        before = (current or {}).get("related", {}).get(kind) if current else None
        after = proposed.get("related", {}).get(kind)
        if before or after:
            rows.append({"field": kind, "before": _terms(kind, before), "after": _terms(kind, after),
                         "changed": (before or None) != (after or None)})
    lang = current_language()
    for fld in field_store.list_fields(db):  # the network's own fields, named and shown as visitors read them
        before = ((current or {}).get("fields") or {}).get(fld.slug) or []
        after = (proposed.get("fields") or {}).get(fld.slug) or []
        if before or after:
            rows.append({"field": fld.label(lang), "before": fld.display(before, lang),
                         "after": fld.display(after, lang), "changed": before != after})
    return rows


def _terms(kind: str, value) -> str:
    """Themes, needs or offers as a moderator reads them: labels (and details)."""
    lang = current_language()
    if not value:
        return ""
    if kind == "themes":
        return ", ".join(kinds.theme_label(code, lang) for code in value)
    return "; ".join(vocab.resources().label(code, lang) + (f": {detail}" if detail else "")
                     for code, detail in value.items())


def _duplicates(db, item: dict) -> list[dict]:
    """Published organisations with the same name or website as a new one."""
    if item["kind"] != "new":
        return []
    values = item["proposal"]["values"]
    return catalogue.likely_duplicates(db, values.get("name", ""), values.get("website", ""))


@bp.get("")
@role_required("admin", "editor")
def queue():
    """Pending contributions, oldest first, and the latest decisions (which can be undone)."""
    db = get_db()
    countries, projects = accounts.moderation_scope(db, current_user.user)
    part = {"countries": countries, "projects": projects}
    pending = store.contributions_in(db, "pending", **part)
    decided = (store.contributions_in(db, "accepted", limit=20, **part)
               + store.contributions_in(db, "rejected", limit=20, **part))
    decided.sort(key=lambda c: c["decided_at"] or "", reverse=True)
    labels = _labels()
    for item in decided[:20]:  # what an Undo would leave, said before it is pressed
        preview = flow.undo_preview(db, item)
        item["undo_keeps"] = [labels.get(f, f) for f in preview.kept]
        item["undo_deletes"] = [labels.get(f, f) for f in preview.lost]
    lang = current_language()
    for item in pending:
        item["rows"] = _compare(db, item)
        item["duplicates"] = _duplicates(db, item)
        item["notes"] = [translated(n, lang) for n in item["proposal"].get("notes", [])]
        item["target"] = catalogue.organisation_by_id(db, item["organisation_id"]) if item["organisation_id"] else None
        item["pictures"] = picture_store.pictures_of_contribution(db, item["id"])
        if item["kind"] != "closed":
            proposed = flow.merged(db, item) or {"values": {}, "related": {}}
            # The description in the language the contribution was written in: the one
            # an edit changes.
            text = (proposed["related"].get("descriptions") or {}).get(item["lang"])
            item["editable"] = [(f, (text if f == "description" and text else proposed["values"].get(f)) or "")
                                for f in EDITABLE]
    return render_template("admin/moderation.html", pending=pending, decided=decided[:20], labels=_labels(),
                           editable=EDITABLE,
                           scope=countries + projects)


def _in_scope(contribution_id: int) -> bool:
    """Whether the signed-in staff member moderates this contribution (partners: their part,
    as the queue shows it). The decision itself checks the organisation, as stored and as
    it would become (``scope.may_touch``)."""
    db = get_db()
    found = store.contribution(db, contribution_id)
    countries, projects = accounts.moderation_scope(db, current_user.user)
    if found is None or not (countries or projects):
        return True
    if found["country"] in countries or found["project"] in projects:
        return True
    target = catalogue.organisation_state(db, found["organisation_id"]) if found["organisation_id"] else None
    return target is not None and scope.may_touch(target)


def _labels() -> dict:
    """Each field (and each language's description) as a moderator reads it."""
    labels = {"name": _("Name"), "country": _("Country"), "website": _("Website"), "email": _("E-mail"),
            "phone": _("Phone"), "postcode": _("Postcode"), "street": _("Street"), "city": _("Town or city"), "description": _("Description"),
            "lat": _("Latitude"), "lon": _("Longitude"), "status": _("Status"), "themes": _("Themes"),
            "needs": _("Needs"), "offers": _("Offers"), "location": _("Location")}
    for lang, name in LANGUAGE_NAMES.items():
        labels[f"description_{lang}"] = _("Description in %(language)s", language=name)
    return labels


def _back_saying(refused: flow.Refused):
    """Back to the queue, saying why a decision could not be taken."""
    flash(translated(next(iter(refused.problems.values())), current_language()))
    return redirect(url_for("moderation.queue"))


@bp.post("/<int:contribution_id>/accept")
@role_required("admin", "editor")
def accept(contribution_id: int):
    """Publish what the contribution proposes."""
    if not _in_scope(contribution_id):
        return scope.refusal()
    edits = None
    raw = {f: request.form.get(f, "") for f in EDITABLE if f in request.form}
    if raw:  # "edit, then accept": the moderator's version, checked like the author's
        check = check_record(raw, category_index(get_db()))
        if check.problems:
            flash(_("Not accepted: %(problems)s", problems="; ".join(
                f"{_labels().get(k, k)}: {translated(v, current_language())}" for k, v in check.problems.items())))
            return redirect(url_for("moderation.queue"))
        edits = check.values
    try:
        org_id = flow.accept(get_db(), contribution_id, current_user.email, settings(), edits=edits,
                             may_touch=scope.may_touch)
    except flow.OutOfScope:
        return scope.refusal()
    except flow.Refused as refused:
        return _back_saying(refused)
    org = catalogue.organisation_by_id(get_db(), org_id)
    flash(_("Accepted: %(name)s is on the map.", name=org["name"]) if org["status"] == "published"
          else _("Accepted: %(name)s is no longer on the map.", name=org["name"]))
    return redirect(url_for("moderation.queue"))


@bp.post("/<int:contribution_id>/reject")
@role_required("admin", "editor")
def reject(contribution_id: int):
    """Refuse it, with the reason its author will read."""
    if not _in_scope(contribution_id):
        return scope.refusal()
    try:
        flow.reject(get_db(), contribution_id, current_user.email, request.form.get("reason", ""), settings(),
                    may_touch=scope.may_touch)
    except flow.OutOfScope:
        return scope.refusal()
    except flow.Refused as refused:
        return _back_saying(refused)
    flash(_("Rejected; its author was told why."))
    return redirect(url_for("moderation.queue"))


@bp.post("/<int:contribution_id>/undo")
@role_required("admin", "editor")
def undo(contribution_id: int):
    """Take the decision back; the contribution waits in the queue again."""
    if not _in_scope(contribution_id):
        return scope.refusal()
    try:
        outcome = flow.undo(get_db(), contribution_id, current_user.email, may_touch=scope.may_touch)
    except flow.OutOfScope:
        return scope.refusal()
    except flow.Refused as refused:
        return _back_saying(refused)
    labels = _labels()
    flash(" ".join(filter(None, [
        _("Undone: the contribution is waiting again."),
        _("Changed again since it was accepted, so kept as they are now: %(fields)s.",
          fields=", ".join(labels.get(f, f) for f in outcome.kept)) if outcome.kept else "",
        _("The organisation it added was deleted with the changes made to it since: %(fields)s.",
          fields=", ".join(labels.get(f, f) for f in outcome.lost)) if outcome.lost else ""])))
    return redirect(url_for("moderation.queue"))


@bp.post("/owner-links/<int:org_id>/revoke")
@role_required("admin", "editor")
def revoke_owner_links(org_id: int):
    """Every edit link sent for this organisation stops working."""
    db = get_db()
    org = catalogue.organisation_by_id(db, org_id)
    if org is None:
        flash(_("There is no such organisation."))
        return redirect(url_for("moderation.queue"))
    scope.require(catalogue.organisation_state(db, org_id))
    with catalogue.write_transaction(db):
        owners.revoke_links(db, org_id)
        catalogue.audit.record(db, current_user.email, "owner-links-revoked", org_id)
    flash(_("The edit links sent for %(name)s no longer work.", name=org["name"]))
    return redirect(url_for("edit.edit", org_id=org_id))
