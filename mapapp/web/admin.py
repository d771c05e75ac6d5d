"""The staff area: dashboard, organisations (list, publish), users. Every route needs a role."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import format_number, ngettext
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from .. import accounts, catalogue, params, vocab
from ..catalogue import contributions as contribution_store
from ..catalogue import owners as owner_store
from ..catalogue import projects as project_store
from ..contributing import owners
from ..errors import BadRequest
from ..filters import Filters
from ..importing import demo, jobs
from ..params import whole_number
from ..translate import translated
from ..vocab import PRECISIONS, ROLES, STATUSES
from . import mailing, scope
from .auth import role_required, safe_next
from .db import get_db
from .i18n import current_language

bp = Blueprint("admin", __name__, url_prefix="/admin")
PAGE_SIZE = 50
MAX_LINKS_AT_ONCE = 5000  # one request sends them: more would outlast the server's timeout


@bp.get("")
@role_required("admin", "editor")
def dashboard():
    """What needs attention: counts by status, organisations without a location."""
    db = get_db()
    mine = scope.current()  # a partner editor's dashboard counts and lists their part only
    demo_data = None
    if current_user.is_admin:  # removing the demo, and undoing that, are the admins'
        demo_data = {"counts": demo.removal_preview(db), "removal": demo.latest_removal(db)}
    countries, projects = accounts.moderation_scope(db, current_user.user)
    audit = accounts.audit_entries(db, limit=15, scope=mine)
    return render_template("admin/dashboard.html", undone_bulk={
                               e["id"] for e in audit if e["action"].startswith("bulk-status:")
                               and accounts.audit_entries_of(db, f"undo-bulk-status:{e['id']}")}, counts=catalogue.status_counts(db, (mine.countries, mine.projects)),
                           waiting=contribution_store.count_in(db, "pending", countries=countries, projects=projects),
                           audit=audit, scope=mine, demo_data=demo_data)


@bp.route("/demo/remove", methods=["GET", "POST"])
@role_required("admin")
def remove_demo():
    """Remove the fictional demo data: GET says how many organisations, projects and
    visits will go (and which real members lose a demo membership); the POST from that page
    removes them."""
    db = get_db()
    counts = demo.removal_preview(db)
    if request.method == "GET" or request.form.get("confirm") != "yes":
        return render_template("admin/remove_demo.html", counts=counts)
    try:
        counts = demo.remove_demo(db, current_user.email, cache_dir=current_app.config["CACHE_DIR"])
    except demo.NothingToRemove:
        flash(_("There is no demo data to remove."))
    else:
        flash(_("Demo data removed: %(organisations)s organisations, %(projects)s projects and %(visits)s visits. "
                "Undo brings them back.", **counts))
    return redirect(url_for("admin.dashboard"))


@bp.post("/demo/restore/<int:entry_id>")
@role_required("admin")
def restore_demo(entry_id: int):
    """Undo a removal of the demo data: every row it deleted comes back as it was."""
    try:
        counts = demo.undo_removal(get_db(), entry_id, current_user.email)
    except demo.CannotUndo as e:
        flash(_("The removal of the demo data cannot be undone: %(why)s.", why=str(e)))
    else:
        flash(_("Demo data restored: %(organisations)s organisations, %(projects)s projects and %(visits)s visits.",
                **counts))
    return redirect(url_for("admin.dashboard"))


@bp.get("/organisations")
@role_required("admin", "editor")
def organisations():
    """Every organisation, drafts included, with the public filters plus status."""
    filters, chosen, staff_filters = _staff_selection(request.args)
    db = get_db()
    page = whole_number(request.args.get("page"), "page", default=1, low=1)
    total = catalogue.count_organisations(db, filters, chosen, **staff_filters)
    orgs = catalogue.find_organisations(db, filters, statuses=chosen, limit=PAGE_SIZE,
                                        offset=(page - 1) * PAGE_SIZE, **staff_filters)
    checked = owner_store.checked_dates(db, [o["id"] for o in orgs])
    stale_days = current_app.config["STALE_AFTER_DAYS"]
    return render_template("admin/organisations.html", orgs=orgs, total=total, page=page,
                           checked=checked, stale={i for i, c in checked.items() if owners.is_stale(c, stale_days)},
                           unchecked_choices=_unchecked_choices(), stale_days=stale_days,
                           pages=max(1, -(-total // PAGE_SIZE)), filters=filters, chosen=chosen,
                           statuses=STATUSES, precisions=PRECISIONS, sources=catalogue.sources(db),
                           countries=vocab.countries_by_name(current_language(), catalogue.country_codes_in_use(db)),
                           selection=[(k, v) for k, v in request.args.items(multi=True) if k != "page"],
                           projects=project_store.list_projects(db, include_archived=False, slugs=(
                               None if not scope.current().limited else () if scope.current().countries
                               else scope.current().projects)),
                           from_import=jobs.get(db, staff_filters["import_id"]) if staff_filters["import_id"] else None)


def _unchecked_choices() -> list[int]:
    """The "not checked for" periods staff can list (days), with the one after which the
    map fades an entry and the one after which its owner is reminded."""
    config = current_app.config
    return sorted({90, 180, 365, 730, config["REMIND_AFTER_DAYS"], config["STALE_AFTER_DAYS"]} - {0})


def _staff_selection(args) -> tuple[Filters, tuple[str, ...], dict]:
    """The staff list's filters: the public ones, the statuses, and the staff-only ones."""
    chosen = tuple(s for s in args.getlist("status") if s in STATUSES) or STATUSES
    unchecked = whole_number(args.get("unchecked"), "unchecked", default=0, low=0, high=36500)
    mine = scope.current()
    staff_filters = {
        "checked_before": owners.days_ago(unchecked) if unchecked else None,
        "unlocated_only": args.get("located") == "0",  # the "needs a location" queue
        "precision": args.get("precision") if args.get("precision") in PRECISIONS else None,
        "source": args.get("source") or None,
        "import_id": whole_number(args.get("import"), "import", default=None, low=1) if args.get("import") else None,
        # A partner editor's list, and so their bulk actions, hold their part only.
        "scope": (mine.countries, mine.projects),
    }
    return Filters.from_args(args), chosen, staff_filters


