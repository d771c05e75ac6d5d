"""Cold work under abuse (issue #24): exports, charts and reports that anyone can make the
server compute from scratch with a new filter, distance, language or Host header."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from support import make_org

from mapapp import catalogue, coldwork, create_app
from mapapp.mapdata import exportcache

PUBLIC = "https://map.example.org"


@pytest.fixture
def site(db_path, tmp_path):
    return create_app({"TESTING": True, "DATABASE": str(db_path), "SECRET_KEY": "test",
                       "CACHE_DIR": str(tmp_path / "cache"), "PUBLIC_URL": PUBLIC})


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def _spy_batches(monkeypatch, produced: list, batch: int = 2):
    """Export reads in batches of ``batch``; each batch read appends to ``produced``."""
    real = getattr(catalogue, "iter_export_batches", None)

    def spy(db, filters, **_kw):
        for rows in real(db, filters, batch=batch):
            produced.append(len(rows))
            yield rows

    monkeypatch.setattr(catalogue, "iter_export_batches", spy, raising=False)


# -- the cache cannot be filled by anyone ---------------------------------------

@pytest.mark.slow  # seconds of processes, workers or PDFs: make test runs it, the fast loop does not
def test_many_distinct_exports_leave_no_file_behind(site, db):
    for n in range(3):
        make_org(db, f"Coop {n}", city=f"Town {n}")
    client = site.test_client()
    for n in range(40):  # what a visitor inventing filters sends
        for fmt in ("csv", "geojson", "xlsx", "html"):
            response = client.get(f"/api/organisations.{fmt}?q=Coop+{n}")
            assert response.status_code == 200 and response.data
    assert _files(Path(site.config["CACHE_DIR"]) / "exports") == []


def test_kept_exports_stay_within_their_byte_cap_least_recently_used_first(tmp_path):
    cache = exportcache.ExportCache(tmp_path, max_bytes=1000)
    paths = []
    for n in range(20):
        path = cache.path_for(7, ("csv", n), "csv")
        assert cache.worth_keeping(path, whole_catalogue=True)
        assert b"".join(cache.keep_stream(path, [b"x" * 150, b"y" * 150])) == b"x" * 150 + b"y" * 150
        paths.append(path)
        os.utime(path, (n, n))  # distinct ages, whatever the file system's clock resolution
        if n == 2:
            cache.kept(paths[0])  # the first one is used again: it is the most recent now
    sizes = sum(p.stat().st_size for p in _files(tmp_path))
    assert sizes <= 1000
    assert paths[-1].exists() and paths[0].exists() and not paths[1].exists()
    assert not [p for p in _files(tmp_path) if p.name.startswith(".")]  # no partial file stays


def test_a_filtered_export_is_kept_only_once_asked_for_often(tmp_path):
    cache = exportcache.ExportCache(tmp_path, max_bytes=10**6)
    path = cache.path_for(1, ("csv", "country=FR"), "csv")
    assert [cache.worth_keeping(path, whole_catalogue=False) for _ in range(3)] == [False, False, True]


def test_a_stream_abandoned_half_way_leaves_nothing(tmp_path):
    cache = exportcache.ExportCache(tmp_path, max_bytes=10**6)
    path = cache.path_for(1, ("csv",), "csv")
    stream = cache.keep_stream(path, iter([b"a", b"b", b"c"]), gzip_path=path.with_name(path.name + ".gz"))
    assert next(stream) == b"a"
    stream.close()  # the client went away
    assert _files(tmp_path) == []


# -- streamed: the first byte before the last row is read ------------------------

@pytest.mark.parametrize("fmt", ["csv", "geojson", "essglobal.csv"])
def test_a_large_export_is_streamed_its_first_chunk_before_the_rest_is_read(site, db, monkeypatch, fmt):
    for n in range(12):
        make_org(db, f"Coop {n:02d}")
    produced: list[int] = []
    _spy_batches(monkeypatch, produced)
    response = site.test_client().get(f"/api/organisations.{fmt}?country=FR", buffered=False)
    assert response.status_code == 200
    chunks = iter(response.response)
    first = next(chunks)
    while not produced:  # the header may come before the first batch is read
        first += next(chunks)
    assert 1 <= sum(produced) < 12  # sent while most organisations are still unread
    rest = b"".join(chunks)
    response.close()
    assert sum(produced) == 12 and b"Coop 11" in first + rest


def test_streamed_exports_are_the_same_bytes_as_built_whole(site, db, monkeypatch):
    from mapapp.filters import Filters
    from mapapp.mapdata import exports

    for n in range(7):
        make_org(db, f"Coop {n}", themes=["AM40"], needs={"FOOD": "flour"}, description="=1+1")
    whole = catalogue.export_organisations(db, Filters())
    _spy_batches(monkeypatch, [], batch=3)
    client = site.test_client()
    for fmt, url in (("csv", "csv"), ("essglobal", "essglobal.csv"), ("geojson", "geojson")):
        base = "" if fmt == "geojson" else PUBLIC
        expected = exports.export(whole, fmt, lang="en", base_url=base)
        assert client.get(f"/api/organisations.{url}?theme=AM40").data == expected


# -- no Host header in what is computed or kept ---------------------------------

def test_another_host_header_gets_the_same_bytes_and_no_second_kept_file(site, db):
    make_org(db, "Coop Alpha")
    client = site.test_client()
    for fmt in ("csv", "html", "ttl"):
        ours = client.get(f"/api/organisations.{fmt}").data
        theirs = client.get(f"/api/organisations.{fmt}", headers={"Host": "evil.example"}).data
        assert ours == theirs and b"evil.example" not in theirs
        assert f"{PUBLIC}/organisations/coop-alpha".encode() in ours
    kept = [p for p in _files(Path(site.config["CACHE_DIR"]) / "exports") if not p.name.endswith(".gz")]
    assert len(kept) == 3  # one per format, not one per Host


def test_feeds_and_profiles_link_to_the_configured_address_not_the_host_header(site, db):
    make_org(db, "Coop Alpha")
    client = site.test_client()
    for url in ("/feed.atom", "/murmurations/organisations/coop-alpha.json"):
        ours = client.get(url).data
        theirs = client.get(url, headers={"Host": "evil.example"}).data
        assert ours == theirs and b"evil.example" not in theirs and PUBLIC.encode() in ours


# -- a client's cold work is bounded; others are still served --------------------

def test_a_client_over_its_cold_budget_gets_429_while_another_is_served(db_path, tmp_path, db):
    site = create_app({"TESTING": True, "DATABASE": str(db_path), "SECRET_KEY": "test",
                       "CACHE_DIR": str(tmp_path / "cache"), "COLD_PER_CLIENT": 1})
    for n in range(5):
        make_org(db, f"Coop {n}")
    greedy = site.test_client()
    greedy.environ_base["REMOTE_ADDR"] = "2001:db8:1:2::1"
    running = greedy.get("/api/organisations.csv?q=Coop", buffered=False)  # sent slowly: still computing
    assert running.status_code == 200
    same_host = site.test_client()
    same_host.environ_base["REMOTE_ADDR"] = "2001:db8:1:2:ffff::9"  # the same /64
    for client, url in ((greedy, "/api/organisations.geojson?q=Coop+1"),
                        (same_host, "/api/organisations.xlsx?q=Coop+2")):
        refused = client.get(url)
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
        body = refused.get_json()
        assert body["ok"] is False and body["status"] == 429 and "try again" in body["error"]
    other = site.test_client()
    other.environ_base["REMOTE_ADDR"] = "2001:db8:1:3::1"  # another /64
    assert other.get("/api/organisations.geojson?q=Coop+1").status_code == 200
    b"".join(running.response)
    running.close()
    assert greedy.get("/api/organisations.geojson?q=Coop+1").status_code == 200  # its slot came back


def test_the_limiter_refuses_past_the_total_and_forgets_idle_clients():
    limiter = coldwork.ColdLimiter(per_client=2, total=3)
    releases = [limiter.enter(f"client {n}") for n in range(3)]
    with pytest.raises(coldwork.Busy):
        limiter.enter("client 9")
    for release in releases:
        release()
        release()  # a second close changes nothing
    assert limiter._running == {}
    with limiter.slot("client 9"):
        pass


def test_ipv6_clients_are_counted_per_64_and_ipv4_per_address():
    key = lambda address: coldwork.client_key(address, "secret")  # noqa: E731
    assert key("2001:db8:1:2::1") == key("2001:db8:1:2:abcd::5") != key("2001:db8:1:3::1")
    assert key("192.0.2.1") != key("192.0.2.2")
    assert key("::ffff:192.0.2.1") == key("192.0.2.1")
    assert key("fe80::1%eth0") == key("fe80::2")  # a scoped address too


def test_locks_are_a_fixed_pool_whatever_the_number_of_keys(tmp_path):
    pool = coldwork.LockPool(tmp_path, size=8)
    for n in range(300):
        with pool.hold(f"export {n}"):
            pass
    assert len(_files(tmp_path)) <= 8


def followers_counted(monkeypatch) -> list:
    """Each caller of ``SingleFlight.do`` that waits for another's result appends to the list."""
    waiting: list = []

    class Counted(coldwork._Call):
        def __init__(self):
            super().__init__()
            wait = self.done.wait
            self.done.wait = lambda timeout=None: (waiting.append(1), wait(timeout))[1]

    monkeypatch.setattr(coldwork, "_Call", Counted)
    return waiting


