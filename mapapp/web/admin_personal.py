"""Personal data in the staff area (admins only): everything held about an e-mail address,
shown, downloaded as JSON or erased (``contributing.personaldata``); and whether bulk exports
carry organisations' e-mail and phone (the site setting ``export_contacts``).

The address travels in POSTed forms only, never in a URL (which logs and browser histories keep)."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..catalogue import personaldata as held_store
from ..catalogue import site as site_store
from ..contributing import personaldata
from ..text import mailbox
from .auth import role_required
from .db import get_db

bp = Blueprint("personal", __name__, url_prefix="/admin/personal-data")


def _page(held: personaldata.Held | None = None, error: str | None = None, status: int = 200):
    db = get_db()
    return render_template("admin/personal_data.html", held=held, error=error,
                           export_contacts=held_store.export_contacts(db)), status


@bp.route("", methods=["GET", "POST"])
@role_required("admin")
def index():
    """The look-up form and the export setting; a POSTed address shows what is held about it."""
    if request.method == "GET":
        return _page()
    try:
        held = personaldata.find(get_db(), request.form.get("email", ""))
    except personaldata.PersonalDataError:
        return _page(error=_("Give an e-mail address, such as ana@example.org."), status=400)
    return _page(held)


@bp.post("/export")
@role_required("admin")
def export():
    """Everything held about the address, as a JSON download (audited, without the address)."""
    try:
        body = personaldata.export(get_db(), request.form.get("email", ""), by=current_user.email,
                                   secret=current_app.config["SECRET_KEY"])
    except personaldata.PersonalDataError:
        return _page(error=_("Give an e-mail address, such as ana@example.org."), status=400)
    name = "personal-data-" + "".join(c if c.isalnum() else "-" for c in mailbox(request.form["email"]))[:60] + ".json"
    response = Response(body, mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@bp.post("/erase")
@role_required("admin")
def erase():
    """Erase what is held about the address; organisations' public e-mails only when confirmed."""
    try:
        erased = personaldata.erase(get_db(), request.form.get("email", ""), by=current_user.email,
                                    secret=current_app.config["SECRET_KEY"],
                                    organisations=request.form.get("organisations") == "yes")
    except personaldata.PersonalDataError:
        return _page(error=_("Give an e-mail address, such as ana@example.org."), status=400)
    flash(_("Personal data erased: %(contributions)s contribution(s), %(subscriptions)s subscription(s), "
            "%(organisations)s organisation e-mail(s), %(traces)s other trace(s).",
            contributions=erased.contributions, subscriptions=erased.subscriptions,
            organisations=erased.organisations, traces=erased.traces))
    if erased.staff_accounts:
        flash(_("A staff account uses this address: deactivate the account on the users page."))
    return redirect(url_for("personal.index"))


@bp.post("/exports")
@role_required("admin")
def exports_setting():
    """Whether bulk exports carry organisations' e-mail and phone (their pages always do)."""
    chosen = request.form.get("export_contacts") == "yes"
    site_store.write_settings(get_db(), {held_store.EXPORT_CONTACTS: True if chosen else None}, current_user.email)
    flash(_("Bulk exports now include organisations' e-mail and phone.") if chosen
          else _("Bulk exports now leave out organisations' e-mail and phone."))
    return redirect(url_for("personal.index"))