@bp.post("/organisations/status")
@role_required("admin", "editor")
def change_status():
    """Publish, unpublish (back to draft) or archive the selected organisations, or
    (``?scope=matching``) every organisation matching the list's filters, on all its pages.
    First a page says how many change and what that does; its confirmation changes only the
    statuses the action concerns (unpublishing leaves archived ones archived) and records
    it as one entry of the history, undone as a whole."""
    status = request.form.get("status", "")
    if status not in STATUSES:
        raise BadRequest(f"status: choose one of {', '.join(STATUSES)}", parameter="status")
    db = get_db()
    ids = _chosen_ids(db)
    back = safe_next(request.form.get("back"), url_for("admin.organisations"))
    if request.form.get("confirm") != "yes":
        current = catalogue.statuses_of(db, ids)
        changing = sum(1 for s in current.values() if s in catalogue.STATUS_CHANGES_FROM[status])
        kept = {s: sum(1 for v in current.values() if v == s) for s in STATUSES}
        kept = {s: n for s, n in kept.items() if n and s not in catalogue.STATUS_CHANGES_FROM[status]}
        return render_template("admin/bulk_status.html", status=status, changing=changing, kept=kept, back=back,
                               changing_text=format_number(changing),
                               fields=[(k, v) for k, v in request.form.items(multi=True)
                                       if k not in ("csrf_token", "confirm")],
                               matching=request.args.get("scope") == "matching")
    with catalogue.write_transaction(db):
        changed = catalogue.change_statuses(db, ids, status)
        if len(changed) == 1:  # one organisation: its own history entry, as an edit
            [(org_id, previous)] = changed.items()
            accounts.audit(db, current_user.user, f"status:{status}", org_id, {"status": previous}, {"status": status})
        elif changed:
            accounts.audit(db, current_user.user, f"bulk-status:{status}", None,
                           {"statuses": {str(i): s for i, s in changed.items()}}, {"status": status})
    flash(_status_done(len(changed), status))
    return redirect(back)


def _status_done(n: int, status: str) -> str:
    if status == "published":
        return ngettext("%(num)s organisation is now published.", "%(num)s organisations are now published.", n)
    if status == "draft":
        return ngettext("%(num)s organisation is now a draft.", "%(num)s organisations are now drafts.", n)
    return ngettext("%(num)s organisation is now archived.", "%(num)s organisations are now archived.", n)


@bp.post("/organisations/status/undo/<int:entry_id>")
@role_required("admin", "editor")
def undo_status(entry_id: int):
    """Undo a bulk status change as a whole: each organisation it changed, and still at
    the status it gave, gets its previous status back."""
    db = get_db()
    entry = accounts.audit_entry(db, entry_id)
    if entry is None or not entry["action"].startswith("bulk-status:") or not entry["before"]:
        abort(404)
    status = entry["action"].split(":", 1)[1]
    previous = {int(i): s for i, s in entry["before"]["statuses"].items()}
    if accounts.audit_entries_of(db, f"undo-bulk-status:{entry_id}"):
        flash(_("This change was undone already."))
        return redirect(url_for("admin.dashboard"))
    scope.require(*(catalogue.organisation_state(db, i) for i in previous))
    with catalogue.write_transaction(db):
        n = catalogue.restore_statuses(db, previous, status)
        accounts.audit(db, current_user.user, f"undo-bulk-status:{entry_id}", None, None, {"count": n})
    flash(ngettext("Undone: %(num)s organisation has its previous status again.",
                   "Undone: %(num)s organisations have their previous status again.", n))
    return redirect(url_for("admin.dashboard"))


