"""Editing one organisation: every field, a draggable pin, "geocode this address", and undo
from the audit log; adding one from the staff area, with the same form and the same checks."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import accounts, catalogue, geo, kinds, vocab
from .. import fields as field_rules
from ..catalogue import fields as field_store
from ..catalogue import images as picture_store
from ..catalogue import projects as project_store
from ..importing import normalise
from ..mapdata import gazetteer, geocode
from ..translate import translated
from . import scope
from .auth import role_required
from .db import get_db
from .i18n import current_language
from .mapcontext import staff_words

bp = Blueprint("edit", __name__, url_prefix="/admin")
TEXT_FIELDS = ("name", "legal_form", "street", "city", "region")
SOURCE = "staff"  # the source of organisations staff add by hand


def _blank() -> dict:
    """A new organisation before its form is filled in: a draft, no location, nothing related."""
    values = dict.fromkeys(catalogue.FIELDS)
    values.update(status="draft", relation="other", source=SOURCE)
    return {"values": values, "related": {"themes": [], "needs": {}, "offers": {}, "descriptions": {}},
            "projects": [], "visits": [], "memberships": {}}


def _parse_form(form, before: dict) -> tuple[dict, dict[str, str]]:
    """The snapshot the form asks for, and the problems per field (nothing is saved if any)."""
    errors: dict[str, str] = {}
    values = dict(before["values"])
    for fld in TEXT_FIELDS:
        values[fld] = normalise.clean_text(form.get(fld, ""))
    if not values["name"]:
        errors["name"] = _("An organisation needs a name.")
    values["description"] = normalise.clean_multiline(form.get("description", ""))
    country = form.get("country") or None
    if country and not vocab.is_country(country):
        errors["country"] = _("Choose a country from the list.")
    values["country"] = country
    for fld, parser in (("website", normalise.parse_website), ("email", normalise.parse_email),
                        ("phone", normalise.parse_phone)):
        value, problem = parser(form.get(fld, ""))
        if problem and not value:
            errors[fld] = translated(problem, current_language())
        values[fld] = value
    values["postcode"], problem = normalise.parse_postcode(form.get("postcode", ""), country)
    if problem and not values["postcode"]:
        errors["postcode"] = translated(problem, current_language())
    values["relation"] = form.get("relation") if form.get("relation") in vocab.relations() else "other"
    values["structure"] = form.get("structure") if form.get("structure") in vocab.structures() else None
    if form.get("status") in vocab.STATUSES:
        values["status"] = form["status"]
    lat, lon = normalise.parse_number(form.get("lat", "")), normalise.parse_number(form.get("lon", ""))
    if (lat is None) != (lon is None) or (lat is not None and not (-90 <= lat <= 90 and -180 <= lon <= 180)):
        errors["location"] = _("The location is not a valid point; place the pin again.")
    elif lat is not None and (lat, lon) != (before["values"]["lat"], before["values"]["lon"]):
        values.update(lat=lat, lon=lon)
        # A pin placed by hand is kept by later geocoding and imports; a geocoder's answer
        # chosen with the button keeps its own precision.
        values["geo_precision"] = form.get("geo_precision") or "manual"
        values["geo_source"] = form.get("geo_source") or f"staff:{current_user.email}"
    elif lat is None:
        values.update(lat=None, lon=None, geo_precision=None, geo_source=None)
    mismatch = _pin_outside_country(values, before["values"])
    if mismatch and form.get("confirm_country") != "1":
        errors["location"] = mismatch
    related = {
        "themes": [t for t in form.getlist("theme") if kinds.theme_tree().find(t) == t],
        "needs": {c: normalise.clean_text(form.get(f"need_detail:{c}", ""))[:200]
                  for c in form.getlist("need") if c in vocab.resources()},
        "offers": {c: normalise.clean_text(form.get(f"offer_detail:{c}", ""))[:200]
                   for c in form.getlist("offer") if c in vocab.resources()},
        "descriptions": {lang: normalise.clean_multiline(form.get(f"description_{lang}", ""))
                         for lang in vocab.LANGUAGES
                         if normalise.clean_multiline(form.get(f"description_{lang}", ""))},
    }
    # Each project's select says the organisation's relation to it, or that it is not in it;
    # a partner keeps its role (set on the project's page) while it stays a partner.
    memberships = {}
    for project in project_store.list_projects(get_db()):
        relation = form.get(f"project_relation:{project['slug']}", "")
        if relation in project_store.RELATIONS:
            kept = (before.get("memberships") or {}).get(project["slug"], [None, None])
            memberships[project["slug"]] = [relation, kept[1] if relation == "partner" and kept[0] == "partner" else None]
    # The network's own fields: the form shows them all; a required one is required of the
    # organisations in its categories.
    given = {f.slug: form.getlist(f"field:{f.slug}") for f in field_store.list_fields(get_db())}
    field_values, problems = field_rules.check_all(field_store.list_fields(get_db()), given, related["themes"],
                                                   lang=current_language())
    errors.update({f"field-{slug}": translated(problem, current_language()) for slug, problem in problems.items()})
    return {"values": values, "related": related, "projects": sorted(memberships),
            "visits": form.getlist("visit"), "memberships": memberships,
            "fields": {**(before.get("fields") or {}), **field_values}}, errors


def _pin_outside_country(values: dict, before: dict) -> str | None:
    """Why a pin newly placed (or a country newly chosen) puts the organisation outside its
    country, as the importer would refuse it; None when they agree or cannot be checked."""
    lat, lon, country = values["lat"], values["lon"], values["country"]
    if lat is None or not country or (lat, lon, country) == (before["lat"], before["lon"], before["country"]):
        return None
    if not geo.has_outline(country) or geo.in_country(country, lat, lon) is not False:
        return None
    found = geo.country_at(lat, lon)
    lang = current_language()
    where = vocab.country_name(found, lang) if found else _("the sea")
    return _("The pin lies in %(where)s, not in %(country)s, the organisation's country: move the pin, change "
             "the country, or confirm below that the pin is right.", where=where,
             country=vocab.country_name(country, lang))


def field_names() -> dict[str, str]:
    """The form's fields as the error list names them."""
    return {"name": _("Name"), "country": _("Country"), "website": _("Website"), "email": _("E-mail"),
            "phone": _("Phone"), "postcode": _("Postcode"), "location": _("Location"),
            **{f"field-{f.slug}": f.label(current_language()) for f in field_store.list_fields(get_db())}}


