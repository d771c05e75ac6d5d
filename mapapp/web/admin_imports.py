"""Importing from the browser: upload, preview with an editable column mapping and the
dry-run report, then the import itself (a job of the worker), and the history."""

from __future__ import annotations

import uuid
from pathlib import Path

from flask import Blueprint, Response, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import format_number
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.utils import secure_filename

from .. import catalogue, vocab
from ..catalogue import categories as category_tree
from ..catalogue import memberships
from ..filters import Filters
from ..importing import columns, importer, jobs, sniff
from ..importing.normalise import clean_text
from ..importing.readers import FORMATS
from ..mapdata import geocode
from ..text import fold
from ..translate import from_data, translated
from . import jobqueue, scope
from .auth import role_required
from .db import get_db
from .i18n import NAMES as LANGUAGE_NAMES
from .i18n import current_language

bp = Blueprint("imports", __name__, url_prefix="/admin/imports")
PREVIEW_ISSUES = 40
# The preview's dry run runs in the request: on a large file it checks this many rows
# (a few seconds at most); the import itself checks them all.
PREVIEW_ROWS = 2000


@bp.before_request
def _whole_catalogue_only():
    """An import can write to any organisation: a partner editor, limited to part of the
    catalogue, may not use imports at all."""
    if current_user.is_authenticated and scope.current().limited:
        return scope.refusal(_("Imports can change any organisation in the catalogue, so they are open only to "
                               "staff who look after all of it."))
    return None


def _import_states() -> dict[str, str]:
    """Each import state as a word in the staff member's language."""
    return {"preview": _("awaiting confirmation"), "running": _("running"), "done": _("done"),
            "failed": _("failed"), "undone": _("undone")}


def _short(name: str, limit: int = 100) -> str:
    """A file name the file system accepts (most allow 255 bytes), keeping its extension."""
    if len(name) <= limit:
        return name
    suffix = Path(name).suffix[:10]
    return name[:limit - len(suffix)] + suffix


def _record(import_id: int) -> dict:
    """The import's record, with its job's state: ``queued`` (and ``worker_missing``, the
    message for staff, when no worker is running) until the worker takes it."""
    record = jobs.get(get_db(), import_id)
    if record is None:
        abort(404)
    job = jobqueue.current().state("import", str(import_id)) if record["state"] == "running" else None
    record["queued"] = bool(job and job["state"] == "queued")
    record["worker_missing"] = _("The job worker is not running: start it with `mapapp worker`.") if (
        record["queued"] and job.get("worker_missing")) else None
    return record


@bp.route("", methods=["GET", "POST"])
@role_required("admin", "editor")
def index():
    """Upload a file (POST) or see the history of imports (GET)."""
    db = get_db()
    error = None
    if request.method == "POST":
        upload = request.files.get("file")
        name = _short(secure_filename(upload.filename or "")) if upload else ""
        if not upload or not name:
            error = _("Choose a file to upload.")
        elif Path(name).suffix.lower() not in FORMATS:
            error = _("%(name)s: use a CSV, XLSX, ODS or GeoJSON file.", name=name)
        else:
            folder = Path(current_app.config["UPLOAD_DIR"]) / uuid.uuid4().hex
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / name
            upload.save(path)
            import_id = jobs.create(db, user_email=current_user.email, filename=(upload.filename or name)[:200],
                                    stored_path=str(path),
                                    source=request.form.get("source") or catalogue.slugify(Path(name).stem),
                                    project=request.form.get("project") or None,
                                    status_choice=request.form.get("status") or None)
            return redirect(url_for("imports.preview", import_id=import_id))
    return render_template("admin/imports.html", history=jobs.history(db), error=error,
                           projects=catalogue.project_slugs(db), import_states=_import_states()), (400 if error else 200)


