"""Two worker processes on one catalogue: an edit made through one is on the other's map
at its next request, through the map columns they share (memory-mapped files in the cache
folder) and patch with the organisations changed since."""

from __future__ import annotations

import http.cookiejar
import json
import os
import socket
import subprocess
import sys
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from support import PASSWORD, form_fields, make_org

from mapapp import accounts, catalogue

SERVE = """
import sys
from werkzeug.serving import make_server
from mapapp import create_app
server = make_server("127.0.0.1", int(sys.argv[1]), create_app(), threaded=True)
print("ready", flush=True)
server.serve_forever()
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(env: dict, port: int) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, "-c", SERVE, str(port)], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True)
    assert process.stdout.readline().strip() == "ready"
    return process


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=120) as response:
        return json.loads(response.read())


@pytest.mark.slow  # seconds of processes, workers or PDFs: make test runs it, the fast loop does not
def test_an_edit_through_one_worker_is_on_the_other_workers_map_at_its_next_request(db, db_path, tmp_path):
    for n in range(200):
        make_org(db, f"Coop {n:03d}", city="Lyon", country="FR", source_ref=f"c{n}")
    target = make_org(db, "Moving coop", city="Lyon", country="FR", source_ref="moving")
    accounts.create_user(db, "editor@example.org", PASSWORD, "editor")
    env = {**os.environ, "MAPAPP_DATABASE": str(db_path), "MAPAPP_CACHE_DIR": str(tmp_path / "cache"),
           "MAPAPP_SECRET_KEY": "shared-secret", "PYTHONPATH": str(Path(__file__).resolve().parent.parent),
           # The map's columns are this test's subject; the answers each worker keeps for a minute
           # (as nginx does) are test_answer_cache.py's.
           "MAPAPP_ANSWER_CACHE_MB": "0"}
    one, two = free_port(), free_port()
    workers = [start(env, one), start(env, two)]
    try:
        base_one, base_two = f"http://127.0.0.1:{one}", f"http://127.0.0.1:{two}"
        assert get_json(f"{base_two}/api/facets?country=CY")["total"] == 0  # worker two has its columns
        assert get_json(f"{base_one}/api/facets")["total"] == 201
        kept = [p for p in (tmp_path / "cache" / "map").glob("map-*") if p.is_dir()]
        assert len(kept) == 1  # built once, mapped by both

        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        login = form_fields(browser.open(f"{base_one}/login").read().decode())
        browser.open(f"{base_one}/login", urllib.parse.urlencode(
            {"email": "editor@example.org", "password": PASSWORD, "csrf_token": login["csrf_token"]}).encode())
        edit_url = f"{base_one}/admin/organisations/{target.id}/edit"
        form = form_fields(browser.open(edit_url).read().decode())
        form.update(country="CY", city="Nicosia", lat="35.17", lon="33.36", action="save", confirm_country="1")
        browser.open(edit_url, urllib.parse.urlencode(form, doseq=True).encode())

        # Every request compares the catalogue's version with its columns': no wait, however busy the machine.
        assert get_json(f"{base_two}/api/facets?country=CY")["total"] == 1
        clusters = get_json(f"{base_two}/api/clusters?bbox=32,34,35,36&zoom=8")
        assert [p[0] for p in clusters["points"]] == [target.slug]
        assert catalogue.find_organisations(db, catalogue.Filters(country=("CY",)))[0]["id"] == target.id
        assert [p for p in (tmp_path / "cache" / "map").glob("map-*") if p.is_dir()] == kept  # patched, not rebuilt
    finally:
        for worker in workers:
            worker.terminate()
            worker.wait(10)
