"""The installed package is complete (a wheel serves the demo outside the source tree),
and the code passes bandit's checks."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # a wheel built and served, bandit over the whole package

ROOT = Path(__file__).resolve().parent.parent
# Generous: the machine may be busy with other work, and a wait only ends early on success.
PATIENCE = 300
# What a build never reads: setuptools would otherwise write build/ and mapapp.egg-info/
# into the checkout, so the wheel is built from a copy of the sources.
NOT_SOURCES = shutil.ignore_patterns(".git", ".venv", "build", "*.egg-info", "__pycache__", ".pytest_cache",
                                     "mapapp.db*", "uploads", "cache", "outbox", "secret_key")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=PATIENCE) as response:  # noqa: S310 - 127.0.0.1 only
        return response.status, response.read()


def test_a_wheel_installed_in_a_fresh_venv_serves_the_demo(tmp_path):
    sources = tmp_path / "sources"
    shutil.copytree(ROOT, sources, ignore=NOT_SOURCES)
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                            "-w", str(tmp_path / "dist"), str(sources)], check=True, capture_output=True, text=True)
    # A folder of packaged files missing from pyproject.toml's packages: setuptools warns on every install.
    assert "would be ignored" not in build.stdout + build.stderr, build.stdout + build.stderr
    wheel = next((tmp_path / "dist").glob("mapapp-*.whl"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = Path(subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    # Only the wheel's own files: its dependencies come from this test's environment
    # (not its editable mapapp, whose .pth is not read from a path added this way).
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site), str(wheel)],
                   check=True, capture_output=True)
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "MAPAPP_SECRET_KEY": "wheel-test"}

    def mapapp(*args: str, **kwargs):
        return subprocess.Popen([python, "-c", "import sys; from mapapp.cli import main; sys.argv[0] = 'mapapp'; main()",
                                 *args], cwd=workdir, env=env, **kwargs)

    where = subprocess.run([python, "-c", "import mapapp, mapapp.config as c; print(mapapp.__file__); print(c.ROOT)"],
                           cwd=workdir, env=env, check=True, capture_output=True, text=True).stdout.split()
    assert all(str(site) in line for line in where) and str(ROOT) not in " ".join(where)
    assert mapapp("init").wait(PATIENCE) == 0 and mapapp("load-demo", "--if-empty").wait(PATIENCE) == 0
    assert (workdir / "mapapp-data" / "mapapp.db").is_file()  # what it writes stays out of the package
    port = _free_port()
    server = mapapp("serve", "--port", str(port), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + PATIENCE
        while True:
            try:
                status, body = _get(base + "/healthz")
                break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None, "the installed app did not start"
                time.sleep(0.3)
        assert json.loads(body)["organisations"] == 80
        status, page = _get(base + "/?lang=fr")
        assert status == 200 and b"Carte" in page  # templates and French translations are there
        for asset in ("/static/css/mapapp.css", "/static/vendor/leaflet/leaflet.js", "/static/js/map.js"):
            assert _get(base + asset)[0] == 200, asset
        status, body = _get(base + "/api/facets?country=PL")
        assert status == 200 and json.loads(body)["total"] > 0  # vocabularies and gazetteer data
        status, body = _get(base + "/api/organisations.html?country=BE")
        assert status == 200 and b"export-organisations" in body
    finally:
        server.terminate()
        server.wait(PATIENCE)


def test_bandit_finds_nothing_unexplained():
    result = subprocess.run([sys.executable, "-m", "bandit", "-q", "-r", str(ROOT / "mapapp"), "-f", "json"],
                            capture_output=True, text=True)
    findings = json.loads(result.stdout)["results"]
    assert findings == [], "\n".join(f"{f['filename']}:{f['line_number']} {f['test_id']} {f['issue_text']}"
                                     for f in findings)
