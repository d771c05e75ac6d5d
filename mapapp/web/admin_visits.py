"""A project's visits and events in the staff area (``/admin/projects/<slug>/visits``): list,
add, edit, delete (after a confirmation; undone from the list), each change audited as
``visit:<id>``. The place is located by the geocoder chain, or by a pin; the host, visited and
participating organisations are picked with search boxes (a plain search form without
JavaScript, search-as-you-type with it).

Who may: admins and editors whose part of the catalogue is the whole of it, every project's
visits; a partner editor limited to projects, the visits of those projects, picking
organisations of their part only (one already on a visit stays when they save it); a partner
editor limited to countries alone, no visits: a visit belongs to a project, not a country.
"""

from __future__ import annotations

import math
from datetime import date
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..catalogue import visits as stored
from ..importing import normalise
from ..mapdata import geocode
from ..text import strip_unsafe
from ..vocab import LANGUAGES
from . import scope
from .auth import role_required
from .db import get_db
from .i18n import current_language
from .mapcontext import staff_words

bp = Blueprint("admin_visits", __name__, url_prefix="/admin/projects/<project>/visits")

TITLE_MAX, PLACE_MAX, DESCRIPTION_MAX, LINK_MAX = 200, 200, 5000, 500


def kind_names() -> dict[str, str]:
    return {"study-visit": _("Study visit"), "seminar": _("Seminar"), "online": _("Online meeting"),
            "event": _("Public event")}


def role_names() -> dict[str, str]:
    return {"host": _("Host"), "visited": _("Visited"), "participant": _("Participant")}


def link_names() -> dict[str, str]:
    return {"programme": _("Programme"), "report": _("Report"), "photos": _("Photos")}


def _scope() -> tuple[tuple[str, ...], tuple[str, ...]]:
    s = scope.current()
    return s.countries, s.projects


def _project_or_refuse(project: str) -> dict:
    """The project, when the signed-in staff member may run its visits; else 404 or 403."""
    found = stored.project(get_db(), project, current_language())
    if found is None:
        abort(404)
    s = scope.current()
    if s.limited and project not in s.projects:
        abort(scope.refusal(_("The visits of a project are run by staff who look after the whole catalogue "
                              "or that project.")))
    return found


def _text(value: str, limit: int, *, lines: bool = False) -> str:
    if lines:  # line ends as typed in any browser, and no character a text file may not hold
        value = strip_unsafe(value.replace("\r\n", "\n").replace("\r", "\n"))
        value = "".join(c for c in value if c in "\n\t" or (c >= " " and c != "\x7f")).strip()
    else:
        value = normalise.clean_text(value)
    return value[:limit] if len(value) > limit else value


def _link(value: str) -> str | None:
    """The address if it is an http(s) one; None otherwise."""
    parts = urlsplit(value)
    if parts.scheme.lower() in ("http", "https") and parts.netloc and value.isprintable() and " " not in value:
        return value
    return None


def _number(value: str, low: float, high: float) -> float | None:
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) and low <= number <= high else None


def _day(value: str) -> str | None:
    try:
        return date.fromisoformat(value).isoformat() if value else None
    except ValueError:
        return None


