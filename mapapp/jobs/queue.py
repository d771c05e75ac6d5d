"""The job queue and each job's visible state.

huey keeps the queue in its own SQLite file beside the catalogue (``MAPAPP_JOBS_DATABASE``): no
server to run. Each job also keeps its state there (queued, running, done, failed with what to do),
under its kind and key (``import:12``, ``sync:partners``, ``report:…``), so that any web worker can
show it; the worker writes a heartbeat there too, so that a page can say when no worker is running.
"""

from __future__ import annotations

import gc
import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from huey import SqliteHuey, crontab
from huey.api import Task

from .. import coldwork
from ..config import ConfigError
from ..translate import N_, Message

log = logging.getLogger("mapapp.jobs")

# The worker writes its heartbeat this often; silent for WORKER_SILENT seconds, it is not running.
HEARTBEAT_SECONDS = 5.0
WORKER_SILENT = 30.0
NOT_RUNNING = "the job worker is not running: start it with `mapapp worker`"
# Syncs, PDFs and digests are retried after an unexpected error (a locked catalogue, a full
# disk); an import is not: what it wrote is taken back and staff decide to start it again.
RETRIES = 2
RETRY_DELAY = 10
# The state of a job that ended is kept this long (seconds), then forgotten.
KEEP_ENDED = 30 * 24 * 3600
# A report job queued or running this long ago died with its worker: the next request asks again.
JOB_LOST = 300
# Seconds a count of /stats waits after the first request that found its figures old: the
# changes of a burst (an import's rows, a moderator's queue) are counted once.
STATS_DEBOUNCE = 1.0
# GeoPackage exports queued or running at once (each a catalogue read): past this, asking is refused.
MAX_EXPORT_JOBS = 4


def jobs_database(settings: dict) -> str:
    """The queue's SQLite file: ``JOBS_DATABASE``, else the catalogue's path + ``-jobs.db``."""
    return settings.get("JOBS_DATABASE") or f"{settings['DATABASE']}-jobs.db"


# Where an app keeps its queue (``app.extensions[EXTENSION]``): the web sets it, the command line reads it.
EXTENSION = "mapapp.jobs"


@dataclass
class Hooks:
    """What a job needs from the web layer (this package does not import Flask): the report's
    HTML for (slug, lang, statuses), None when there is no such project; the settings mail is
    sent with (links on the public address; raises ``mail.NoPublicAddress`` without one)."""

    render_report: Callable[[str, str, tuple[str, ...]], str | None]
    mail_settings: Callable[[], object]


def daily_at(settings: dict) -> tuple[int, int] | None:
    """``JOBS_DAILY_AT`` (HH:MM, UTC) as (hour, minute); None when empty (cron sends the mail)."""
    value = str(settings.get("JOBS_DAILY_AT") or "").strip()
    if not value:
        return None
    hour, sep, minute = value.partition(":")
    if not (sep and hour.isdigit() and minute.isdigit() and int(hour) < 24 and int(minute) < 60):
        raise ConfigError(f"MAPAPP_JOBS_DAILY_AT: '{value}' is not a time of day; write it as HH:MM (UTC), "
                         "e.g. 06:30, or leave it empty")
    return int(hour), int(minute)


