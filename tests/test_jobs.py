"""Work longer than a request runs as a job of the worker process (``mapapp worker``): the web
queues it and shows its state; staff are told when no worker is running; syncs and reports are
retried after an unexpected error, and ``mapapp --help`` loads none of the heavy libraries."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support import csrf_from, make_org, sign_in, upload, wait_done

from mapapp import catalogue, create_app
from mapapp.filters import Filters
from mapapp.importing import jobs
from mapapp.jobs import queue

ROOT = Path(__file__).resolve().parent.parent


def _until(condition, timeout: float = 20.0, what: str = "the job") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what} did not get there in {timeout} s"
        time.sleep(0.05)


def _sheet(tmp_path: Path, rows: int = 3) -> Path:
    path = tmp_path / "members.csv"
    path.write_text("name,city,country\n" + "".join(f"Coop {i},Lyon,FR\n" for i in range(rows)), encoding="utf-8")
    return path


def _confirm(client, tmp_path: Path) -> int:
    preview = upload(client, _sheet(tmp_path), status="published").headers["Location"]
    page = client.get(preview).get_data(as_text=True)
    started = client.post(preview, data={"csrf_token": csrf_from(page), "action": "confirm"})
    return int(started.headers["Location"].rsplit("/", 1)[1])


@pytest.mark.slow  # seconds of processes, workers or PDFs: make test runs it, the fast loop does not
def test_a_browser_import_waits_for_the_worker_and_staff_are_told_when_none_runs(app, db, staff, tmp_path,
                                                                                   worker_for):
    app.config["UPLOAD_DIR"] = str(tmp_path / "uploads")
    client = app.test_client()
    sign_in(client, "editor@example.org")
    import_id = _confirm(client, tmp_path)
    page = client.get(f"/admin/imports/{import_id}?lang=en").get_data(as_text=True)
    assert "Waiting for the job worker to start the import" in page
    assert "The job worker is not running: start it with `mapapp worker`." in page
    status = client.get(f"/admin/imports/{import_id}/status.json").get_json()
    assert status["state"] == "running" and status["queued"] and "mapapp worker" in status["worker_missing"]
    french = client.get(f"/admin/imports/{import_id}?lang=fr").get_data(as_text=True)
    assert "mapapp worker" in french and "The job worker is not running" not in french  # in the staff's language
    assert catalogue.count_organisations(db, Filters()) == 0  # nothing ran in the web process
    with worker_for(app):  # a worker started later takes the queued import
        record = wait_done(db, import_id)
        _until(lambda: app.extensions["mapapp.jobs"].state("import", str(import_id))["state"] == "done")
    assert record["state"] == "done" and record["counts"]["created"] == 3
    page = client.get(f"/admin/imports/{import_id}?lang=en").get_data(as_text=True)
    assert "Done:" in page and "worker-missing" not in page


@pytest.mark.slow  # seconds of processes, workers or PDFs: make test runs it, the fast loop does not
def test_an_import_waiting_behind_a_long_job_is_not_taken_for_a_dead_one(app, db, tmp_path, monkeypatch, worker_for):
    import threading

    from mapapp.importing import sync
    from mapapp.jobs import worker as worker_module

    monkeypatch.setattr(worker_module, "HEARTBEAT_SECONDS", 0.1)
    release, pulling = threading.Event(), threading.Event()

    def long_sync(database, name, settings, *, claimed=None):
        pulling.set()
        release.wait(20)
        return sync.Outcome(name, True, "pulled")

    monkeypatch.setattr(sync, "run", long_sync)
    queue_ = app.extensions["mapapp.jobs"]
    path = _sheet(tmp_path)
    import_id = jobs.create(db, user_email="editor@example.org", filename=path.name, stored_path=str(path),
                            source="members", project=None, status_choice="published")
    running = worker_module.Worker(queue_, workers=1).start()  # one worker, busy with the sync
    try:
        queue_.sync("partners", 1.0)
        assert pulling.wait(10)
        jobs.claim(app.config["DATABASE"], import_id)
        queue_.import_file(import_id)
        db.execute("UPDATE imports SET heartbeat_at = 0 WHERE id = ?", [import_id])  # as if silent for long
        _until(lambda: db.execute("SELECT heartbeat_at FROM imports WHERE id = ?", [import_id]).fetchone()[0] > 0,
               what="the waiting import's heartbeat")  # the worker keeps it alive while it waits
        assert jobs.get(db, import_id)["state"] == "running"  # not declared dead
        release.set()
        assert wait_done(db, import_id)["counts"]["created"] == 3
    finally:
        release.set()
        running.stop()


def test_a_sync_that_fails_unexpectedly_is_retried_and_its_state_says_so(db_path, tmp_path, monkeypatch, worker_for):
    from mapapp.importing import sync

    monkeypatch.setattr(queue, "RETRY_DELAY", 0)
    app = create_app({"TESTING": True, "DATABASE": str(db_path), "SECRET_KEY": "test",
                      "CACHE_DIR": str(tmp_path / "cache")})
    calls = []

    def flaky(database, name, settings, *, claimed=None):
        calls.append(claimed)
        if len(calls) == 1:
            raise OSError("database disk image is malformed")
        return sync.Outcome(name, True, "pulled")

    monkeypatch.setattr(sync, "run", flaky)
    jobs_ = app.extensions["mapapp.jobs"]
    with worker_for(app):
        jobs_.sync("partners", 123.0)
        _until(lambda: jobs_.state("sync", "partners")["state"] == "done", what="the sync")
    assert calls == [123.0, None]  # the retry claims the source again: the first attempt ended its claim
    assert jobs_.state("sync", "partners")["message"] == "pulled"


def test_a_failed_report_says_why_and_is_not_retried(app, db, worker, monkeypatch):
    from mapapp.insights import report

    catalogue.save_project(db, {"slug": "visits", "name": "Visits", "description": "", "website": "", "names": {}})
    make_org(db, "Atelier")
    made = []

    def no_pango(html):
        made.append(1)
        raise report.ReportError("PDF reports need Debian's Pango")

    monkeypatch.setattr(report, "pdf", no_pango)
    answer = app.test_client().get("/projects/visits/report.pdf")
    assert answer.status_code == 503 and "Pango" in answer.get_data(as_text=True)
    assert made == [1]


def test_a_report_asked_with_no_worker_running_says_how_to_start_it(app, db, monkeypatch):
    from mapapp.web import insights

    monkeypatch.setattr(insights, "REPORT_WAIT", 2)
    catalogue.save_project(db, {"slug": "visits", "name": "Visits", "description": "", "website": "", "names": {}})
    answer = app.test_client().get("/projects/visits/report.pdf")
    assert answer.status_code == 503 and "start it with `mapapp worker`" in answer.get_data(as_text=True)


def _mapapp(*args: str, env: dict) -> subprocess.Popen:
    script = "import sys; from mapapp.cli import main; sys.argv[0] = 'mapapp'; main()"
    return subprocess.Popen([sys.executable, "-c", script, *args], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)


@pytest.mark.slow  # seconds of processes, workers or PDFs: make test runs it, the fast loop does not
def test_mapapp_worker_runs_the_queued_import_in_its_own_process_and_stops_on_ctrl_c(app, db, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MAPAPP_DATABASE": app.config["DATABASE"],
           "MAPAPP_SECRET_KEY": "test", "MAPAPP_CACHE_DIR": str(tmp_path / "cache"), "MAPAPP_JOBS_WORKERS": "1"}
    path = _sheet(tmp_path, 4)
    import_id = jobs.create(db, user_email="editor@example.org", filename=path.name, stored_path=str(path),
                            source="members", project=None, status_choice="published")
    jobs.claim(app.config["DATABASE"], import_id)
    app.extensions["mapapp.jobs"].import_file(import_id)
    worker = _mapapp("worker", env=env)
    try:
        record = wait_done(db, import_id, timeout=60)
        running = app.extensions["mapapp.jobs"].worker_running()  # its heartbeat is seen by the web
    finally:
        worker.send_signal(signal.SIGINT)  # Ctrl-C: the running jobs finish, then it stops
        try:
            output, _ = worker.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            output = worker.communicate()[0]
    assert record["counts"]["created"] == 4 and running, output
    assert worker.returncode == 0, output
    assert "job worker: 1 process(es)" in output


def test_mapapp_help_loads_none_of_the_heavy_libraries():
    heavy = ("matplotlib", "scipy", "folium", "weasyprint", "geopandas")
    script = ("import sys\nfrom click.testing import CliRunner\nfrom mapapp.cli import main\n"
              "result = CliRunner().invoke(main, ['--help'])\n"
              "print(json.dumps({'exit': result.exit_code, 'output': result.output, "
              f"'loaded': [m for m in {heavy!r} if m in sys.modules]}}))")
    found = subprocess.run([sys.executable, "-c", "import json\n" + script], cwd=ROOT, capture_output=True, text=True,
                           env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=60, check=True)
    answer = json.loads(found.stdout.strip().splitlines()[-1])
    assert answer["exit"] == 0 and "worker" in answer["output"] and "import" in answer["output"]
    assert answer["loaded"] == []


def test_the_web_app_and_the_job_worker_load_matplotlib_and_scipy_only_when_a_chart_or_count_needs_them(tmp_path):
    """Issue 31: every web worker and the job worker made the app, which imported pyplot and
    scipy for the insights pages: 49 MiB and half a second of each process's start."""
    script = ("import json, sys\nfrom mapapp import create_app\n"
              f"app = create_app({{'DATABASE': {str(tmp_path / 'c.db')!r}, 'SECRET_KEY': 'x'}})\n"
              "before = [m for m in ('matplotlib', 'scipy') if m in sys.modules]\n"
              "from mapapp.insights import charts\n"
              "chart = charts.Chart('n', 'bars', 'Title', ('a', 'b'), (('x', 1),))\n"
              "png = charts.draw(chart, 'png')\n"
              "print(json.dumps({'before': before, 'after': 'matplotlib' in sys.modules, 'png': png[:4].hex()}))")
    found = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True,
                           env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120, check=True)
    answer = json.loads(found.stdout.strip().splitlines()[-1])
    assert answer == {"before": [], "after": True, "png": "89504e47"}