@bp.route("/<int:import_id>/preview", methods=["GET", "POST"])
@role_required("admin", "editor")
def preview(import_id: int):
    """Columns and how each maps to a field (editable), then what the import would do."""
    db = get_db()
    record = _record(import_id)
    if record["state"] != "preview":
        return redirect(url_for("imports.progress", import_id=import_id))
    saved = jobs.saved_mappings(db)
    bundled = {f"format:{f.name}": f for f in columns.known_formats()}
    if request.method == "POST":
        mapping = _mapping_from_form(request.form)
        chosen = request.form.get("use_saved") or ""
        if chosen in saved:
            mapping = saved[chosen]
        elif chosen in bundled:
            mapping = {"columns": bundled[chosen].mapping["columns"], "ignore": sorted(bundled[chosen].mapping["ignore"])}
        if request.form.get("save_as"):
            jobs.save_mapping(db, request.form["save_as"].strip()[:80], mapping)
        # The file-level links travel with the mapping (not with a saved one: they are this file's).
        mapping = {**mapping, "links": {k: (request.form.get(f"link_{k}") or "").strip()[:200] or None
                                        for k in ("project", "relation", "visit")},
                   "duplicates": _duplicates_from_form(request.form)}
        country = (request.form.get("country") or "").strip().upper()
        mapping["country"] = country if vocab.is_country(country) else None
        jobs.set_mapping(db, import_id, mapping)
        if request.form.get("action") == "confirm":
            try:
                jobs.claim(current_app.config["DATABASE"], import_id)
            except jobs.ImportBusy as e:
                flash(_("This import cannot start now: %(why)s.", why=str(e)))
            else:
                jobqueue.current().import_file(import_id)
            return redirect(url_for("imports.progress", import_id=import_id))
        record = _record(import_id)
    error, report, headers, plan = None, None, [], None
    try:
        # Online geocoders answer about once a second: the preview, inside the request,
        # uses the offline steps only; the import itself asks them.
        chain = geocode.chain_from_settings(current_app.config, db, offline_only=True)
        found = importer.preview(db, record["stored_path"], jobs.options_for(record, dry_run=True), chain,
                                 max_rows=PREVIEW_ROWS)
        headers, plan, report, error = found.headers, found.plan, found.report, found.error
        online = geocode.online_steps(current_app.config["GEOCODERS"])
        if report and online:
            report.notes.append(_("the preview locates with offline geocoders only; the import also asks "
                                  "%(geocoders)s for the addresses left without a location",
                                  geocoders=", ".join(online)))
    except (importer.ImportFailed, geocode.GeocodeConfigError) as e:
        error = e.args[0] if e.args else str(e)
    assigned = {headers[i]: f for i, f in [*plan.fields.items(), *plan.extra]} if plan else {}
    assigned.update({headers[i]: f for f, more in (plan.joined.items() if plan else ()) for i in more})
    recognised = {h: how for h, _f, how in importer.recognised_columns(headers, plan)} if plan else {}
    ignored = set(plan.ignored) if plan else set()
    chosen_links = {"project": record["project"], "relation": None, "visit": None,
                    **((record["mapping"] or {}).get("links") or {})}
    return render_template("admin/import_preview.html", record=record, headers=headers, assigned=assigned,
                           links=chosen_links, projects=catalogue.project_slugs(db),
                           country=(record["mapping"] or {}).get("country"), countries=_countries(),
                           visits=memberships.visits_of(db), relations=vocab.relations(),
                           ignored=ignored, fields=field_labels(), recognised=recognised,
                           filled=plan.filled if plan else {}, important=sniff.IMPORTANT, report=report, error=error,
                           saved=sorted(saved), bundled={k: f.title for k, f in bundled.items()},
                           groups=report.grouped_issues() if report else [], issues_shown=PREVIEW_ISSUES,
                           sample_fields=SAMPLE_FIELDS, unknown=report.unknown_values() if report else [],
                           categories={c.code: c for c in category_tree.all_categories(db, retired=True)},
                           duplicate_words=_duplicate_words(),
                           duplicate_choice={"default": "skip", "rows": {},
                                             **((record["mapping"] or {}).get("duplicates") or {})})


def _duplicate_words() -> dict[str, str]:
    """Each choice for a likely duplicate, as the staff member reads it."""
    return {"skip": _("Skip the row"), "update": _("Bring the stored organisation up to date"),
            "create": _("Create it anyway")}


# The longest label a category made from an unknown value may have.
CATEGORY_LABEL_MAX = 200


@bp.post("/<int:import_id>/categories")
@role_required("admin")
def create_category(import_id: int):
    """Create a category named as a value the preview did not know (the label in the staff
    member's language), then preview again: the rows that name it now go to it."""
    record = _record(import_id)
    if record["state"] != "preview":
        return redirect(url_for("imports.progress", import_id=import_id))
    label = clean_text(request.form.get("category_value", ""))
    if not label or len(label) > CATEGORY_LABEL_MAX:
        abort(400)
    try:
        category_tree.create_from_import(get_db(), label, current_language(), current_user.email)
    except category_tree.CategoryError as e:
        flash(translated(e.args[0], current_language()))
    else:
        flash(_("Category “%(label)s” created: the rows that name it now go to it.", label=label))
    return redirect(url_for("imports.preview", import_id=import_id) + "#unknown-categories")