def _parse(form) -> tuple[dict, dict[str, str]]:
    """The visit the form asks for (``values``) and the problems per field."""
    errors: dict[str, str] = {}
    kind = form.get("kind", "study-visit")
    if kind not in stored.KINDS:
        abort(400)
    titles = {code: t for code in LANGUAGES if (t := _text(form.get(f"title_{code}", ""), TITLE_MAX))}
    title = _text(form.get("title", ""), TITLE_MAX) or titles.get(current_language()) or next(iter(titles.values()), "")
    if not title:
        errors["title"] = _("Give the visit a title, in at least one language.")
    day, end = _day(form.get("date", "").strip()), _day(form.get("end_date", "").strip())
    if day is None:
        errors["date"] = _("Give the date as year-month-day, for example 2025-05-12.")
    if form.get("end_date", "").strip() and end is None:
        errors["end_date"] = _("Give the last day as year-month-day, for example 2025-05-14.")
    elif end and day and end < day:
        errors["end_date"] = _("The last day comes before the first.")
    place = "" if kind == "online" else _text(form.get("place", ""), PLACE_MAX)
    lat = lon = precision = None
    if kind != "online" and (form.get("lat", "").strip() or form.get("lon", "").strip()):
        lat, lon = _number(form.get("lat", ""), -90, 90), _number(form.get("lon", ""), -180, 180)
        if lat is None or lon is None:
            errors["place"] = _("The point's latitude and longitude must be numbers on the map; "
                                "place the pin again or clear them.")
        precision = form.get("geo_precision") or "manual"
        if precision not in ("provided", "address", "street", "postcode", "locality", "region", "country", "manual"):
            precision = "manual"
        if precision != "manual" and _text(form.get("located_place", ""), PLACE_MAX) != _text(form.get("place", ""), PLACE_MAX):
            lat = lon = precision = None  # the place was changed after it was located: located again on saving
    if kind != "online" and not place:
        errors["place"] = _("Say where it takes place, for example Poznań, PL (an online meeting needs no place).")
    descriptions = {code: d for code in LANGUAGES if (d := _text(form.get(f"description_{code}", ""), DESCRIPTION_MAX, lines=True))}
    links = {}
    for name in stored.LINK_KINDS:
        value = form.get(f"link_{name}", "").strip()
        if not value:
            continue
        if len(value) > LINK_MAX or _link(value) is None:
            errors[f"link_{name}"] = _("A link must be a web address starting with http:// or https://.")
        else:
            links[name] = value
    values = {"kind": kind, "title": title, "titles": titles, "date": day, "end_date": end, "place": place,
              "lat": lat, "lon": lon, "geo_precision": precision if lat is not None else None,
              "descriptions": descriptions, "links": links}
    return values, errors


def _chosen(form, existing: list[dict]) -> list[tuple[int, str]]:
    """The organisations ticked in the form with their roles. A partner editor may add only
    organisations of their part of the catalogue (else the 403 page)."""
    chosen = []
    for raw in form.getlist("org"):
        if not raw.isdigit():
            abort(400)
        role = form.get(f"role_{raw}", "participant")
        if role not in stored.ROLES:
            abort(400)
        chosen.append((int(raw), role))
    added = [org_id for org_id, _role in chosen if org_id not in {o["id"] for o in existing}]
    if added and len(stored.organisations_in_scope(get_db(), added, _scope())) < len(set(added)):
        abort(scope.refusal(_("One of the organisations picked is outside the part of the catalogue you look after.")))
    return chosen


def _locate(values: dict) -> str:
    """Fill the point from the place through the geocoder chain; what to tell staff."""
    city, _sep, country = values["place"].rpartition(",")
    country = country.strip().upper()
    if not city or len(country) != 2 or not country.isalpha():
        city, country = values["place"], ""
    outcome = geocode.chain_from_settings(current_app.config, get_db()).locate(
        geocode.Address(city=city.strip(), country=country or None), skip=lambda step: step.name == "provided")
    if outcome.location is None:
        return _("No geocoder found this place; write it as town, country code (Poznań, PL) or place the pin by hand.")
    loc = outcome.location
    values.update(lat=loc.lat, lon=loc.lon, geo_precision=loc.precision)
    return _("Found (%(precision)s, %(source)s): check the pin, then save.",
             precision=staff_words()["precision"].get(loc.precision, loc.precision), source=loc.source)


@bp.get("")
@role_required("admin", "editor")
def index(project: str):
    """The project's visits, latest first, and the latest changes to them (a deletion can be undone)."""
    found = _project_or_refuse(project)
    db = get_db()
    return render_template("admin/visits.html", project=found, visits=stored.visits_of_project(db, project),
                           history=stored.history(db, project), kind_names=kind_names(), role_names=role_names())


@bp.get("/organisations.json")
@role_required("admin", "editor")
def search(project: str):
    """Organisations to pick for a visit (``?q=``, two characters or more), within the staff
    member's part of the catalogue: id, slug, name, city, country."""
    _project_or_refuse(project)
    found = stored.pickable_organisations(get_db(), request.args.get("q", "")[:100], scope=_scope())
    return jsonify({"organisations": found})


def _form(project: dict, visit: dict | None, values: dict, chosen: list[dict], errors: dict, note: str | None,
          found: dict[str, list[dict]]):
    return render_template("admin/visits_edit.html", project=project, visit=visit, v=values, chosen=chosen,
                           errors=errors, note=note, found=found, kind_names=kind_names(), role_names=role_names(),
                           link_names=link_names(), precision_words=staff_words()["precision"]), \
        400 if errors else 200


