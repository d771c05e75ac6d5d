"""The contribution forms: "Add an organisation", "Suggest a correction" (or "it has
closed"), the confirmation link, and the proof-of-work challenge the forms ask for."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _

from .. import catalogue, vocab
from ..catalogue import fields as field_store
from ..catalogue import owners as owner_store
from ..contributing import antispam, flow, owners
from ..translate import translated
from . import apihttp, jobqueue, picturefiles
from .db import get_db
from .i18n import current_language
from .mailing import settings
from .mapcontext import offered_categories
from .tokens import carries_token

bp = Blueprint("contribute", __name__)

# Form fields → the importer's field names (the importer checks them as a row's cells).
TEXT_FIELDS = ("name", "street", "postcode", "city", "country", "website", "email", "phone", "description")
KINDS = ("need", "offer")


def _raw_from_form(form, lang: str) -> dict[str, str]:
    """The form as the cells of an import row."""
    raw = {f: form.get(f, "") for f in TEXT_FIELDS if f in form}
    if "description" in raw:
        raw[f"description_{lang}"] = raw["description"]
    raw["themes"] = "; ".join(form.getlist("theme"))
    for kind in KINDS:
        parts = []
        for code in form.getlist(kind):
            detail = form.get(f"{kind}_detail_{code}", "").replace(";", ",").replace(":", " ").strip()
            parts.append(f"{code}: {detail}" if detail else code)
        raw[f"{kind}s"] = "; ".join(parts)
    if form.get("lat") or form.get("lon"):
        raw["lat"], raw["lon"] = form.get("lat", ""), form.get("lon", "")
    return raw


def _client() -> str:
    return antispam.client_key(request.remote_addr or "unknown", current_app.config["SECRET_KEY"])


def _form_page(kind: str, org: dict | None, problems: dict, status: int = 200, **extra):
    lang = current_language()
    problems = {k: translated(v, lang) for k, v in problems.items()}
    values = request.form if request.method == "POST" else _defaults(org)
    public = field_store.public_fields(get_db())  # a public form never shows staff-only fields
    if request.method == "POST":
        field_values = {f.slug: request.form.getlist(f"field:{f.slug}") for f in public}
    else:
        field_values = field_store.values_of(get_db(), org["id"]) if org else {}
    field_errors = {k.removeprefix("field-"): v for k, v in problems.items() if k.startswith("field-")}
    return render_template("contribute.html", kind=kind, org=org, problems=problems, v=values, **extra,
                           custom_fields=public, field_values=field_values, field_errors=field_errors,
                           themes=offered_categories(), resources=vocab.resources(), lang=lang,
                           countries=vocab.countries_by_name(lang),
                           honeypot=antispam.HONEYPOT, image_max_mb=current_app.config["IMAGE_MAX_MB"]), status


def _defaults(org: dict | None) -> dict:
    """What the form shows first: the organisation as it is (corrections), or the embed's
    locked country (new ones from an embed)."""
    if org is None:
        return {"country": request.args.get("country", "").split(",")[0].upper()}
    out = {f: org.get(f) or "" for f in TEXT_FIELDS if f != "description"}
    out["description"] = org.get("description") or ""
    return out


def _project(slug: str | None) -> str | None:
    """The embed's project, when it is one (it scopes the contribution for partner moderators)."""
    return slug if slug and catalogue.project_exists(get_db(), slug) else None


def _submit(kind: str, org: dict | None):
    form = request.form
    lang = current_language()
    sub = flow.Submission(
        kind=("closed" if form.get("closed") else "correction") if org else "new",
        raw=_raw_from_form(form, lang), contact=form.get("contact", ""), lang=lang, client=_client(),
        note=form.get("note", ""), organisation_id=org["id"] if org else None,
        project=_project(form.get("project")), honeypot=form.get(antispam.HONEYPOT, ""), proof=form.get("altcha", ""),
        fields={f.slug: form.getlist(f"field:{f.slug}") for f in field_store.public_fields(get_db())
                if f"field:{f.slug}" in form},
        pictures=tuple((fld, fld, data, form.get(f"{fld}_alt", "")) for fld in ("logo", "photo")
                       if (data := picturefiles.read_upload(fld))),
        picture_max_bytes=picturefiles.max_bytes())
    try:
        flow.submit(get_db(), sub, settings())
    except flow.Refused as refused:
        return _form_page(kind, org, refused.problems, 400)
    return redirect(url_for("contribute.sent"))


@bp.route("/contribute", methods=["GET", "POST"])
def new():
    """Add an organisation."""
    if request.method == "POST":
        return _submit("new", None)
    return _form_page("new", None, {})


