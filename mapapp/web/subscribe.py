""""Tell me about new organisations here": the subscription form (the map's filters and
area), its confirmation link, and the one-click unsubscribe of every digest."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request, url_for
from flask_babel import gettext as _

from ..contributing import antispam, flow, subscriptions
from ..errors import BadRequest
from ..translate import translated
from .auth import csrf
from .db import get_db
from .i18n import current_language
from .mailing import settings
from .tokens import carries_token

bp = Blueprint("subscribe", __name__)


@bp.route("/subscribe", methods=["GET", "POST"])
def form():
    """Subscribe to new organisations matching the filters and area in the address."""
    lang = current_language()
    try:
        query = subscriptions.clean_query(request.args)
    except BadRequest as e:
        return render_template("contribute_done.html", title=_("This address cannot be used"),
                               message=translated(e.message, lang)), 400
    problems = {}
    if request.method == "POST":
        try:
            subscriptions.subscribe(
                get_db(), email=request.form.get("email", ""), lang=lang, query=query,
                frequency=request.form.get("frequency", ""), proof=request.form.get("altcha", ""),
                client=antispam.client_key(request.remote_addr or "unknown", current_app.config["SECRET_KEY"]),
                settings=settings())
        except flow.Refused as refused:
            problems = {k: translated(v, lang) for k, v in refused.problems.items()}
        else:
            return render_template("contribute_done.html", title=_("Check your e-mail"), message=_(
                "We sent you a message with a link: follow it to start receiving the news."))
    return render_template("subscribe.html", problems=problems, query=query,
                           view=url_for("views.index") + ("?" + query if query else "")), 400 if problems else 200


@bp.route("/subscribe/confirm/<token>", methods=["GET", "POST"])
@carries_token
def confirm(token: str):
    """The link from the e-mail: a button, then the subscription starts."""
    if request.method == "GET":
        return render_template("contribute_confirm.html", title=_("Confirm your subscription"),
                               button=_("Confirm my subscription"))
    try:
        subscriptions.confirm(get_db(), token)
    except flow.LinkError as e:
        return render_template("contribute_done.html", title=_("This link cannot be used"),
                               message=translated(e.args[0], current_language())), 410
    return render_template("contribute_done.html", title=_("Thank you"), message=_(
        "Your subscription is confirmed. Every message you get has a link to stop it."))


@bp.route("/unsubscribe/<key>", methods=["GET", "POST"])
@carries_token
@csrf.exempt  # mail programs post the one-click unsubscribe (RFC 8058) without a form token
def unsubscribe(key: str):
    """Stop a subscription: a button here, or one POST from the mail program."""
    if request.method == "GET":
        return render_template("contribute_confirm.html", title=_("Stop this subscription"),
                               button=_("Stop the messages"), no_token=True)
    stopped = subscriptions.unsubscribe(get_db(), key)
    return render_template("contribute_done.html", title=_("Unsubscribed"), message=_(
        "You will get no more messages from this subscription.") if stopped else _(
        "This subscription was already stopped."))
