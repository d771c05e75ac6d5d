"""Server-side request forgery through sync sources and the Murmurations index (issue #24),
replayed: servers on 127.0.0.1 stand for the internal services an attacker aims at (they are
not in MAPAPP_FETCH_ALLOW_HOSTS unless a test says so), a monkeypatched resolver for a public
name pointing inside, redirects inward and to ftp://, the metadata address, a source that
trickles, one that does not speak HTTP; and who may manage sources at all."""

from __future__ import annotations

import html
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from support import ServerThread, csrf_from, sign_in

from mapapp import create_app
from mapapp.catalogue import syncsources as store
from mapapp.importing import sync

CSV = b"id,name,city,country\na1,Bread Coop,Lyon,FR\na2,Bike Workshop,Lyon,FR\na3,Food Bank,Lyon,FR\n"
REFUSED = "this address is not allowed (private or local network)"


class Internal:
    """An HTTP server on 127.0.0.1 that notes every request: ``answers[path] = (status,
    headers, body)``; ``hits`` lists the paths asked."""

    def __init__(self):
        self.answers: dict[str, tuple[int, dict, bytes]] = {}
        self.hits: list[str] = []
        self.release = threading.Event()  # what a path answered with status 0 waits for
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                outer.hits.append(self.path)
                status, headers, body = outer.answers.get(self.path, (404, {}, b""))
                if status == 0:  # a slow source: answers once released (at most 10 s)
                    outer.release.wait(10)
                    status = 200
                self.send_response(status)
                for key, value in {"Content-Length": str(len(body)), **headers}.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(body)

            do_POST = do_GET  # noqa: N815

            def log_message(self, *args):
                pass

        self.thread = ServerThread(ThreadingHTTPServer(("127.0.0.1", 0), Handler))
        self.url = self.thread.url
        self.host = self.url.removeprefix("http://")
        self.port = int(self.host.rsplit(":", 1)[1])


@pytest.fixture
def internal():
    server = Internal()
    with server.thread:
        yield server
        server.release.set()


@pytest.fixture
def other():
    """A second internal service, on another port."""
    server = Internal()
    with server.thread:
        yield server


def make_site(db_path, tmp_path, allow: str = "", **config):
    return create_app({"TESTING": True, "DATABASE": str(db_path), "SECRET_KEY": "test", "CACHE_DIR": str(tmp_path / "c"),
                       "UPLOAD_DIR": str(tmp_path / "uploads"), "FETCH_ALLOW_HOSTS": allow, **config})


def remembered(db, name: str, url: str) -> None:
    """A source stored as it was before the save-time check existed (or by a mistaken admin)."""
    store.save_source(db, name=name, url=url, fmt="csv", mapping=None, project=None, status="published")


def cli(site, *args):
    return site.test_cli_runner().invoke(args=["sync", *args])


def organisations(db) -> int:
    return db.execute("SELECT count(*) FROM organisations").fetchone()[0]


def test_a_source_on_loopback_is_refused_when_saved_and_when_run(db_path, db, tmp_path, internal):
    internal.answers["/admin/secrets.csv"] = (200, {"Content-Type": "text/csv"}, CSV)
    site = make_site(db_path, tmp_path)
    added = cli(site, "add", "inside", f"{internal.url}/admin/secrets.csv")
    assert added.exit_code == 1 and REFUSED in added.output
    assert store.source(db, "inside") is None
    remembered(db, "inside", f"{internal.url}/admin/secrets.csv")
    ran = cli(site, "run", "inside")
    assert ran.exit_code == 1 and REFUSED in ran.output
    assert internal.hits == [] and organisations(db) == 0  # the server never asked


def test_a_public_name_resolving_to_loopback_is_refused(db_path, db, tmp_path, internal, monkeypatch):
    internal.answers["/orgs.csv"] = (200, {"Content-Type": "text/csv"}, CSV)
    real = socket.getaddrinfo

    def resolve(host, port, *args, **kwargs):
        if host == "data.partner-map.example.org":  # an attacker's DNS answer
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    site = make_site(db_path, tmp_path)
    url = f"http://data.partner-map.example.org:{internal.port}/orgs.csv"
    assert REFUSED in cli(site, "add", "partner", url).output
    remembered(db, "partner", url)
    outcome = sync.run(str(db_path), "partner", site.config)
    assert not outcome.ok and REFUSED in outcome.message
    assert internal.hits == [] and organisations(db) == 0


