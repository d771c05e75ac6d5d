"""The staff area: dashboard, organisations (list, publish), users. Every route needs a role."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
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
from ..text import collation_key
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
    return render_template("admin/dashboard.html", counts=catalogue.status_counts(db, (mine.countries, mine.projects)),
                           waiting=contribution_store.count_in(db, "pending", countries=countries, projects=projects),
                           audit=accounts.audit_entries(db, limit=15, scope=mine), scope=mine, demo_data=demo_data)


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
                           countries=sorted(catalogue.country_codes_in_use(db),
                                            key=lambda c: collation_key(vocab.country_name(c, current_language()), current_language())),
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
    (``?scope=matching``) every organisation matching the list's filters, on all its pages."""
    status = request.form.get("status", "")
    if status not in STATUSES:
        raise BadRequest(f"status: choose one of {', '.join(STATUSES)}", parameter="status")
    db = get_db()
    ids = _chosen_ids(db)
    with catalogue.write_transaction(db):
        changed = catalogue.set_status(db, ids, status)
        for org_id, previous in changed:
            accounts.audit(db, current_user.user, f"status:{status}", org_id,
                           {"status": previous}, {"status": status})
    labels = {"draft": _("draft"), "published": _("published"), "archived": _("archived")}
    flash(_("%(n)s organisations are now %(status)s.", n=len(changed), status=labels[status]))
    return redirect(safe_next(request.form.get("back"), url_for("admin.organisations")))


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
        _("Edit links sent to %(n)s organisations.", n=len(outcome.sent)),
        _("%(n)s have no e-mail address.", n=len(outcome.no_email)) if outcome.no_email else "",
        _("%(n)s were sent one less than %(minutes)s minutes ago and were skipped.", n=len(outcome.recent),
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
                                                  request.form.get("countries", ""), request.form.get("projects", ""))
            elif action in ("role", "deactivate", "activate"):
                accounts.update_user(db, whole_number(request.form.get("user_id"), "user_id", low=1), acting=current_user.user,
                                     role=request.form.get("role") if action == "role" else None,
                                     active={"deactivate": False, "activate": True}.get(action))
        except accounts.AccountError as e:
            error = translated(e.args[0], current_language())
        except BadRequest as e:
            error = translated(e.message, current_language())
    return render_template("admin/users.html", users=accounts.list_users(db), error=error,
                           created=created, roles=ROLES), (400 if error else 200)