class Jobs:
    """The queue of one catalogue: enqueue jobs, read their state, and the tasks the worker runs."""

    def __init__(self, settings: dict, hooks: Hooks):
        self.settings, self.hooks = settings, hooks
        path = Path(jobs_database(settings))
        # Results are not kept by huey: each job records its own state (``state``).
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.huey = SqliteHuey(name="mapapp", filename=str(path), results=False, utc=True)
        except (OSError, sqlite3.Error) as e:
            # The app still starts (its pages say what is wrong, /healthz answers 503); each use
            # of the queue then fails with SQLite's own error.
            log.error("the job queue cannot be opened at %s (%s): check MAPAPP_JOBS_DATABASE or "
                      "MAPAPP_DATABASE and the folder's permissions", path, e)
            self.huey = SqliteHuey(name="mapapp", filename=str(path), results=False, utc=True,
                                   create_tables=False)
        self._tasks = _register(self)
        self._map, self._map_lock = None, threading.Lock()

    # Visible state -------------------------------------------------------------------------

    def _set(self, kind: str, key: str, state: str, message: str = "", **extra) -> None:
        previous = self.state(kind, key) or {}
        record = {**previous, "kind": kind, "key": key, "state": state, "message": message, "at": time.time(),
                  **extra}
        if state == "queued":
            record["queued_at"] = record["at"]
        self.huey.put(f"job:{kind}:{key}", record)

    def state(self, kind: str, key: str) -> dict | None:
        """The job's state: ``state`` (queued, running, done, failed), ``message``, ``at``,
        ``queued_at``; with ``worker_missing`` when it waits and no worker is running; None
        when no job of that kind and key was ever queued."""
        record = self.huey.get(f"job:{kind}:{key}", peek=True)
        if record and record["state"] == "queued" and not self.worker_running():
            record = {**record, "worker_missing": NOT_RUNNING}
        return record

    def worker_running(self) -> bool:
        """Whether a worker wrote its heartbeat lately."""
        beat = self.huey.get("worker:heartbeat", peek=True)
        return beat is not None and beat > time.time() - WORKER_SILENT

    def heartbeat(self) -> None:
        """Say that a worker is running (``worker.run`` calls it every HEARTBEAT_SECONDS); keep
        the imports waiting in the queue alive; forget the states of jobs long ended."""
        self.huey.put("worker:heartbeat", time.time())
        waiting, ended_before = [], time.time() - KEEP_ENDED
        for key, raw in self.huey.storage.result_items().items():
            if not key.startswith("job:"):
                continue
            record = self.huey.serializer.deserialize(raw)
            if record["kind"] == "import" and record["state"] == "queued":
                waiting.append(int(record["key"]))
            elif record["state"] in ("done", "failed") and record["at"] < ended_before:
                self.huey.delete(key)
        if waiting:
            _keep_alive(self.settings["DATABASE"], waiting)

    # Enqueueing ----------------------------------------------------------------------------

    def import_file(self, import_id: int) -> None:
        """Run the claimed import ``import_id`` in the worker."""
        self._set("import", str(import_id), "queued")
        self._tasks["import"](import_id)

    def sync(self, name: str, claimed: float) -> None:
        """Pull the claimed source ``name`` in the worker (``claimed``: the claim's start)."""
        self._set("sync", name, "queued")
        self._tasks["sync"](name, claimed)

    def digests(self, frequency: str) -> None:
        """Send the due digests of ``frequency`` (daily, weekly) in the worker."""
        self._set("digests", frequency, "queued")
        self._tasks["digests"](frequency)

    def reminders(self, *, after_days: int, lang: str, limit: int) -> None:
        """Remind the owners of stale entries in the worker (see ``owners.remind``)."""
        self._set("reminders", "owners", "queued")
        self._tasks["reminders"](after_days, lang, limit)

    def moderation_digest(self, delay: float | None = None) -> None:
        """Tell moderators of new contributions (``notify.send_digests``), ``delay`` seconds from
        now (by default just after the confirmation that asks for it)."""
        from ..contributing import notify

        self._set("moderation", "digest", "queued")
        self._tasks["moderation"].schedule(delay=notify.AFTER_CONFIRMATION if delay is None else delay)

    def _digest_later(self, at: float) -> None:
        """Run the digests again at ``at`` (for a moderator who had one less than an hour ago),
        unless a run is already planned by then."""
        planned = self.huey.get("moderation:planned", peek=True)
        if planned and time.time() < planned <= at:
            return
        self.huey.put("moderation:planned", at)
        self._tasks["moderation"].schedule(delay=max(0.0, at - time.time()))

    def stats(self, selection) -> None:
        """Count the figures of /stats for ``selection`` (``insights.stored.Selection``) again,
        ``STATS_DEBOUNCE`` seconds from now, unless a count is already planned: a burst of
        changes is counted once, by this worker, for every web worker."""
        planned_key = f"stats:planned:{selection.name}"
        planned = self.huey.get(planned_key, peek=True)
        if planned and planned > time.time() - JOB_LOST:
            return
        self.huey.put(planned_key, time.time())
        self._set("stats", selection.name, "queued")
        self._tasks["stats"].schedule(([list(pair) for pair in selection.args], selection.km,
                                       list(selection.statuses), selection.lineage), delay=STATS_DEBOUNCE)

    def map_columns(self, db):
        """The map's columns for the jobs of this worker (the snapshot every process maps,
        patched to date; built, by one process for all, after a change too large to patch)."""
        with self._map_lock:
            if self._map is None:
                from ..mapdata import mapindex

                self._map = mapindex.MapIndex(Path(self.settings["CACHE_DIR"]) / "map")
        return self._map.get(db)

    def password_reset(self, reset_id: int) -> None:
        """E-mail the link of the reset request ``reset_id`` (when it names an active account)."""
        self._set("reset", str(reset_id), "queued")
        self._tasks["reset"](reset_id)

    def retention(self) -> None:
        """Apply the retention limits (``contributing.purge.enforce_retention``) in the worker;
        the periodic task asks for it every hour."""
        self._set("retention", "catalogue", "queued")
        self._tasks["retention"]()

    def report(self, path: Path, slug: str, lang: str, statuses: tuple[str, ...]) -> dict:
        """Ask the worker for the report's PDF at ``path`` (once per path: a report queued or
        being made is not asked again, unless JOB_LOST has passed); return the job's state."""
        key = path.name
        current = self.state("report", key)
        pending = current and current["state"] in ("queued", "running") and current["at"] > time.time() - JOB_LOST
        if not pending:
            self._set("report", key, "queued")
            self._tasks["report"](str(path), slug, lang, list(statuses))
            current = self.state("report", key)
        return current

    def export_gpkg(self, path: Path, args: dict[str, str], *, lang: str, base_url: str, contacts: bool) -> dict:
        """Ask the worker for the GeoPackage export at ``path`` (``mapdata.exportjob``), once per
        path as a report is; return the job's state. Raises ``coldwork.Busy`` when
        MAX_EXPORT_JOBS others are waiting or running (anyone can ask for new filters)."""
        key = path.name
        current = self.state("export", key)
        if current and current["state"] in ("queued", "running") and current["at"] > time.time() - JOB_LOST:
            return current
        if self.pending("export") >= MAX_EXPORT_JOBS:
            raise coldwork.Busy(Message(N_("The server is busy preparing other downloads; try again in a minute.")),
                                retry_after=60)
        self._set("export", key, "queued")
        self._tasks["export"](str(path), dict(args), lang, base_url, contacts)
        return self.state("export", key)

    def pending(self, kind: str) -> int:
        """How many jobs of ``kind`` are queued or running (not lost with a worker)."""
        lost_before, count = time.time() - JOB_LOST, 0
        for key, raw in self.huey.storage.result_items().items():
            if key.startswith(f"job:{kind}:"):
                record = self.huey.serializer.deserialize(raw)
                count += record["state"] in ("queued", "running") and record["at"] > lost_before
        return count

    def wait_for_report(self, path: Path, timeout: float, poll: float = 0.1, *, kind: str = "report") -> dict:
        """Wait (at most ``timeout`` seconds) until the report (or the file of another
        ``kind`` of job) at ``path`` is made or its job failed; the job's last state."""
        deadline = time.monotonic() + timeout
        while True:
            current = self.state(kind, path.name) or {"state": "queued", "message": ""}
            if path.exists() or current["state"] == "failed" or time.monotonic() >= deadline:
                return current
            if current.get("worker_missing"):
                return current
            time.sleep(poll)


