"""Sources in the staff area: the maps and files ``mapapp sync`` pulls (add, change, run
now, forget), each with what its last run did. Admins only: a source makes the server fetch
an address, and its organisations land in every country."""

from __future__ import annotations

import time
from datetime import datetime, timezone

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from .. import catalogue
from ..catalogue import syncsources
from ..importing import jobs, sync
from ..translate import N_, Message, from_data, translated
from . import jobqueue
from .auth import role_required
from .db import get_db
from .i18n import current_language

bp = Blueprint("sources", __name__, url_prefix="/admin/sources")


@bp.route("", methods=["GET", "POST"])
@role_required("admin")
def index():
    """The sources, their last run, and the form to add or change one."""
    db = get_db()
    error = None
    if request.method == "POST":
        form = request.form
        action = form.get("action")
        name = form.get("name", "").strip()
        if action == "save":
            mapping_name = form.get("mapping", "")
            mapping = jobs.saved_mappings(db).get(mapping_name) if mapping_name else None
            project = form.get("project") or None
            try:
                sync.check_source(name, form.get("url", "").strip(), form.get("format", "auto"),
                                  form.get("status", "draft"), allow=sync.allowed(current_app.config))
                if project and not catalogue.project_exists(db, project):
                    raise sync.SyncError(Message(N_("no project '%(project)s'"), project=project))
            except sync.SyncError as e:
                error = translated(e.args[0], current_language())
            else:
                with catalogue.write_transaction(db):
                    syncsources.save_source(db, name=name, url=form["url"].strip(), fmt=form.get("format", "auto"),
                                            mapping=mapping, project=project, status=form.get("status", "draft"))
                flash(_("Source %(name)s saved.", name=name))
                return redirect(url_for("sources.index"))
        elif action == "run":
            try:
                claimed = sync.start(current_app.config["DATABASE"], name, current_app.config)
            except sync.SyncError as e:
                flash(f"{name}: {translated(e.args[0], current_language())}")
            else:
                jobqueue.current().sync(name, claimed)
                flash(_("%(name)s is being pulled in the background: reload this page to see what it did.", name=name))
            return redirect(url_for("sources.index"))
        elif action == "remove":
            with catalogue.write_transaction(db):
                syncsources.remove_source(db, name)
            flash(_("Source %(name)s forgotten; its organisations stay.", name=name))
            return redirect(url_for("sources.index"))
    listed = syncsources.sources(db)
    stale_before = time.time() - sync.STALE_SECONDS
    queue = jobqueue.current()
    for source in listed:  # what the last run said, in the staff member's language
        running = (source["running_since"] or 0) > stale_before
        source["running"] = (datetime.fromtimestamp(source["running_since"], timezone.utc).isoformat(timespec="seconds")
                             if running else None)
        job = queue.state("sync", source["name"]) if running else None
        source["queued"] = bool(job and job["state"] == "queued")
        source["worker_missing"] = bool(source["queued"] and job.get("worker_missing"))
        if source["last_outcome"]:
            source["last_outcome"]["message"] = translated(from_data(source["last_outcome"]["message"]),
                                                           current_language())
    return render_template("admin/sources.html", sources=listed, formats=sync.FORMATS,
                           projects=catalogue.project_slugs(db), mappings=sorted(jobs.saved_mappings(db)),
                           error=error), 400 if error else 200
