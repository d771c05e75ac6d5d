"""The staff area: dashboard, organisations (list, publish), users. Every route needs a role."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from .. import accounts, catalogue, params
from ..errors import BadRequest
from ..filters import Filters
from ..params import whole_number
from .. import vocab
from ..importing import jobs
from ..vocab import PRECISIONS, ROLES, STATUSES
from ..translate import translated
from .auth import role_required, safe_next
from .db import get_db
from .i18n import current_language

bp = Blueprint("admin", __name__, url_prefix="/admin")
PAGE_SIZE = 50


@bp.get("")
@role_required("admin", "editor")
def dashboard():
    """What needs attention: counts by status, organisations without a location."""
    db = get_db()
    return render_template("admin/dashboard.html", counts=catalogue.status_counts(db),
                           audit=accounts.audit_entries(db, limit=15))


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
    return render_template("admin/organisations.html", orgs=orgs, total=total, page=page,
                           pages=max(1, -(-total // PAGE_SIZE)), filters=filters, chosen=chosen,
                           statuses=STATUSES, precisions=PRECISIONS, sources=catalogue.sources(db),
                           countries=sorted(catalogue.country_codes_in_use(db),
                                            key=lambda c: vocab.country_name(c, current_language())),
                           selection=[(k, v) for k, v in request.args.items(multi=True) if k != "page"],
                           from_import=jobs.get(db, staff_filters["import_id"]) if staff_filters["import_id"] else None)


def _staff_selection(args) -> tuple[Filters, tuple[str, ...], dict]:
    """The staff list's filters: the public ones, the statuses, and the staff-only ones."""
    chosen = tuple(s for s in args.getlist("status") if s in STATUSES) or STATUSES
    staff_filters = {
        "unlocated_only": args.get("located") == "0",  # the "needs a location" queue
        "precision": args.get("precision") if args.get("precision") in PRECISIONS else None,
        "source": args.get("source") or None,
        "import_id": whole_number(args.get("import"), "import", default=None, low=1) if args.get("import") else None,
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
    if request.args.get("scope") == "matching":
        selection = MultiDict([(k[len("match:"):], v) for k, v in request.form.items(multi=True)
                               if k.startswith("match:")])
        filters, chosen, staff_filters = _staff_selection(selection)
        ids = catalogue.matching_ids(db, filters, chosen, **staff_filters)
    else:
        ids = params.ids(request.form.getlist("id"))
    with catalogue.write_transaction(db):
        changed = catalogue.set_status(db, ids, status)
        for org_id, previous in changed:
            accounts.audit(db, current_user.user, f"status:{status}", org_id,
                           {"status": previous}, {"status": status})
    labels = {"draft": _("draft"), "published": _("published"), "archived": _("archived")}
    flash(_("%(n)s organisations are now %(status)s.", n=len(changed), status=labels[status]))
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
