"""Fixtures: an app over a temporary catalogue, its client and CLI runner, a live
server on 127.0.0.1 and a headless Debian chromium driven by Playwright."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import PASSWORD, ServerThread
from werkzeug.serving import make_server

from mapapp import accounts, catalogue, create_app
from mapapp.importing import demo

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "catalogue.db"


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
