"""Projects in the staff area (``/admin/projects``): create, edit, archive, delete (asking
first) and undo the deletion; members with their relation and role; and the staff search
over the catalogue (``/admin/organisations/search.json``) that picks organisations.

Who: admins and editors whose part of the catalogue is the whole of it manage every project;
an editor limited to projects edits those only (no creating or deleting); an editor limited
to countries manages none (403).
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import catalogue, images
from ..catalogue import audit
from ..catalogue import projects as store
from ..catalogue import site as site_store
from ..importing import normalise
from ..text import slugify
from ..translate import translated
from ..vocab import LANGUAGES
from . import scope
from .auth import role_required
from .db import get_db
from .i18n import current_language

bp = Blueprint("admin_projects", __name__)


def _may_manage_all() -> bool:
    return current_user.is_admin or not scope.current().limited


def _may_edit(slug: str) -> bool:
    if _may_manage_all():
        return True
    mine = scope.current()
    return not mine.countries and slug in mine.projects


def _project_or_404(slug: str) -> dict:
    project = store.get_project(get_db(), slug)
    if project is None:
        abort(404)
    if not _may_edit(slug):
        abort(scope.refusal(_("This project is outside the part of the catalogue you look after.")))
    return project


def _relation_names() -> dict[str, str]:
    return {"visited": _("visited"), "participant": _("participant"), "partner": _("partner"), "other": _("other")}


def _role_names() -> dict[str, str]:
    return {"coordinator": _("coordinator"), "partner": _("partner")}


@bp.get("/admin/organisations/search.json")
@role_required("admin", "editor")
def search_organisations():
    """Organisations whose name or city holds ``q``: id, name, city, country, status (at most
    20, within the staff member's part of the catalogue), for the boxes that pick them."""
    mine = scope.current()
    found = store.search_organisations(get_db(), request.args.get("q", ""), scope=(mine.countries, mine.projects))
    return jsonify({"ok": True, "organisations": found})


def _form_fields() -> dict:
    form = request.form
    # One line for names and funding lines, paragraphs for descriptions; no control
    # character (CR, U+FFFE…) is kept.
    text = lambda name: normalise.clean_text(form.get(name, ""))  # noqa: E731
    return {
        "name": text("name"),
        "names": {lang: text(f"name_{lang}") for lang in LANGUAGES},
        "descriptions": {lang: normalise.clean_multiline(form.get(f"description_{lang}", "")) for lang in LANGUAGES},
        "funding": {lang: text(f"funding_{lang}") for lang in LANGUAGES},
        "links": {kind: text(f"link_{kind}") for kind in store.LINK_KINDS},
        "start_date": text("start_date") or None,
        "end_date": text("end_date") or None,
        "show_eu_funding": bool(form.get("show_eu_funding")),
    }


def _error(e: store.ProjectError) -> str:
    return translated(e.args[0], current_language())


@bp.route("/admin/projects", methods=["GET", "POST"])
@role_required("admin", "editor")
def index():
    """The projects (an editor limited to projects: theirs), and a new one."""
    db = get_db()
    mine = scope.current()
    if mine.countries and not _may_manage_all():
        abort(scope.refusal(_("Projects are managed by admins and by editors who look after the whole catalogue.")))
    error, fields = None, None
    if request.method == "POST":
        if not _may_manage_all():
            abort(scope.refusal(_("Only admins and editors who look after the whole catalogue create projects.")))
        fields = _form_fields()
        slug = request.form.get("slug", "").strip().lower() or slugify(fields["name"])[:80]
        try:
            with catalogue.write_transaction(db):
                project_id = store.create_project(db, slug, **fields)
                audit.record(db, current_user.email, f"project:{project_id}", None, None,
                             {"project": store.get_project(db, project_id=project_id)})
        except store.ProjectError as e:
            error = _error(e)
        else:
            flash(_("Project created: add its partners below."))
            return redirect(url_for("admin_projects.edit", slug=slug))
    listed = store.list_projects(db, slugs=None if _may_manage_all() else mine.projects)
    undoable = audit.entries(db, action_prefix="project-delete:", limit=5) if _may_manage_all() else []
    return render_template("admin/projects.html", projects=listed, error=error, fields=fields or {},
                           may_create=_may_manage_all(), undoable=undoable), 400 if error else 200


@bp.route("/admin/projects/<slug>", methods=["GET", "POST"])
@role_required("admin", "editor")
def edit(slug: str):
    """One project: its texts per language, dates, links, funding line, archive; its members."""
    db = get_db()
    project = _project_or_404(slug)
    error = None
    if request.method == "POST":
        action = request.form.get("action", "save")
        try:
            with catalogue.write_transaction(db):
                error = _act(db, project, action)
        except store.ProjectError as e:
            error = _error(e)
        if error is None:
            return redirect(url_for("admin_projects.edit", slug=slug))
    project = store.get_project(db, slug)
    return render_template("admin/projects_edit.html", project=project, members=store.members(db, project["id"]),
                           counts=store.deletion_counts(db, project["id"]), error=error,
                           relations=_relation_names(), roles=_role_names(),
                           may_delete=_may_manage_all(),
                           bulk=audit.entries(db, action=f"project-bulk:{project['id']}", limit=5)), 400 if error else 200


def _act(db, project: dict, action: str) -> str | None:
    """Do one of the edit page's actions inside the caller's transaction; an error to show, or None."""
    entry = f"project:{project['id']}"
    if action == "save":
        fields = _form_fields()
        before = store.update_project(db, project["id"], **fields)
        audit.record(db, current_user.email, entry, None, {"project": before},
                     {"project": store.get_project(db, project_id=project["id"])})
        flash(_("Saved."))
    elif action in ("archive", "unarchive"):
        store.set_archived(db, project["id"], action == "archive")
        audit.record(db, current_user.email, entry, None, {"archived": project["archived"]},
                     {"archived": action == "archive"})
        flash(_("Archived: the project is gone from the public lists; its page stays, saying so.")
              if action == "archive" else _("The project is back in the public lists."))
    elif action in ("add", "member"):
        org_id = _org_id(request.form.get("organisation_id"))
        relation = request.form.get("relation", "")
        role = request.form.get("role") or None
        if relation not in store.RELATIONS or (role and role not in store.ROLES):
            abort(400)
        state = catalogue.organisation_state(db, org_id)
        scope.require(state)
        before = store.add_member(db, project["id"], org_id, relation, role)
        # The organisation's whole state before and after, as an edit: its history's Undo puts it back.
        audit.record(db, current_user.email, f"project-member:{project['id']}", org_id,
                     state, catalogue.organisation_state(db, org_id))
        flash(_("Member added.") if before is None else _("Saved."))
    elif action == "remove":
        org_id = _org_id(request.form.get("organisation_id"))
        state = catalogue.organisation_state(db, org_id)
        scope.require(state)
        store.remove_member(db, project["id"], org_id)
        audit.record(db, current_user.email, f"project-member:{project['id']}", org_id,
                     state, catalogue.organisation_state(db, org_id))
        flash(_("Member removed."))
    else:
        abort(400)
    return None


def _org_id(value: str | None) -> int:
    try:
        org_id = int(value or "")
    except ValueError:
        return abort(400)
    if catalogue.organisation_by_id(get_db(), org_id) is None:
        abort(400)
    return org_id


@bp.route("/admin/projects/<slug>/delete", methods=["GET", "POST"])
@role_required("admin", "editor")
def delete(slug: str):
    """Delete a project: GET says how many members and visits go with it; the POST from that
    page deletes it, keeping every row in the audit log for Undo."""
    db = get_db()
    project = _project_or_404(slug)
    if not _may_manage_all():
        abort(scope.refusal(_("Only admins and editors who look after the whole catalogue delete projects.")))
    if request.method == "GET" or request.form.get("confirm") != "yes":
        return render_template("admin/projects_delete.html", project=project,
                               counts=store.deletion_counts(db, project["id"]))
    with catalogue.write_transaction(db):
        rows = store.delete_project(db, project["id"])
        audit.record(db, current_user.email, f"project-delete:{project['id']}", None,
                     {"name": project["name"], "slug": slug, "rows": rows}, None)
    flash(_("Project %(name)s deleted. Undo brings it back with its members and visits.", name=project["name"]))
    return redirect(url_for("admin_projects.index"))


@bp.post("/admin/projects/undo/<int:entry_id>")
@role_required("admin", "editor")
def undo_delete(entry_id: int):
    """Undo a project's deletion: the project, its members and its visits come back as they were."""
    if not _may_manage_all():
        abort(scope.refusal(_("Only admins and editors who look after the whole catalogue delete projects.")))
    db = get_db()
    found = [e for e in audit.entries(db, entry_id=entry_id, limit=1) if e["action"].startswith("project-delete:")]
    if not found or not found[0]["before"]:
        abort(404)
    entry = found[0]
    try:
        with catalogue.write_transaction(db):
            store.restore(db, entry["before"]["rows"])
            store.mark_undone(db, entry_id)
            audit.record(db, current_user.email, f"project-restore:{entry['action'].split(':', 1)[1]}", None,
                         None, {"slug": entry["before"]["slug"]})
    except store.CannotUndo as e:
        flash(_("The deletion cannot be undone: %(why)s.", why=translated(e.args[0] if e.args else str(e), current_language())))
        return redirect(url_for("admin_projects.index"))
    flash(_("Project %(name)s restored with its members and visits.", name=entry["before"]["name"]))
    return redirect(url_for("admin_projects.edit", slug=entry["before"]["slug"]))


@bp.post("/admin/projects/bulk-add")
@role_required("admin", "editor")
def bulk_add():
    """Add the organisations ticked in the staff list to a project with one relation: first a
    page saying how many join, how many change relation and how many stay as they are; its
    confirmation writes them as one audit entry, undone at once."""
    db = get_db()
    slug = request.form.get("bulk_project", "")
    relation = request.form.get("bulk_relation", "")
    if relation not in store.RELATIONS:
        abort(400)
    project = _project_or_404(slug)
    mine = scope.current()
    if mine.countries and not _may_manage_all():
        abort(scope.refusal(_("Projects are managed by admins and by editors who look after the whole catalogue.")))
    ids = sorted({_org_id(v) for v in request.form.getlist("id")})
    if not ids:
        flash(_("Tick the organisations to add first."))
        return redirect(url_for("admin.organisations"))
    states = {org_id: catalogue.organisation_state(db, org_id) for org_id in ids}
    scope.require(*states.values())
    current = {org_id: store.membership(db, project["id"], org_id) for org_id in ids}
    joining = [i for i in ids if current[i] is None]
    changing = [i for i in ids if current[i] is not None and current[i]["relation"] != relation]
    if request.form.get("confirm") != "yes":
        names = {i: (catalogue.organisation_by_id(db, i) or {}).get("name", "") for i in ids}
        return render_template("admin/projects_bulk.html", project=project, relation=relation,
                               relation_name=_relation_names()[relation], ids=ids, names=names,
                               joining=joining, changing=changing, unchanged=len(ids) - len(joining) - len(changing))
    with catalogue.write_transaction(db):
        for org_id in joining + changing:
            store.add_member(db, project["id"], org_id, relation,
                             current[org_id]["role"] if current[org_id] and relation == "partner" else None)
        audit.record(db, current_user.email, f"project-bulk:{project['id']}", None,
                     {"slug": slug, "memberships": {str(i): current[i] for i in joining + changing}},
                     {"relation": relation})
    flash(_("%(joined)s organisations joined %(project)s and %(changed)s changed relation. Undo is on the project's page.",
            joined=len(joining), changed=len(changing), project=project["name"]))
    return redirect(url_for("admin_projects.edit", slug=slug))


@bp.post("/admin/projects/bulk-undo/<int:entry_id>")
@role_required("admin", "editor")
def bulk_undo(entry_id: int):
    """Undo an "add to the project as…": every membership as it was before."""
    db = get_db()
    found = [e for e in audit.entries(db, entry_id=entry_id, limit=1) if e["action"].startswith("project-bulk:")]
    if not found:
        abort(404)
    entry = found[0]
    project = _project_or_404(entry["before"]["slug"])
    with catalogue.write_transaction(db):
        states = [catalogue.organisation_state(db, int(i)) for i in entry["before"]["memberships"]]
        scope.require(*(s for s in states if s is not None))
        for org_id, was in entry["before"]["memberships"].items():
            if was is None:
                store.remove_member(db, project["id"], int(org_id))
            elif catalogue.organisation_by_id(db, int(org_id)) is not None:
                store.add_member(db, project["id"], int(org_id), was["relation"], was["role"])
        store.mark_bulk_undone(db, entry_id)
    flash(_("Undone."))
    return redirect(url_for("admin_projects.edit", slug=project["slug"]))


def logo_name(slug: str) -> str:
    """The name of a project's logo among the site's files."""
    return f"project-logo:{slug}"


@bp.post("/admin/projects/<slug>/logo")
@role_required("admin", "editor")
def upload_logo(slug: str):
    """Store a project's logo, cleaned as the site's is (a bitmap re-encoded to PNG, an SVG
    sanitised, at most 1 MB)."""
    db = get_db()
    project = _project_or_404(slug)
    upload = request.files.get("logo")
    if upload is None or not upload.filename:
        flash(_("Choose a PNG, JPEG, WebP or SVG file."))
        return redirect(url_for("admin_projects.edit", slug=slug))
    try:
        media_type, cleaned = images.clean(upload.stream.read(images.MAX_BYTES + 1))
    except images.ImageRefused as e:
        flash(translated(e.args[0], current_language()))
        return redirect(url_for("admin_projects.edit", slug=slug))
    site_store.write_file(db, logo_name(slug), media_type, cleaned, current_user.email)
    with catalogue.write_transaction(db):
        store.update_project(db, project["id"], logo_file=logo_name(slug))
    flash(_("The logo is saved."))
    return redirect(url_for("admin_projects.edit", slug=slug))


@bp.post("/admin/projects/<slug>/logo/remove")
@role_required("admin", "editor")
def remove_logo(slug: str):
    """Remove a project's logo."""
    db = get_db()
    project = _project_or_404(slug)
    with catalogue.write_transaction(db):
        store.update_project(db, project["id"], logo_file=None)
    site_store.write_file(db, logo_name(slug), "", None, current_user.email)
    flash(_("The logo is removed."))
    return redirect(url_for("admin_projects.edit", slug=slug))


@bp.get("/projects/<slug>/logo")
def logo(slug: str):
    """A project's logo, as the site's is served: an SVG may run nothing; revalidated by ETag."""
    db = get_db()
    project = store.get_project(db, slug)
    found = site_store.read_file(db, project["logo_file"]) if project and project["logo_file"] else None
    if found is None:
        abort(404)
    response = Response(found["data"], mimetype=found["media_type"])
    response.headers["Cache-Control"] = "public, max-age=300"
    response.headers["X-Content-Type-Options"] = "nosniff"
    if found["media_type"] == "image/svg+xml":
        response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    response.set_etag(found["sha256"])
    return response.make_conditional(request)
