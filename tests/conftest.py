"""Fixtures: an app over a temporary catalogue, its client and CLI runner, a live
server on 127.0.0.1 and a headless Debian chromium driven by Playwright.

Also the suite's own rules: tests that drive the browser are marked ``browser`` (so that
``pytest -m "not browser and not slow"`` is the fast loop), whatever the app writes goes to a
temporary folder, and a session that leaves anything new or changed in the checkout fails."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import app_reuse
import pytest
from support import PASSWORD, ServerThread
from werkzeug.security import generate_password_hash
from werkzeug.serving import make_server

from mapapp import accounts, catalogue, config, create_app
from mapapp.importing import demo

CHROMIUM = "/usr/bin/chromium"
CHECKOUT = Path(__file__).resolve().parent.parent
# Folders every run may change: the environment, bytecode, pytest's and ruff's caches.
_RUN_LITTER = (".venv", "__pycache__", ".pytest_cache", ".ruff_cache")
_BROWSER_FIXTURES = {"browser", "page"}
_checkout_key = pytest.StashKey[dict]()


def pytest_collection_modifyitems(items):
    # By fixture, not by file name, so that a new browser test elsewhere cannot miss the mark.
    for item in items:
        if _BROWSER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.browser)
    # The long tests (browser, slow: up to a minute and more each) first, in their files' order:
    # xdist hands the rest out as workers free up, so both end together on short ones instead
    # of one waiting for the other's last long test.
    items.sort(key=lambda item: not (item.get_closest_marker("browser") or item.get_closest_marker("slow")))


def _checkout_state() -> dict[str, tuple]:
    """What ``git status`` says of every path (ignored ones included, each file listed), with the
    size and modification time of the files git does not track: a test rewriting data/mapapp.db,
    or making data/cache/, changes it."""
    try:
        out = subprocess.run(["git", "-C", str(CHECKOUT), "status", "--porcelain", "-z", "--ignored",
                              "--untracked-files=all", "--", ".", *(f":(exclude,glob)**/{d}/**" for d in _RUN_LITTER)],
                             capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return {}  # not a git checkout (a source archive): nothing to compare
    state = {}
    for entry in filter(None, out.split("\0")):
        code, path = entry[:2], entry[3:]
        stat = (CHECKOUT / path).stat() if code in ("??", "!!") and (CHECKOUT / path).is_file() else None
        state[path] = (code, stat and (stat.st_size, stat.st_mtime_ns))
    return state


def pytest_sessionstart(session):
    session.config.stash[_checkout_key] = _checkout_state()


def pytest_sessionfinish(session, exitstatus):
    before = session.config.stash.get(_checkout_key, None)
    if before is None or getattr(session.config, "workerinput", None) is not None:
        return
    after = _checkout_state()
    changed = sorted(p for p in before.keys() | after.keys() if before.get(p) != after.get(p))
    if changed:
        session.config.get_terminal_writer().line(
            "\nThe checkout changed while the tests ran (unless you edited these files meanwhile, a test "
            "wrote there: use tmp_path; an app made without CACHE_DIR, DATABASE, UPLOAD_DIR or OUTBOX_DIR "
            "writes to data/):\n  " + "\n  ".join(changed[:20]), red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="session", autouse=True)
def _apps_share_compiled_code():
    """Apps made in this process compile each template and URL builder once (app_reuse.py)."""
    with app_reuse.shared_compilation():
        yield


@pytest.fixture(autouse=True)
def _app_writes_elsewhere(tmp_path_factory, monkeypatch):
    """An app (or a `mapapp` subprocess) made without its folders set writes to a temporary
    folder: never the checkout's data/, nor a catalogue the shell's MAPAPP_* settings name."""
    var = tmp_path_factory.mktemp("var")
    for name, default in (("DATABASE", "mapapp.db"), ("UPLOAD_DIR", "uploads"), ("CACHE_DIR", "cache"),
                          ("OUTBOX_DIR", "outbox")):
        monkeypatch.setenv(f"MAPAPP_{name}", str(var / default))
    monkeypatch.setattr(config, "VAR_DIR", var)  # where a non-testing app keeps its secret key


# scrypt at its production cost takes a tenth of a second of CPU per hash: the test accounts'
# sign-ins were a quarter of the fast loop. Tests keep scrypt, at a lower cost (checking a hash
# reads the cost from it); another method asked for by the code passes through unchanged.
_TEST_SCRYPT = "scrypt:1024:8:1"


@pytest.fixture(autouse=True)
def _reports_waited_for(monkeypatch):
    """A request for a PDF report waits for the worker's (a loaded host takes more than the
    few seconds a visitor waits before the page that asks again, which its own test covers)."""
    from mapapp.web import insights

    monkeypatch.setattr(insights, "REPORT_WAIT", 120)


@pytest.fixture(autouse=True)
def _cheap_password_hashes(monkeypatch):
    def cheaper(password: str, method: str = "scrypt", salt_length: int = 16) -> str:
        return generate_password_hash(password, _TEST_SCRYPT if method == "scrypt" else method, salt_length)

    monkeypatch.setattr(accounts, "generate_password_hash", cheaper)
    dummy = cheaper("not a real password")
    monkeypatch.setattr(accounts, "_dummy_hash", lambda: dummy)


@pytest.fixture(scope="session")
def _empty_catalogue(tmp_path_factory) -> Path:
    """An empty catalogue brought up to date once per test process: each test's starts as a
    copy of it (bringing a new file through every migration costs about 0.1 s a test)."""
    path = tmp_path_factory.mktemp("template") / "catalogue.db"
    catalogue.connect(path).close()
    return path


@pytest.fixture
def db_path(tmp_path: Path, _empty_catalogue: Path) -> Path:
    """A new, empty, up-to-date catalogue of the test's own (a copy: another file, another
    lineage)."""
    path = tmp_path / "catalogue.db"
    shutil.copyfile(_empty_catalogue, path)
    return path


@pytest.fixture
def db(db_path: Path):
    database = catalogue.connect(db_path)
    yield database
    database.close()


@pytest.fixture
def app(db_path: Path, tmp_path: Path):
    return create_app({"TESTING": True, "DATABASE": str(db_path), "SECRET_KEY": "test",
                       "CACHE_DIR": str(tmp_path / "cache")})


@pytest.fixture
def worker_for():
    """The job worker (huey's consumer over the app's SQLite queue, in threads of this process)
    for a given app: ``with worker_for(app):`` runs the jobs queued meanwhile."""
    from contextlib import contextmanager

    from mapapp.jobs.worker import Worker

    @contextmanager
    def running(app):
        worker = Worker(app.extensions["mapapp.jobs"], workers=2).start()
        try:
            yield worker
        finally:
            worker.stop()

    return running


@pytest.fixture
def worker(app, worker_for):
    """The job worker over ``app``'s queue, for the whole test."""
    with worker_for(app) as running:
        yield running


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture(scope="session")
def demo_db_path(tmp_path_factory) -> Path:
    """A catalogue with the demo data, shared by tests that only read it."""
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    database = catalogue.connect(path)
    demo.load_demo(database)
    database.close()
    return path


