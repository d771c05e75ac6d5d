"""Helpers the tests share (fixtures are in conftest.py): forms read with an HTML parser,
signing in, uploading, waiting for imports, a server thread on 127.0.0.1, tiles stubbed."""

from __future__ import annotations

import io
import re
import threading
import time
from html.parser import HTMLParser
from pathlib import Path

import altcha

from mapapp import catalogue
from mapapp.contributing import antispam
from mapapp.filters import Filters
from mapapp.importing import jobs

PASSWORD = "correct horse battery staple"
BLANK_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082")
# Markers on screen, a cluster counting for its organisations.
DRAWN_TOTAL = """(() => {
  let n = 0;
  document.querySelectorAll(".leaflet-marker-pane .leaflet-marker-icon").forEach(m => {
    n += m.classList.contains("marker-cluster") ? parseInt(m.textContent, 10) : 1;
  });
  return n;
})()"""


class _FormParser(HTMLParser):
    """Collects what a browser would submit: inputs, checked boxes, textareas, selects."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.fields: dict[str, str | list[str]] = {}
        self._textarea: str | None = None
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    if kind == "checkbox":
                        self.fields.setdefault(name, [])
                        self.fields[name].append(a.get("value", "on"))
                    else:
                        self.fields[name] = a.get("value", "on")
            elif kind not in ("submit", "button", "file"):
                self.fields[name] = a.get("value", "")
        elif tag == "textarea" and name:
            self._textarea = name
            self.fields[name] = ""
        elif tag == "select" and name:
            self._select = name
            self.fields.setdefault(name, "")
        elif tag == "option" and self._select and "selected" in a:
            self.fields[self._select] = a.get("value", "")

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data):
        if self._textarea:
            self.fields[self._textarea] += data


def form_fields(html: str) -> dict:
    """Every field of the page's forms as a browser would submit it (checked boxes as lists)."""
    parser = _FormParser()
    parser.feed(html)
    return parser.fields


def csrf_from(html: str) -> str:
    """The page's CSRF token."""
    return form_fields(html)["csrf_token"]


def sign_in(client, email, password=PASSWORD):
    token = csrf_from(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token})


def sign_in_browser(page, url: str, email: str, password: str = PASSWORD) -> None:
    """Open ``url`` (a staff page sends the sign-in form) and sign in as a person does."""
    page.goto(url)
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")


def open_settled(page, url: str) -> None:
    """Open ``url`` and, on a map page, wait until its view is drawn."""
    page.goto(url)
    if page.locator("#mapapp-settings").count():
        page.wait_for_selector("body[data-map-ready=true]")


def upload(client, path: Path, **fields):
    """Upload a file for import, as the staff form does."""
    token = csrf_from(client.get("/admin/imports").get_data(as_text=True))
    data = {"csrf_token": token, "file": (io.BytesIO(path.read_bytes()), path.name), **fields}
    return client.post("/admin/imports", data=data, content_type="multipart/form-data")


def wait_done(db, import_id, timeout=20.0):
    """The import's record once it has finished."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        record = jobs.get(db, import_id)
        if record["state"] in ("done", "failed"):
            return record
        time.sleep(0.1)
    raise AssertionError("the import did not finish")


def make_org(db, name: str, **fields) -> catalogue.Saved:
    """Save a published, located organisation with sensible defaults."""
    record = {"name": name, "city": "Lyon", "country": "FR", "lat": 45.76, "lon": 4.84,
              "status": "published", "source": "test", "source_ref": name, **fields}
    themes = record.pop("themes", ())
    needs = record.pop("needs", None)
    offers = record.pop("offers", None)
    return catalogue.save_organisation(db, record, themes=themes, needs=needs, offers=offers)


def published(db_path, **filters) -> list[dict]:
    """The published organisations of the catalogue at ``db_path`` matching ``filters``."""
    db = catalogue.connect(db_path)
    try:
        return catalogue.find_organisations(db, Filters(**filters))
    finally:
        db.close()


class ServerThread:
    """Any ``socketserver`` server (a WSGI app's, a fake geocoder's) served from a thread
    on 127.0.0.1 for the length of a ``with`` block."""

    def __init__(self, server):
        self.server = server
        host, port = server.server_address[:2]
        self.url = f"http://{host}:{port}"
        self.thread = threading.Thread(target=server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


def settle(page, expression: str, expected, timeout: float = 10.0):
    """Evaluate ``expression`` until it gives ``expected`` or time runs out; return the last value.

    (``wait_for_function`` would need 'unsafe-eval', which the pages' CSP refuses.)
    """
    deadline = time.monotonic() + timeout
    while True:
        value = page.evaluate(expression)
        if value == expected or time.monotonic() > deadline:
            return value
        page.wait_for_timeout(100)


def route_tiles(page, tile_host: str = "tile.openstreetmap.org") -> list[str]:
    """Answer tile requests with a blank PNG so that tests never leave the machine."""
    asked: list[str] = []

    def fulfil(route):
        asked.append(route.request.url)
        route.fulfill(status=200, content_type="image/png", body=BLANK_PNG)

    page.route(f"https://{tile_host}/**", fulfil)
    return asked


def proof_of_work(secret: str) -> str:
    """What the ALTCHA widget sends: a challenge signed with ``secret``, solved (at a low
    cost, for speed); each is good for one form."""
    challenge = altcha.Challenge.from_dict(antispam.challenge(secret, 10))
    return altcha.Payload(challenge, altcha.solve_challenge(challenge)).to_base64()


def shows_49(text: str) -> bool:
    """Whether ``text`` holds 49 as a word of its own: what ``{{ 7*7 }}`` gives once evaluated as
    a template. Digits inside a token, an address or a year (mq49ON…, 2049) are not it."""
    return re.search(r"(?<![\w.:/-])49(?![\w.:/-])", text) is not None