def _submitted(db, before: dict) -> tuple[dict, dict, str | None]:
    """The form as posted: the snapshot it asks for, the problems, and a note when "geocode"
    filled the pin from the address (nothing is saved then). A partner editor's snapshot must
    lie in their part of the catalogue (else the 403 page)."""
    snapshot, errors = _parse_form(request.form, before)
    scope.require(snapshot)  # a partner cannot move an organisation out of their part, nor add one elsewhere
    note = None
    if request.form.get("action") == "geocode":
        outcome = geocode.chain_from_settings(current_app.config, db).locate(
            geocode.Address.from_record(snapshot["values"]), skip=lambda step: step.name == "provided")
        if outcome.location:
            loc = outcome.location
            snapshot["values"].update(lat=loc.lat, lon=loc.lon, geo_precision=loc.precision, geo_source=loc.source)
            note = _("Found (%(precision)s, %(source)s): check the pin, then save.",
                     precision=staff_words()["precision"].get(loc.precision, loc.precision), source=loc.source)
        else:
            note = _("No geocoder found this address; place the pin by hand.")
        errors.pop("location", None)
    return snapshot, errors, note


def _form_page(db, org: dict | None, snapshot: dict, errors: dict, note: str | None, history: list):
    names = catalogue.project_and_visit_names(db, current_language())
    projects = [(p["slug"], p["names"].get(current_language()) or p["name"]) for p in project_store.list_projects(db)]
    relations = {"visited": _("visited"), "participant": _("participant"), "partner": _("partner"), "other": _("other")}
    return render_template("admin/edit.html", org=org, s=snapshot, relations=relations,
                           start_view=_start_view(snapshot["values"]),
                           pin_country=_pin_country_text(snapshot["values"]["lat"], snapshot["values"]["lon"],
                                                         snapshot["values"]["country"]),
                           errors=errors, note=note, projects=projects, visits=names["visit"],
                           history=history, field_names=field_names(),
                           custom_fields=field_store.list_fields(db), field_values=snapshot.get("fields") or {},
                           field_errors={k.removeprefix("field-"): v for k, v in errors.items() if k.startswith("field-")},
                           pictures=picture_store.pictures_of(db, org["id"]) if org else [],
                           max_photos=picture_store.MAX_PHOTOS, image_max_mb=current_app.config["IMAGE_MAX_MB"],
                           countries=vocab.countries_by_name(current_language())), \
        (400 if errors else 200)


def _start_view(values: dict) -> dict | None:
    """Where the pin editor opens when the organisation has no point yet: on its town (the
    offline gazetteer), else on its country; None: the map's default view."""
    country, city = values.get("country"), values.get("city")
    if values.get("lat") is not None or not country:
        return None
    match = gazetteer.lookup(city, country) if city else None
    if match:
        return {"center": [match.place.lat, match.place.lon], "zoom": 12}
    bounds = geo.country_bounds(country)
    return {"bounds": [[bounds[0], bounds[1]], [bounds[2], bounds[3]]]} if bounds else None


def _pin_country_text(lat, lon, country: str | None) -> str:
    """Which country the pin lies in, said against the organisation's country."""
    if lat is None or lon is None:
        return _("No pin yet: search a place or click the map.")
    lang = current_language()
    found = geo.country_at(float(lat), float(lon))
    if found is None:
        return _("The pin is at sea or outside every country.")
    if country and found != country and geo.has_outline(country):
        return _("The pin is in %(where)s, not in %(country)s, the organisation's country.",
                 where=vocab.country_name(found, lang), country=vocab.country_name(country, lang))
    return _("The pin is in %(where)s.", where=vocab.country_name(found, lang))