@pytest.fixture
def demo_db(demo_db_path: Path):
    """A connection to the demo catalogue, closed after the test."""
    database = catalogue.connect(demo_db_path)
    yield database
    database.close()


@pytest.fixture
def demo_app(demo_db_path: Path, tmp_path: Path):
    return create_app({"TESTING": True, "DATABASE": str(demo_db_path), "SECRET_KEY": "test",
                       "CACHE_DIR": str(tmp_path / "cache")})


@pytest.fixture
def demo_client(demo_app):
    return demo_app.test_client()


@pytest.fixture
def staff(db):
    """An admin and an editor, both with the password ``support.PASSWORD``."""
    admin, _ = accounts.create_user(db, "admin@example.org", PASSWORD, "admin")
    editor, _ = accounts.create_user(db, "editor@example.org", PASSWORD, "editor")
    return {"admin": admin, "editor": editor}


@pytest.fixture
def live_server_for():
    """Start a live server for a given app: ``with live_server_for(app) as server``."""
    return lambda app: ServerThread(make_server("127.0.0.1", 0, app, threaded=True))


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make test`, which installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def smtp():
    """A real SMTP server on 127.0.0.1 (``smtp.url`` for MAPAPP_SMTP_URL, ``smtp.box`` holds what it received)."""
    from smtp_box import SMTPServer

    with SMTPServer() as server:
        yield server