@bp.route("/organisations/<slug>/suggest", methods=["GET", "POST"])
def suggest(slug: str):
    """Suggest a correction to a published organisation, or say that it has closed."""
    org = catalogue.get_organisation(get_db(), slug)
    if org is None:
        return render_template("contribute_done.html", title=_("Not found"),
                               message=_("There is no published organisation at this address.")), 404
    if request.method == "POST":
        return _submit("correction", org)
    return _form_page("correction", org, {})


@bp.get("/contribute/sent")
def sent():
    """After sending: look for the e-mail."""
    return render_template("contribute_done.html", title=_("Check your e-mail"), message=_(
        "We sent you a message with a link. Follow it to confirm your contribution; then a moderator "
        "will look at it. Nothing is published before that."))


@bp.route("/contribute/confirm/<token>", methods=["GET", "POST"])
@carries_token
def confirm(token: str):
    """The link from the e-mail: a button (programs that open links in e-mails do not
    press it), then the contribution goes to the moderators."""
    if request.method == "GET":
        return render_template("contribute_confirm.html", token=token)
    try:
        flow.confirm(get_db(), token)
    except flow.LinkError as e:
        return render_template("contribute_done.html", title=_("This link cannot be used"),
                               message=translated(e.args[0], current_language()) if e.args else ""), 410
    jobqueue.current().moderation_digest()  # the moderators hear of it
    return render_template("contribute_done.html", title=_("Thank you"), message=_(
        "Your contribution is confirmed. A moderator will look at it; you will get an e-mail when it is decided."))


@bp.get("/contribute/challenge")
def challenge():
    """A fresh proof-of-work challenge for the form's widget."""
    response = jsonify(antispam.challenge(current_app.config["SECRET_KEY"], current_app.config["ALTCHA_COST"]))
    response.headers["Cache-Control"] = "no-store"
    return response


def _org_by_id(org_id: int) -> dict | None:
    found = catalogue.organisation_by_id(get_db(), org_id)
    return catalogue.get_organisation(get_db(), found["slug"], published_only=False) if found else None


@bp.route("/organisations/<slug>/owner-link", methods=["GET", "POST"])
def owner_link(slug: str):
    """"Is this your organisation?": an edit link sent to the organisation's own e-mail
    (after the same proof-of-work as the forms, so that nobody floods that address)."""
    db = get_db()
    org = catalogue.get_organisation(db, slug)
    if org is None or not org.get("email"):
        return render_template("contribute_done.html", title=_("Not found"), message=_(
            "There is no published organisation with an e-mail address here.")), 404
    problem, status = None, 200
    if request.method == "POST":
        problem = antispam.check_proof(db, request.form.get("altcha", ""), current_app.config["SECRET_KEY"])
        status = 400
        if problem is None:
            try:
                config = current_app.config
                owners.send_link(db, org["id"], current_language(), settings(), config["OWNER_LINK_DAYS"],
                                 asked=owners.AskedFromPage(_client(), config["OWNER_LINKS_PER_CLIENT"],
                                                            config["OWNER_LINKS_PER_HOUR"]))
            except flow.Refused as refused:
                problem = refused.problems[""]
                status = 429 if isinstance(refused, owners.TooSoon) else 503
            else:
                return render_template("contribute_done.html", title=_("Check the organisation's e-mail"), message=_(
                    "A link to edit the entry was sent to the organisation's e-mail address."))
        problem = translated(problem, current_language())
    return render_template("owner_link.html", org=org, problem=problem), status


@bp.route("/owner/<token>", methods=["GET", "POST"])
@carries_token
def owner(token: str):
    """The owner's page from the e-mailed link: edit the entry, or say it is still correct."""
    db = get_db()
    config = current_app.config
    try:
        org_id = owners.organisation_of(db, config["SECRET_KEY"], token, config["OWNER_LINK_DAYS"])
    except flow.LinkError as e:
        return render_template("contribute_done.html", title=_("This link cannot be used"),
                               message=translated(e.args[0], current_language())), 410
    org = _org_by_id(org_id)
    if request.method == "POST" and request.form.get("action") == "still-correct":
        owners.still_correct(db, org_id)
        return apihttp.mark_fresh(make_response(render_template("contribute_done.html", title=_("Thank you"),
                                                                message=_("The entry is marked as checked today."))))
    if request.method == "POST":
        try:
            outcome = owners.edit(db, org_id, _raw_from_form(request.form, current_language()),
                                  publish=config["OWNER_EDITS"] == "publish", lang=current_language())
        except flow.Refused as refused:
            return _form_page("owner", org, refused.problems, 400, token=token)
        if outcome == "pending":
            jobqueue.current().moderation_digest()
        done = make_response(render_template("contribute_done.html", title=_("Thank you"), message=_(
            "Your changes are on the map.") if outcome == "published" else _(
            "Your changes were sent to the moderators; they are shown once accepted.")))
        return apihttp.mark_fresh(done) if outcome == "published" else done
    return _form_page("owner", org, {}, token=token, checked=owner_store.checked_at(db, org_id))