def _register(jobs: Jobs) -> dict[str, Callable]:
    """The tasks of ``jobs``'s queue, by name (the worker and the web register the same)."""
    huey, settings = jobs.huey, jobs.settings

    def tracked(kind: str, key: str, task: Task | None, work: Callable[[], tuple[str, str]]) -> None:
        """Run ``work`` (which returns the final state and message), recording the job's state;
        an unexpected error is recorded, and retried when the task has retries left."""
        jobs._set(kind, key, "running", started_at=time.time())
        try:
            state, message = work()
        except Exception as e:
            if task is not None and task.retries:
                jobs._set(kind, key, "queued", f"retrying after an error: {e or type(e).__name__}")
            else:
                jobs._set(kind, key, "failed", str(e) or type(e).__name__)
            raise
        jobs._set(kind, key, state, message, finished_at=time.time())

    @huey.task(name="import")
    def import_task(import_id: int) -> None:
        from ..importing import jobs as imports

        def work():
            # Named like the import, for thread dumps and logs; the cycle collector is switched
            # off by the importer while it runs, in this process only.
            thread = threading.current_thread()
            name, thread.name = thread.name, f"import-{import_id}"
            try:
                imports.run(settings["DATABASE"], import_id, settings)
            finally:
                thread.name = name
                gc.collect()
            return _import_outcome(settings["DATABASE"], import_id)

        tracked("import", str(import_id), None, work)

    @huey.task(name="sync", retries=RETRIES, retry_delay=RETRY_DELAY, context=True)
    def sync_task(name: str, claimed: float, task: Task) -> None:
        from ..importing import sync

        def work():
            # A retry claims the source again: the first attempt ended its claim.
            outcome = sync.run(settings["DATABASE"], name, settings,
                               claimed=claimed if task.retries == RETRIES else None)
            return ("done" if outcome.ok else "failed"), str(outcome.message)

        tracked("sync", name, task, work)

    @huey.task(name="report", retries=RETRIES, retry_delay=1, context=True)
    def report_task(path: str, slug: str, lang: str, statuses: list[str], task: Task) -> None:
        from ..insights import report

        target = Path(path)

        def make() -> bytes:
            html = jobs.hooks.render_report(slug, lang, tuple(statuses))
            if html is None:
                raise LookupError(f"no project '{slug}'")
            return report.pdf(html)

        def work():
            try:
                coldwork.file_once(target, make, coldwork.LockPool(Path(settings["CACHE_DIR"]) / "locks"))
            except (report.ReportError, LookupError) as e:  # retrying would not help
                return "failed", str(e)
            return "done", ""

        tracked("report", target.name, task, work)

    @huey.task(name="export", retries=RETRIES, retry_delay=1, context=True)
    def export_task(path: str, args: dict, lang: str, base_url: str, contacts: bool, task: Task) -> None:
        from ..mapdata import exportjob

        def work():
            exportjob.make_gpkg(settings, Path(path), args, lang=lang, base_url=base_url, contacts=contacts)
            return "done", ""

        tracked("export", Path(path).name, task, work)

    # Each message sent is recorded before the next (a digest's last sending, an owner's last
    # reminder): a retry sends only what the failed attempt had not.
    @huey.task(name="digests", retries=RETRIES, retry_delay=RETRY_DELAY, context=True)
    def digests_task(frequency: str, task: Task) -> None:
        from .. import catalogue
        from ..contributing import subscriptions

        def work():
            db = catalogue.connect(settings["DATABASE"])
            try:
                sent = subscriptions.send_digests(db, jobs.hooks.mail_settings(), frequency)
            finally:
                db.close()
            return "done", f"{sent} digest(s) sent"

        tracked("digests", frequency, task, work)

    @huey.task(name="reminders", retries=RETRIES, retry_delay=RETRY_DELAY, context=True)
    def reminders_task(after_days: int, lang: str, limit: int, task: Task) -> None:
        from .. import catalogue
        from ..contributing import owners

        def work():
            db = catalogue.connect(settings["DATABASE"])
            try:
                sent = owners.remind(db, jobs.hooks.mail_settings(), after_days=after_days,
                                     link_days=int(settings["OWNER_LINK_DAYS"]), lang=lang, limit=limit)
            finally:
                db.close()
            return "done", f"{len(sent)} reminder(s) sent"

        tracked("reminders", "owners", task, work)

    @huey.task(name="retention", retries=RETRIES, retry_delay=RETRY_DELAY, context=True)
    def retention_task(task: Task) -> None:
        from .. import catalogue
        from ..contributing import purge

        def work():
            db = catalogue.connect(settings["DATABASE"])
            try:
                done = purge.enforce_retention(db, retention_days=int(settings["RETENTION_DAYS"]))
            finally:
                db.close()
            return "done", done.summary()

        tracked("retention", "catalogue", task, work)

    @huey.periodic_task(crontab(minute="23"), name="hourly-retention")
    def hourly_retention() -> None:
        jobs.retention()

    # Moderators hear of new contributions at most once an hour each (``contributing.notify``):
    # queued after each confirmation, the job plans its own next run for those who must wait.
    @huey.task(name="moderation", retries=RETRIES, retry_delay=RETRY_DELAY, context=True)
    def moderation_task(task: Task) -> None:
        from .. import catalogue
        from ..contributing import notify

        def work():
            db = catalogue.connect(settings["DATABASE"])
            try:
                outcome = notify.send_digests(db, jobs.hooks.mail_settings())
            finally:
                db.close()
            if outcome.next_at is not None:
                jobs._digest_later(outcome.next_at.timestamp() + notify.AFTER_CONFIRMATION)
            return "done", f"{outcome.sent} digest(s) sent"

        tracked("moderation", "digest", task, work)

    # The reset link is made and sent here, not in the request: the page answers alike, and as
    # fast, whether or not the address is an account's.
    @huey.task(name="reset", retries=RETRIES, retry_delay=RETRY_DELAY, context=True)
    def reset_task(reset_id: int, task: Task) -> None:
        from .. import accounts, catalogue
        from ..contributing import notify

        def work():
            mail_settings = jobs.hooks.mail_settings()
            db = catalogue.connect(settings["DATABASE"])
            try:
                link = accounts.issue_reset(db, reset_id)
            finally:
                db.close()
            if link is not None:
                mail_settings.mailer.send(notify.reset_link(
                    link.email, link.lang, site=mail_settings.site, minutes=accounts.RESET_MINUTES,
                    link=mail_settings.link("auth.reset", {"token": link.token})))
            return "done", ""

        tracked("reset", str(reset_id), task, work)

    when = daily_at(settings)
    if when:  # the worker sends the mail every day (weekly digests on Mondays) instead of cron
        hour, minute = when

        @huey.periodic_task(crontab(minute=str(minute), hour=str(hour)), name="daily-mail")
        def daily_mail() -> None:
            from .. import vocab

            jobs.digests("daily")
            if time.gmtime().tm_wday == 0:
                jobs.digests("weekly")
            jobs.reminders(after_days=int(settings["REMIND_AFTER_DAYS"]), lang=vocab.DEFAULT_LANGUAGE, limit=1000)

    # The figures of /stats, counted once after a burst of changes and kept for every web worker.
    @huey.task(name="stats", retries=RETRIES, retry_delay=1, context=True)
    def stats_task(args: list, km: int, statuses: list[str], lineage: str, task: Task) -> None:
        from .. import catalogue, kinds
        from ..catalogue import fields as field_store
        from ..insights import stored

        selection = stored.Selection(lineage, tuple((str(k), str(v)) for k, v in args), int(km), tuple(statuses))

        def work():
            db = catalogue.connect(settings["DATABASE"])
            try:
                kinds.use_fields(lambda: field_store.filter_kinds(db))
                counted = stored.recount(db, stored.folder(settings["CACHE_DIR"]), selection, jobs.map_columns)
            finally:
                db.close()
                # Written (or failed): the next request that finds the figures older than the
                # catalogue plans another count; those meanwhile planned none.
                jobs.huey.get(f"stats:planned:{selection.name}")
            return "done", "counted" if counted else "already counted"

        tracked("stats", selection.name, task, work)

    return {"import": import_task, "stats": stats_task, "sync": sync_task, "report": report_task, "digests": digests_task,
            "reminders": reminders_task, "retention": retention_task, "moderation": moderation_task,
            "reset": reset_task, "export": export_task}


def _keep_alive(database: str, import_ids: list[int]) -> None:
    """An import waits in the queue while the workers run longer jobs: its record's heartbeat
    is kept fresh meanwhile, so that it is not taken for one that died (``imports.STALE_SECONDS``)."""
    from .. import catalogue
    from ..catalogue import imports as records

    db = catalogue.connect(database)
    try:
        for import_id in import_ids:
            records.update_running(db, import_id)
    finally:
        db.close()


def _import_outcome(database: str, import_id: int) -> tuple[str, str]:
    from .. import catalogue
    from ..importing import jobs as imports

    db = catalogue.connect(database)
    try:
        record = imports.get(db, import_id) or {"state": "failed", "error": "the import's record is gone"}
    finally:
        db.close()
    return ("done", "") if record["state"] == "done" else ("failed", record["error"] or "")