def _countries() -> list[tuple[str, str]]:
    """Every country as (code, name), sorted by its name in the staff member's language."""
    from flask_babel import get_locale

    lang = str(get_locale() or "en")
    return sorted(((code, vocab.country_name(code, lang)) for code in vocab.country_codes()),
                  key=lambda pair: fold(pair[1]))


SAMPLE_FIELDS = ("name", "street", "postcode", "city", "country", "website", "email")


def field_labels() -> dict[str, str]:
    """Every field a column can go to, with its name in the staff member's language."""
    names = dict(LANGUAGE_NAMES)
    labels = {f: _(columns.FIELD_LABELS[f]) for f in columns.FIELDS}
    for f in columns.ALL_FIELDS[len(columns.FIELDS):]:
        labels[f] = _(columns.TRANSLATED_LABEL, language=names[f.rsplit("_", 1)[1]])
    return labels


def _duplicates_from_form(form) -> dict:
    """What to do with the likely duplicates: a choice for all, and one per row listed."""
    default = form.get("duplicates_default")
    rows = {}
    for key, value in form.items():
        if key.startswith("duplicate:") and key[len("duplicate:"):].isdigit() and value in importer.DUPLICATE_CHOICES:
            rows[key[len("duplicate:"):]] = value
    return {"default": default if default in importer.DUPLICATE_CHOICES else "skip", "rows": rows}


def _mapping_from_form(form) -> dict:
    mapping: dict = {"columns": {}, "ignore": []}
    for key, value in form.items(multi=True):
        if not key.startswith("field:"):
            continue
        header = key[len("field:"):]
        if value == "ignore":
            mapping["ignore"].append(header)
        elif value in columns.ALL_FIELDS:
            mapping["columns"][header] = value
    return mapping


@bp.get("/<int:import_id>")
@role_required("admin", "editor")
def progress(import_id: int):
    """The import's progress (reloadable), then its outcome: counts, the problems that
    skipped rows, the drafts it left and how to publish them, and undo."""
    db = get_db()
    record = _record(import_id)
    counts = record.get("counts") or {}
    problems = [{**p, "message": from_data(p["message"]), "column": from_data(p["column"])}
                for p in counts.get("problems", [])]
    drafts = (catalogue.count_organisations(db, Filters(), ("draft",), import_id=import_id)
              if record["state"] == "done" else 0)
    return render_template("admin/import_progress.html", record=record, problems=problems, drafts=drafts,
                           progress_text=_progress_text(record))


@bp.get("/<int:import_id>/status.json")
@role_required("admin", "editor")
def status(import_id: int):
    """Progress for the page's script."""
    record = _record(import_id)
    return jsonify({**{k: record[k] for k in ("state", "queued", "worker_missing", "rows_done", "rows_total", "counts",
                                              "error")}, "progress_text": _progress_text(record)})


def _progress_text(record: dict) -> str:
    """What a running import is doing, in words: its phase and how far it got."""
    phase = (record.get("counts") or {}).get("phase") if record["state"] == "running" else None
    done, total = record.get("rows_done") or 0, record.get("rows_total") or 0
    if phase == "locating":
        return _("Locating the organisations: %(done)s of about %(total)s rows done",
                 done=format_number(done), total=format_number(total))
    if phase == "writing":
        return _("Writing to the catalogue: %(done)s of about %(total)s rows done",
                 done=format_number(done), total=format_number(total))
    if done:
        return _("Reading the file: %(done)s of about %(total)s rows done",
                 done=format_number(done), total=format_number(total))
    return _("Reading the file…")


@bp.route("/<int:import_id>/undo", methods=["GET", "POST"])
@role_required("admin", "editor")
def undo(import_id: int):
    """Undo a finished import: what it created goes, what it changed comes back. GET asks
    for confirmation, saying how many of each; the POST from that page undoes."""
    record = _record(import_id)
    if not record["can_undo"]:
        abort(409)
    if request.method == "GET" or request.form.get("confirm") != "yes":
        return render_template("admin/import_undo.html", record=record, **jobs.undo_preview(get_db(), import_id))
    counts = jobs.undo(get_db(), import_id, current_user.email)
    flash(_("Import undone: %(deleted)s organisations removed, %(restored)s restored.", **counts))
    return redirect(url_for("imports.progress", import_id=import_id))


@bp.get("/<int:import_id>/report.csv")
@role_required("admin", "editor")
def report(import_id: int):
    """The row-by-row report of a finished import."""
    text = jobs.report_csv(get_db(), import_id)
    if text is None:
        abort(404)
    return Response("\ufeff" + text, mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="import-{import_id}-report.csv"'})