def test_reminders_queued_from_the_command_line_are_sent_by_the_worker(db_path, db, tmp_path, smtp, worker_for):
    from smtp_box import text_of

    make_org(db, "Stale Coop", email="stale@example.org")
    db.execute("UPDATE organisations SET updated_at = '2020-01-01T00:00:00+00:00'")
    app = create_app({"TESTING": True, "DATABASE": str(db_path), "SECRET_KEY": "test", "SMTP_URL": smtp.url,
                      "CACHE_DIR": str(tmp_path / "cache"), "PUBLIC_URL": "https://map.example.org"})
    result = app.test_cli_runner().invoke(args=["remind-owners", "--queue", "--lang", "fr"])
    assert result.exit_code == 0 and "queued for the job worker" in result.output, result.output
    queue_ = app.extensions["mapapp.jobs"]
    assert queue_.state("reminders", "owners")["state"] == "queued" and smtp.box.messages == []
    with worker_for(app):
        [mail] = smtp.box.wait(1)
        _until(lambda: queue_.state("reminders", "owners")["state"] == "done")
    assert mail["To"] == "stale@example.org" and "https://map.example.org/owner/" in text_of(mail)
    assert queue_.state("reminders", "owners")["message"] == "1 reminder(s) sent"


def test_a_daily_time_that_is_not_one_is_refused_saying_how_to_write_it(db_path, tmp_path):
    import pytest

    from mapapp.config import ConfigError

    with pytest.raises(ConfigError, match="write it as HH:MM"):
        create_app({"TESTING": True, "DATABASE": str(db_path), "SECRET_KEY": "test", "JOBS_DAILY_AT": "6h30"})