def test_the_address_checked_is_the_address_connected_to(db_path, db, tmp_path, monkeypatch):
    """DNS rebinding: a name that answers a public address for the check and a loopback one
    afterwards. The fetcher resolves once and connects to what it checked (here the
    connection is refused before any packet leaves the machine)."""
    answers = iter(["8.8.8.8"] + ["127.0.0.1"] * 10)
    connected = []

    def resolve(host, port, *args, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), port))]

    def connect(address, *args, **kwargs):
        connected.append(address)
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    monkeypatch.setattr(socket, "create_connection", connect)
    site = make_site(db_path, tmp_path)
    remembered(db, "rebinding", "http://rebind.example.org:8080/orgs.csv")
    outcome = sync.run(str(db_path), "rebinding", site.config)
    assert not outcome.ok
    assert connected == [("8.8.8.8", 8080)]


def test_a_redirect_to_another_internal_port_is_refused(db_path, db, tmp_path, internal, other):
    other.answers["/latest/meta-data"] = (200, {"Content-Type": "text/csv"}, CSV)
    internal.answers["/orgs.csv"] = (302, {"Location": f"{other.url}/latest/meta-data"}, b"")
    site = make_site(db_path, tmp_path, allow=internal.host)  # an intranet source, listed by the operator
    remembered(db, "intranet", f"{internal.url}/orgs.csv")
    outcome = sync.run(str(db_path), "intranet", site.config)
    assert not outcome.ok and REFUSED in outcome.message
    assert internal.hits == ["/orgs.csv"] and other.hits == []  # the redirect was not followed
    assert organisations(db) == 0


def test_a_redirect_to_ftp_is_refused(db_path, db, tmp_path, internal):
    listener = socket.create_server(("127.0.0.1", 0))  # an FTP-ish service: did anyone connect?
    listener.setblocking(False)
    internal.answers["/orgs.csv"] = (302, {"Location": f"ftp://127.0.0.1:{listener.getsockname()[1]}/x.csv"}, b"")
    site = make_site(db_path, tmp_path, allow=internal.host)
    remembered(db, "intranet", f"{internal.url}/orgs.csv")
    try:
        outcome = sync.run(str(db_path), "intranet", site.config)
        with pytest.raises(BlockingIOError):  # no connection waits to be accepted
            listener.accept()
    finally:
        listener.close()
    assert not outcome.ok and "only http and https" in outcome.message


def test_the_metadata_address_is_refused_at_save_time(db_path, db, tmp_path, staff):
    site = make_site(db_path, tmp_path)
    client = site.test_client()
    sign_in(client, "admin@example.org")
    token = csrf_from(client.get("/admin/sources?lang=en").get_data(as_text=True))
    for url in ("http://169.254.169.254/latest/meta-data", "http://[::ffff:169.254.169.254]/latest/meta-data",
                "http://[fd00:ec2::254]/latest/meta-data"):
        refused = client.post("/admin/sources?lang=en", data={"csrf_token": token, "action": "save",
                                                              "name": "cloud", "url": url, "format": "csv"})
        assert refused.status_code == 400, url
        assert f"the source's address cannot be used: {REFUSED}" in html.unescape(refused.get_data(as_text=True))
    assert store.sources(db) == []
    assert REFUSED in cli(site, "add", "cloud", "http://169.254.169.254/latest/meta-data").output


@pytest.mark.parametrize("address", ["127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254",
                                     "0.0.0.0", "100.100.100.200", "224.0.0.1", "240.0.0.1", "::1", "::",
                                     "fe80::1", "fd00::1", "fd00:ec2::254", "ff02::1", "::ffff:127.0.0.1",
                                     "::ffff:10.0.0.1", "2002:7f00:1::1"])
