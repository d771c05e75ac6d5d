"""Partner editors' limits in the staff pages: the one check ("may this staff member
change this organisation", ``accounts.may_touch``) turned into a 403 page that says what
their part of the catalogue is."""

from __future__ import annotations

from flask import abort, make_response, render_template
from flask_babel import gettext as _
from flask_login import current_user

from .. import accounts
from .db import get_db


def current() -> accounts.Scope:
    """The signed-in staff member's part of the catalogue."""
    return accounts.scope_of(get_db(), current_user.user)


def refusal(reason: str | None = None):
    """The 403 response: why, and what the staff member's part of the catalogue is."""
    reason = reason or _("This organisation is outside the part of the catalogue you look after, as it is "
                         "or as this change would leave it.")
    return make_response(render_template("admin/out_of_scope.html", reason=reason, scope=current()), 403)


def require(*states: dict | None) -> None:
    """Go on only if the signed-in staff member may change an organisation in each of
    ``states`` (as stored, and as the change would leave it); else the 403 page."""
    if not accounts.may_touch(get_db(), current_user.user, *states):
        abort(refusal())


def may_touch(state: dict) -> bool:
    """For the contribution flow: whether the signed-in staff member may change an
    organisation in this state."""
    return accounts.may_touch(get_db(), current_user.user, state)
