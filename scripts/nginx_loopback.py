"""Debian's nginx with the repository's deploy/nginx-mapapp.conf, on loopback ports in a
folder of its own: what the throughput benchmark (bench_load.py) and the real-nginx test
(tests/test_page_cache.py) start, so that both check the file as it is shipped."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BINARY = shutil.which("nginx") or "/usr/sbin/nginx"
MAIN = """
daemon off;
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections {connections}; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    include {tmp}/mapapp.conf;
    {fixed}
}}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def site_config(upstream: str, cache: Path, port: int) -> str:
    """deploy/nginx-mapapp.conf with its @MARKERS@ lines pointed at loopback and ``cache``."""
    lines = []
    for line in (ROOT / "deploy" / "nginx-mapapp.conf").read_text().splitlines():
        if "# @CACHE_PATH@" in line:
            line = line.replace("/var/cache/nginx/mapapp", str(cache))
        elif "# @UPSTREAM@" in line:
            line = f"    server {upstream};"
        elif "# @LISTEN@" in line:
            line = f"    listen 127.0.0.1:{port};"
        lines.append(line)
    return "\n".join(lines)


@contextmanager
def running(upstream: str, folder: Path, *, connections: int = 64,
            fixed_port: int | None = None) -> Iterator[tuple[str, subprocess.Popen]]:
    """nginx in front of ``upstream`` (host:port), its files in ``folder`` (readable by its
    workers, which run as another user when started as root): yields its base URL and process.
    With ``fixed_port``, also a fixed "ok" answer there (the load generator's ceiling)."""
    cache = folder / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    for place in (folder, cache):
        os.chmod(place, 0o777)
    port = free_port()
    fixed = (f'server {{ listen 127.0.0.1:{fixed_port}; location / {{ return 200 "ok"; }} }}'
             if fixed_port else "")
    (folder / "mapapp.conf").write_text(site_config(upstream, cache, port))
    (folder / "nginx.conf").write_text(MAIN.format(tmp=folder, connections=connections, fixed=fixed))
    process = subprocess.Popen([BINARY, "-p", str(folder), "-c", str(folder / "nginx.conf")])
    try:
        yield f"http://127.0.0.1:{port}", process
    finally:
        process.terminate()
        process.wait(30)