def _chosen_ids(db) -> list[int]:
    """The organisations a bulk action applies to: those ticked, or (``?scope=matching``)
    every one matching the list's filters, on all its pages."""
    if request.args.get("scope") == "matching":
        selection = MultiDict([(k[len("match:"):], v) for k, v in request.form.items(multi=True)
                               if k.startswith("match:")])
        filters, chosen, staff_filters = _staff_selection(selection)
        return catalogue.matching_ids(db, filters, chosen, **staff_filters)
    ids = params.ids(request.form.getlist("id"))
    scope.require(*(catalogue.organisation_state(db, org_id) for org_id in ids))
    return ids


@bp.post("/organisations/owner-links")
@role_required("admin", "editor")
def send_owner_links():
    """E-mail the selected organisations (or all matching) a link to check and edit their
    own entry, each in its country's language; those without an e-mail, or sent one
    minutes ago, are counted and skipped."""
    db = get_db()
    ids = _chosen_ids(db)
    if len(ids) > MAX_LINKS_AT_ONCE:
        flash(_("%(n)s organisations are selected; send edit links to at most %(max)s at once (narrow the "
                "filters, for example by country).", n=len(ids), max=MAX_LINKS_AT_ONCE))
        return redirect(safe_next(request.form.get("back"), url_for("admin.organisations")))
    outcome = owners.send_links(db, ids, mailing.settings(), current_app.config["OWNER_LINK_DAYS"],
                                lang=current_language())
    with catalogue.write_transaction(db):
        for org_id in outcome.sent:
            accounts.audit(db, current_user.user, "owner-link-sent", org_id)
    flash(" ".join(filter(None, [
        ngettext("Edit links sent to %(num)s organisation.", "Edit links sent to %(num)s organisations.",
                 len(outcome.sent)),
        ngettext("%(num)s has no e-mail address.", "%(num)s have no e-mail address.",
                 len(outcome.no_email)) if outcome.no_email else "",
        ngettext("%(num)s was sent one less than %(minutes)s minutes ago and was skipped.",
                 "%(num)s were sent one less than %(minutes)s minutes ago and were skipped.", len(outcome.recent),
                 minutes=owners.LINK_INTERVAL_MINUTES) if outcome.recent else "",
        _("The mail server stopped the sending: %(error)s", error=translated(outcome.failed, current_language()))
        if outcome.failed else ""])))
    return redirect(safe_next(request.form.get("back"), url_for("admin.organisations")))


@bp.route("/users", methods=["GET", "POST"])
@role_required("admin")
def users():
    """Admins create staff accounts and change roles."""
    db = get_db()
    error, created = None, None
    if request.method == "POST":
        action = request.form.get("action")
        try:
            if action == "create":
                user, password = accounts.create_user(db, request.form.get("email", ""),
                                                      request.form.get("password") or None,
                                                      request.form.get("role", "editor"))
                created = (user.email, password)
            elif action == "scope":
                with catalogue.write_transaction(db):
                    accounts.set_moderation_scope(db, whole_number(request.form.get("user_id"), "user_id", low=1),
                                                  ",".join(request.form.getlist("countries")),
                                                  ",".join(request.form.getlist("projects")))
            elif action in ("role", "deactivate", "activate"):
                accounts.update_user(db, whole_number(request.form.get("user_id"), "user_id", low=1), acting=current_user.user,
                                     role=request.form.get("role") if action == "role" else None,
                                     active={"deactivate": False, "activate": True}.get(action))
        except accounts.AccountError as e:
            error = translated(e.args[0], current_language())
        except BadRequest as e:
            error = translated(e.message, current_language())
    lang = current_language()
    return render_template("admin/users.html", users=accounts.list_users(db), error=error,
                           created=created, roles=ROLES, all_countries=vocab.countries_by_name(lang),
                           all_projects=sorted(((p["slug"], p["names"].get(lang) or p["name"])
                                                for p in project_store.list_projects(db)),
                                               key=lambda p: vocab.collation_key(p[1], lang))), (400 if error else 200)