def _blank() -> dict:
    return {"kind": "study-visit", "title": "", "titles": {}, "date": None, "end_date": None, "place": "",
            "lat": None, "lon": None, "geo_precision": None, "descriptions": {}, "links": {}}


def _handle(project: dict, visit: dict | None):
    """The form of a new visit (``visit`` None) or of one stored: shown, searched, located, saved."""
    db = get_db()
    existing = visit["organisations"] if visit else []
    if request.method == "GET":
        return _form(project, visit, visit or _blank(), existing, {}, None, {})
    values, errors = _parse(request.form)
    for name in stored.LINK_KINDS:  # what was typed stays in the form to be corrected
        if f"link_{name}" in errors:
            values["links"][name] = request.form.get(f"link_{name}", "")
    pairs = _chosen(request.form, existing)
    names = {o["id"]: o for o in existing}
    names.update({o["id"]: o for o in stored.organisations_by_id(db, [i for i, _r in pairs if i not in names])})
    chosen = [{**names[i], "role": r} for i, r in pairs if i in names]
    action = request.form.get("action", "save")
    note, found = None, {}
    if action.startswith("search:"):
        role = action.partition(":")[2]
        if role not in stored.ROLES:
            abort(400)
        picked = {o["id"] for o in chosen}
        found[role] = [o for o in stored.pickable_organisations(db, request.form.get(f"q_{role}", "")[:100], scope=_scope())
                       if o["id"] not in picked]
        if not found[role]:
            note = _("No organisation found: type at least two letters of its name or town.")
        return _form(project, visit, values, chosen, {}, note, found)
    if action == "locate" or (action == "save" and values["place"] and values["lat"] is None and not errors):
        note = _locate(values)
        if action == "locate":
            errors.pop("place", None)
            return _form(project, visit, values, chosen, {}, note, found)
    if errors:
        return _form(project, visit, values, chosen, errors, note, found)
    pairs = [(o["id"], o["role"]) for o in chosen]
    if visit is None:
        slug = stored.create_visit(db, project["slug"], values, pairs, user_email=current_user.email)
        flash(_("Visit added.") + (" " + note if note else ""))
    else:
        slug = visit["slug"]
        changed = stored.update_visit(db, slug, values, pairs, user_email=current_user.email)
        flash(_("Saved.") if changed else _("Nothing changed."))
    return redirect(url_for("admin_visits.edit", project=project["slug"], visit_slug=slug))


@bp.route("/new", methods=["GET", "POST"])
@role_required("admin", "editor")
def new(project: str):
    """Add a visit or event to the project."""
    return _handle(_project_or_refuse(project), None)


def _visit_or_404(project: str, visit_slug: str) -> dict:
    visit = stored.get_visit(get_db(), visit_slug)
    if visit is None or visit["project"] != project:
        abort(404)
    return visit


@bp.route("/<visit_slug>/edit", methods=["GET", "POST"])
@role_required("admin", "editor")
def edit(project: str, visit_slug: str):
    """Change a visit or event of the project."""
    found = _project_or_refuse(project)
    return _handle(found, _visit_or_404(project, visit_slug))


@bp.route("/<visit_slug>/delete", methods=["GET", "POST"])
@role_required("admin", "editor")
def delete(project: str, visit_slug: str):
    """Ask, then delete a visit and its organisations' links (undone from the list)."""
    found = _project_or_refuse(project)
    visit = _visit_or_404(project, visit_slug)
    if request.method == "POST":
        stored.delete_visit(get_db(), visit_slug, user_email=current_user.email)
        flash(_("Visit deleted. Undo it from the list of changes below."))
        return redirect(url_for("admin_visits.index", project=project))
    return render_template("admin/visits_delete.html", project=found, visit=visit, kind_names=kind_names(),
                           role_names=role_names())


@bp.post("/undo/<int:entry_id>")
@role_required("admin", "editor")
def undo(project: str, entry_id: int):
    """Put back a visit deleted from this project, with its organisations."""
    _project_or_refuse(project)
    db = get_db()
    entry = stored.deletion(db, entry_id)
    if entry is None or entry["project"] != project:
        abort(404)
    try:
        slug = stored.undo_delete(db, entry_id, user_email=current_user.email)
    except stored.VisitError:
        flash(_("This visit cannot be put back: it is back already, or its address is taken."))
        return redirect(url_for("admin_visits.index", project=project))
    flash(_("Visit put back."))
    return redirect(url_for("admin_visits.edit", project=project, visit_slug=slug))