@bp.get("/pin/country.json")
@role_required("admin", "editor")
def pin_country():
    """The pin editor's line saying which country the pin is in, as it moves."""
    try:
        lat, lon = float(request.args.get("lat", "")), float(request.args.get("lon", ""))
    except ValueError:
        abort(400)
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        abort(400)
    country = request.args.get("country") or None
    return jsonify({"country": geo.country_at(lat, lon),
                    "text": _pin_country_text(lat, lon, country if country and vocab.is_country(country) else None)})


@bp.get("/pin/places.json")
@role_required("admin", "editor")
def pin_places():
    """Places matching the pin editor's search, through the geocoder chain: every place of
    that name in the organisation's country from the offline gazetteer, then what the chain
    (cache and the online geocoders configured) finds for the text as an address."""
    text = (request.args.get("q") or "").strip()[:200]
    country = request.args.get("country") or ""
    country = country if vocab.is_country(country) else ""
    if not text:
        return jsonify([])
    lang = current_language()
    found = [{"label": f"{p.name}, {vocab.country_name(p.country, lang)}", "lat": p.lat, "lon": p.lon,
              "source": "gazetteer"} for p in gazetteer.search(text, country)]
    try:
        chain = geocode.chain_from_settings(current_app.config, get_db())
        outcome = chain.locate(geocode.Address.from_record({"city": text, "country": country}),
                               skip=lambda step: step.name in ("provided", "gazetteer"))
    except geocode.GeocodeConfigError:
        outcome = None
    if outcome and outcome.location:
        loc = outcome.location
        if not any(abs(f["lat"] - loc.lat) < 0.01 and abs(f["lon"] - loc.lon) < 0.01 for f in found):
            found.append({"label": text + (f", {vocab.country_name(country, lang)}" if country else ""),
                          "lat": loc.lat, "lon": loc.lon, "source": loc.source})
    return jsonify(found[:10])


@bp.route("/organisations/<int:org_id>/edit", methods=["GET", "POST"])
@role_required("admin", "editor")
def edit(org_id: int):
    """The edit form; "geocode" fills the pin from the address without saving."""
    db = get_db()
    before = catalogue.organisation_state(db, org_id)
    if before is None:
        abort(404)
    scope.require(before)
    snapshot, errors, note = before, {}, None
    if request.method == "POST":
        snapshot, errors, note = _submitted(db, before)
        if note is None and not errors:
            with catalogue.write_transaction(db):
                if catalogue.restore_state(db, org_id, snapshot):
                    accounts.audit(db, current_user.user, "edit", org_id, before,
                                   catalogue.organisation_state(db, org_id))
            flash(_("Saved."))
            return redirect(url_for("edit.edit", org_id=org_id))
    return _form_page(db, catalogue.organisation_by_id(db, org_id), snapshot, errors, note,
                      accounts.audit_entries(db, organisation_id=org_id, limit=20))


@bp.route("/organisations/new", methods=["GET", "POST"])
@role_required("admin", "editor")
def new():
    """Add an organisation directly (a draft unless "published" is chosen), checked like an
    edit; recorded in the audit log as created by staff."""
    db = get_db()
    snapshot, errors, note = _blank(), {}, None
    if request.method == "POST":
        snapshot, errors, note = _submitted(db, _blank())
        if note is None and not errors:
            with catalogue.write_transaction(db):
                saved = catalogue.save_organisation(db, snapshot["values"])
                catalogue.restore_state(db, saved.id, snapshot)
                accounts.audit(db, current_user.user, "created", saved.id, None,
                               catalogue.organisation_state(db, saved.id))
            flash(_("Added."))
            return redirect(url_for("edit.edit", org_id=saved.id))
    return _form_page(db, None, snapshot, errors, note, [])


@bp.post("/audit/<int:entry_id>/undo")
@role_required("admin", "editor")
def undo(entry_id: int):
    """Put an organisation back as it was before an edit, import change or status change."""
    db = get_db()
    entry = accounts.audit_entry(db, entry_id)
    if entry is None or entry["organisation_id"] is None or entry["before"] is None:
        abort(404)
    org_id = entry["organisation_id"]
    with catalogue.write_transaction(db):
        current = catalogue.organisation_state(db, org_id)
        if current is None:
            abort(404)
        before = entry["before"]
        target = before if "values" in before else {**current, "values": {**current["values"], **before}}
        scope.require(current, target)
        catalogue.restore_state(db, org_id, target)
        accounts.audit(db, current_user.user, f"undo:{entry_id}", org_id, current,
                       catalogue.organisation_state(db, org_id))
    flash(_("Undone."))
    return redirect(url_for("edit.edit", org_id=org_id))