def test_every_internal_kind_of_address_is_refused(address):
    from mapapp import fetch

    with pytest.raises(fetch.Refused):
        fetch.fetch(f"http://{'[' + address + ']' if ':' in address else address}:8080/", max_bytes=100)


def test_refusals_do_not_map_internal_ports(db_path, db, tmp_path, internal):
    internal.answers["/"] = (200, {"Content-Type": "text/csv"}, CSV)
    site = make_site(db_path, tmp_path)
    remembered(db, "open-port", f"{internal.url}/")
    remembered(db, "closed-port", "http://127.0.0.1:9/")  # nobody listens there
    said = {name: sync.run(str(db_path), name, site.config).message for name in ("open-port", "closed-port")}
    assert said["open-port"] == said["closed-port"]
    assert REFUSED in said["open-port"] and "refused" not in said["open-port"].replace(REFUSED, "")


@pytest.mark.slow  # seconds of processes, workers or PDFs: make test runs it, the fast loop does not
def test_a_trickling_source_is_cut_at_the_deadline(db_path, db, tmp_path):
    listener = socket.create_server(("127.0.0.1", 0))
    sent = []

    def trickle():  # headers, then one byte every 0.5 s, until the client hangs up (at most 60)
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            try:
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/csv\r\nContent-Length: 60\r\n\r\n")
                for _ in range(60):
                    conn.sendall(b"x")
                    sent.append(1)
                    time.sleep(0.5)
            except OSError:
                pass

    server = threading.Thread(target=trickle, daemon=True)
    server.start()
    host = f"127.0.0.1:{listener.getsockname()[1]}"
    site = make_site(db_path, tmp_path, allow=host)
    remembered(db, "slow", f"http://{host}/orgs.csv")
    try:
        outcome = sync.run(str(db_path), "slow", site.config, deadline=2)
    finally:
        server.join(40)
        listener.close()
    assert not outcome.ok and "no full answer within 2 seconds" in outcome.message
    assert len(sent) < 60  # cut before the source was done
    assert store.source(db, "slow")["last_outcome"]["ok"] is False and organisations(db) == 0


def test_a_source_trickling_its_headers_is_cut_at_the_deadline_too():
    from mapapp import fetch

    listener = socket.create_server(("127.0.0.1", 0))
    sent = []

    def trickle():  # a status line, then a header one byte every 0.5 s (at most 60)
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            try:
                conn.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
                for _ in range(60):
                    conn.sendall(b"x")
                    sent.append(1)
                    time.sleep(0.5)
            except OSError:
                pass

    server = threading.Thread(target=trickle, daemon=True)
    server.start()
    host = f"127.0.0.1:{listener.getsockname()[1]}"
    try:
        with pytest.raises(fetch.FetchError) as refused:
            fetch.fetch(f"http://{host}/", allow=fetch.allow_list(host), max_bytes=1000, deadline=1)
    finally:
        server.join(40)
        listener.close()
    assert "no full answer within 1 seconds" in refused.value.message and len(sent) < 60


def test_a_source_that_does_not_speak_http_fails_alone_and_the_run_goes_on(db_path, db, tmp_path, internal):
    listener = socket.create_server(("127.0.0.1", 0))

    def garbage():
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(b"SSH-2.0-OpenSSH_9.2\r\n\x00\xff\xfe garbage\r\n\r\n")

    server = threading.Thread(target=garbage, daemon=True)
    server.start()
    garbage_host = f"127.0.0.1:{listener.getsockname()[1]}"
    internal.answers["/orgs.csv"] = (200, {"Content-Type": "text/csv"}, CSV)
    site = make_site(db_path, tmp_path, allow=f"{garbage_host},{internal.host}")
    remembered(db, "a-ssh", f"http://{garbage_host}/orgs.csv")
    remembered(db, "b-partners", f"{internal.url}/orgs.csv")
    try:
        result = cli(site, "run")  # every source, as cron runs it
    finally:
        server.join(10)
        listener.close()
    assert result.exit_code == 1 and not isinstance(result.exception, Exception), result.output  # no crash
    assert "a-ssh: the source could not be fetched: the server does not answer as a web server does" in result.output
    assert "b-partners: 3 created" in result.output and organisations(db) == 3