def until(condition, seconds: float = 10) -> None:
    """Wait (polling) for ``condition()`` to hold: threads reaching a known point."""
    gate = threading.Event()
    for _ in range(int(seconds * 100)):
        if condition():
            return
        gate.wait(0.01)
    raise AssertionError("the threads never got there")


def test_single_flight_computes_once_for_concurrent_callers_and_keeps_no_key(monkeypatch):
    waiting = followers_counted(monkeypatch)
    flight = coldwork.SingleFlight()
    calls, results = [], []
    barrier = threading.Barrier(6)

    def make():
        calls.append(1)
        until(lambda: len(waiting) == 5)  # every other caller is waiting for this result
        return "drawn"

    def ask():
        barrier.wait(5)
        results.append(flight.do("key", make))

    threads = [threading.Thread(target=ask) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert results == ["drawn"] * 6 and len(calls) == 1 and flight._calls == {}


# -- charts and reports: each key computed once, distance only where it matters ---

@pytest.fixture
def network(db):
    """Four organisations, two needing what the others offer, members of one project."""
    a = make_org(db, "Atelier A", needs={"premises": ""}, themes=["AM40"])
    b = make_org(db, "Bureau B", lat=45.80, lon=4.90, offers={"premises": "a room"}, themes=["AM40"])
    make_org(db, "Coop C", country="PL", city="Warsaw", lat=52.23, lon=21.01, needs={"funding": ""})
    make_org(db, "Dom D", country="PL", city="Kraków", lat=50.06, lon=19.94, offers={"funding": ""})
    catalogue.save_project(db, {"slug": "visits-2026", "name": "Study visits 2026"})
    for saved in (a, b):
        catalogue.link_organisation(db, saved.id, projects=["visits-2026"])


def _drawn(monkeypatch) -> list:
    from mapapp.insights import charts

    drawn, real = [], charts.draw
    monkeypatch.setattr(charts, "draw", lambda chart, fmt, **kw: drawn.append(chart.name) or real(chart, fmt, **kw))
    return drawn


def test_a_changed_distance_does_not_redraw_a_chart_that_does_not_depend_on_it(site, network, monkeypatch):
    from mapapp.insights import numbers

    drawn = _drawn(monkeypatch)
    computed = []
    real_compute = numbers.compute
    monkeypatch.setattr(numbers, "compute", lambda *a, **kw: computed.append(kw.get("km")) or real_compute(*a, **kw))
    client = site.test_client()
    pictures = {client.get(f"/stats/countries.svg?km={km}").data for km in (10, 20, 30, 40)}
    assert len(pictures) == 1 and drawn == ["countries"] and len(computed) == 1
    client.get("/stats/resources.svg?km=10")
    client.get("/stats/resources.svg?km=2000")
    assert drawn == ["countries", "resources", "resources"]  # "nearby" is in this one


def test_concurrent_identical_chart_requests_draw_it_once(site, network, monkeypatch):
    arrived, drawn = [], []
    site.before_request(lambda: arrived.append(1) and None)
    assert site.test_client().get("/stats").status_code == 200  # the figures are ready; the pictures are not
    from mapapp.insights import charts

    real = charts.draw

    def slow_draw(chart, fmt, **kw):
        drawn.append(chart.name)
        until(lambda: len(arrived) >= 6)  # the five requests have come in (after /stats) while this one draws
        return real(chart, fmt, **kw)

    monkeypatch.setattr(charts, "draw", slow_draw)
    barrier, bodies = threading.Barrier(5), []

    def ask():
        barrier.wait(5)
        bodies.append(site.test_client().get("/stats/themes.png").data)

    threads = [threading.Thread(target=ask) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert drawn == ["themes"] and len(bodies) == 5 and len(set(bodies)) == 1


@pytest.mark.slow  # seconds of processes, workers or PDFs: make test runs it, the fast loop does not
def test_concurrent_identical_pdf_requests_make_it_once(site, network, monkeypatch, worker_for):
    from mapapp.insights import report

    arrived, made = [], []
    site.before_request(lambda: arrived.append(1) and None)

    def pdf(html):
        made.append(1)
        until(lambda: len(arrived) >= 4)  # every request has come in while this one is made
        return b"%PDF-1.7 made once"

    monkeypatch.setattr(report, "pdf", pdf)
    barrier, bodies = threading.Barrier(4), []

    def ask():
        barrier.wait(5)
        bodies.append(site.test_client().get("/projects/visits-2026/report.pdf").data)

    threads = [threading.Thread(target=ask) for _ in range(4)]
    with worker_for(site):  # the job worker makes the report, once for all who asked
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert made == [1] and bodies == [b"%PDF-1.7 made once"] * 4
        assert site.test_client().get("/projects/visits-2026/report.pdf?lang=fr").data == b"%PDF-1.7 made once"
    assert made == [1, 1]  # another language is another report
    assert len(list((Path(site.config["CACHE_DIR"]) / "reports").glob("*.pdf"))) == 2


def test_a_client_over_its_budget_gets_429_for_a_new_drawing_another_is_served(site, network, monkeypatch):
    monkeypatch.setattr(coldwork, "DRAWING_WAIT", 0)
    client = site.test_client()
    assert client.get("/stats").status_code == 200
    with site.app_context():
        limiter = site.extensions["mapapp.cold"]
    busy = coldwork.client_key("127.0.0.1", site.config["SECRET_KEY"])
    held = [limiter.enter(busy) for _ in range(int(site.config["COLD_PER_CLIENT"]))]  # e.g. two exports
    refused = client.get("/stats/themes.png?lang=fr")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert "réessayez" in refused.get_data(as_text=True).lower()  # the page, in the visitor's language
    other = site.test_client()
    other.environ_base["REMOTE_ADDR"] = "192.0.2.7"
    assert other.get("/stats/themes.png").status_code == 200
    for release in held:
        release()
    assert client.get("/stats/themes.png").status_code == 200


def _make_once(path: str, locks: str, arrivals: str, made: str, processes: int) -> None:
    """One worker process asking for the file at ``path`` (see the test below)."""
    Path(arrivals, str(os.getpid())).touch()

    def make() -> bytes:
        with open(made, "a") as f:
            f.write("made\n")
        until(lambda: len(os.listdir(arrivals)) >= processes)  # all have asked meanwhile
        return b"%PDF-1.7 once"

    assert coldwork.file_once(Path(path), make, coldwork.LockPool(locks)).read_bytes() == b"%PDF-1.7 once"


def test_worker_processes_asking_for_the_same_report_make_it_once(tmp_path):
    import multiprocessing

    arrivals, made = tmp_path / "arrived", tmp_path / "made.txt"
    arrivals.mkdir()
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_make_once, args=(str(tmp_path / "reports" / "v1-x.pdf"), str(tmp_path / "locks"),
                                                          str(arrivals), str(made), 3)) for _ in range(3)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(30)
    assert [w.exitcode for w in workers] == [0, 0, 0]
    assert made.read_text() == "made\n"
