"""Fixtures: an app over a temporary catalogue, its client and CLI runner, a live
server on 127.0.0.1 and a headless Debian chromium driven by Playwright."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from mapapp import catalogue, create_app
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
def demo_app(demo_db_path: Path, tmp_path: Path):
    return create_app({"TESTING": True, "DATABASE": str(demo_db_path), "SECRET_KEY": "test",
                       "CACHE_DIR": str(tmp_path / "cache")})


@pytest.fixture
def demo_client(demo_app):
    return demo_app.test_client()


def make_org(db, name: str, **fields) -> catalogue.Saved:
    """Save a published, located organisation with sensible defaults."""
    record = {"name": name, "city": "Lyon", "country": "FR", "lat": 45.76, "lon": 4.84,
              "status": "published", "source": "test", "source_ref": name, **fields}
    themes = record.pop("themes", ())
    needs = record.pop("needs", None)
    offers = record.pop("offers", None)
    return catalogue.save_organisation(db, record, themes=themes, needs=needs, offers=offers)


class LiveServer:
    def __init__(self, app):
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.thread.join(5)


@pytest.fixture
def live_server_for():
    """Start a live server for a given app: ``with live_server_for(app) as server``."""
    return LiveServer


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