def test_an_editor_may_not_manage_sources(db_path, db, tmp_path, staff, internal):
    site = make_site(db_path, tmp_path, allow=internal.host)
    remembered(db, "partners", f"{internal.url}/orgs.csv")
    client = site.test_client()
    sign_in(client, "editor@example.org")
    assert client.get("/admin/sources").status_code == 403
    token = csrf_from(client.get("/admin/imports").get_data(as_text=True))
    for data in ({"action": "run", "name": "partners"},
                 {"action": "save", "name": "mine", "url": f"{internal.url}/x.csv", "format": "csv"}):
        assert client.post("/admin/sources", data={"csrf_token": token, **data}).status_code == 403
    assert internal.hits == [] and [s["name"] for s in store.sources(db)] == ["partners"]
    assert 'href="/admin/sources"' not in client.get("/admin/imports").get_data(as_text=True)


def test_the_fetched_file_is_gone_after_the_run(db_path, db, tmp_path, internal):
    internal.answers["/orgs.csv"] = (200, {"Content-Type": "text/csv"}, CSV)
    internal.answers["/empty.csv"] = (200, {"Content-Type": "text/csv"}, b"id,name,city\n")
    site = make_site(db_path, tmp_path, allow=internal.host)
    remembered(db, "partners", f"{internal.url}/orgs.csv")
    remembered(db, "empty", f"{internal.url}/empty.csv")
    assert sync.run(str(db_path), "partners", site.config).ok
    assert not sync.run(str(db_path), "empty", site.config).ok
    kept = [p for p in (tmp_path / "uploads").rglob("*") if p.is_file()]
    assert kept == []
    assert organisations(db) == 3


def test_a_run_from_the_sources_page_goes_on_in_the_background(db_path, db, tmp_path, staff, internal, worker_for):
    internal.answers["/orgs.csv"] = (0, {"Content-Type": "text/csv"}, CSV)  # answers when released
    site = make_site(db_path, tmp_path, allow=internal.host)
    remembered(db, "partners", f"{internal.url}/orgs.csv")
    client = site.test_client()
    sign_in(client, "admin@example.org")
    token = csrf_from(client.get("/admin/sources?lang=en").get_data(as_text=True))
    with worker_for(site):  # the job worker pulls it
        answered = client.post("/admin/sources?lang=en", data={"csrf_token": token, "action": "run",
                                                               "name": "partners"})
        assert answered.status_code == 302 and not internal.release.is_set()  # the request did not wait
        deadline = time.monotonic() + 10
        while not internal.hits:  # the worker is fetching it
            assert time.monotonic() < deadline, "the worker did not start the sync"
            time.sleep(0.05)
        page = client.get("/admin/sources?lang=en").get_data(as_text=True)
        assert "Being pulled now" in page
        again = client.post("/admin/sources?lang=en", data={"csrf_token": token, "action": "run", "name": "partners"},
                            follow_redirects=True).get_data(as_text=True)
        assert "is being pulled already" in again  # one run at a time
        internal.release.set()
        deadline = time.monotonic() + 20
        while store.source(db, "partners")["running_since"] is not None and time.monotonic() < deadline:
            time.sleep(0.1)
    assert store.source(db, "partners")["last_outcome"]["ok"] and organisations(db) == 3
    page = client.get("/admin/sources?lang=en").get_data(as_text=True)
    assert "Being pulled now" not in page and "3 created, 0 updated" in page
    assert internal.hits == ["/orgs.csv"]


def test_the_murmurations_index_on_an_internal_address_is_refused(db_path, db, tmp_path, internal):
    from support import make_org

    make_org(db, "Forno Sociale")
    site = make_site(db_path, tmp_path, PUBLIC_URL="https://map.example.org")
    result = site.test_cli_runner().invoke(args=["murmurations", "register", "--index", f"{internal.url}/v2"])
    assert result.exit_code == 1 and REFUSED in result.output
    assert internal.hits == []
