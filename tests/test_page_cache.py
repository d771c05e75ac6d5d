"""Public pages a shared cache may keep (issue 31): the same for every anonymous visitor of
a URL in a language (no cookie, no nonce, validators and public Cache-Control), private for
staff; behind the repository's nginx configuration, a French visitor never gets an English
copy of a page or of the map's answers."""

from __future__ import annotations

import json
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest
from support import sign_in

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import nginx_loopback  # noqa: E402  (the benchmark starts nginx the same way)

PAGES = ("/", "/embed", "/organisations")


def test_an_anonymous_page_is_public_and_sets_no_cookie(demo_client):
    for path in PAGES:
        for asked in (f"{path}?lang=fr", path):
            response = demo_client.get(asked, headers={"Accept-Encoding": "gzip"})
            assert response.status_code == 200
            assert "Set-Cookie" not in response.headers, asked  # not even the language's
            # Kept by shared caches; a browser asks again (a 304), so an owner sees their own change.
            assert response.headers["Cache-Control"].startswith("public, max-age=0, s-maxage=60"), asked
            assert response.headers["ETag"], asked
            assert {"Accept-Language", "Cookie"} <= set(response.vary), asked
            again = demo_client.get(asked, headers={"If-None-Match": response.headers["ETag"],
                                                    "Accept-Encoding": "gzip"})
            assert again.status_code == 304 and not again.data, asked


def test_each_language_has_its_own_validator(demo_client):
    for path in (*PAGES, "/organisations/" + demo_client.get("/api/organisations?limit=1").get_json()["items"][0]["slug"]):
        french, english = demo_client.get(path + "?lang=fr"), demo_client.get(path + "?lang=en")
        assert french.headers["ETag"] != english.headers["ETag"], path
        assert demo_client.get(path + "?lang=en", headers={"If-None-Match": french.headers["ETag"]}).status_code == 200
        by_header = demo_client.get(path, headers={"Accept-Language": "fr"})
        in_english = demo_client.get(path, headers={"Accept-Language": "en"})
        assert by_header.headers["ETag"] != in_english.headers["ETag"] and '<html lang="fr">' in by_header.text


def test_a_shared_page_never_names_the_host_a_request_claims(demo_client):
    slug = demo_client.get("/api/organisations?limit=1").get_json()["items"][0]["slug"]
    for path in PAGES + (f"/organisations/{slug}",):
        page = demo_client.get(path, headers={"Host": "evil.example"}).text
        assert "evil.example" not in page, path  # a proxy would keep it for everyone


def test_a_signed_in_staff_member_gets_a_private_page(app, staff):
    client = app.test_client()
    anonymous = client.get("/")
    sign_in(client, "admin@example.org")
    mine = client.get("/", headers={"If-None-Match": anonymous.headers["ETag"]})
    assert mine.status_code == 200 and "Staff area" in mine.text  # not the anonymous copy
    assert mine.headers["Cache-Control"] == "private, no-cache" and "ETag" not in mine.headers


# Behind nginx, for real: Debian's nginx-light with the repository's configuration.
@pytest.fixture
def proxied(demo_app, live_server_for):
    """The demo app behind nginx configured by deploy/nginx-mapapp.conf: its base URL."""
    if not Path(nginx_loopback.BINARY).exists():
        pytest.fail(f"{nginx_loopback.BINARY} is missing: apt-get install nginx-light")
    # Straight in /tmp: nginx's workers run as another user when started as root, and must
    # reach their cache (pytest's folders are the user's own).
    with tempfile.TemporaryDirectory(prefix="mapapp-nginx-") as tmp, live_server_for(demo_app) as server:
        folder = Path(tmp)
        try:
            with nginx_loopback.running(server.url.removeprefix("http://"), folder) as (base, process):
                deadline = time.monotonic() + 20
                while True:
                    try:
                        urllib.request.urlopen(base + "/healthz", timeout=5).read()
                        break
                    except OSError:
                        if time.monotonic() > deadline or process.poll() is not None:
                            raise
                        time.sleep(0.1)
                yield base
        finally:
            log = folder / "error.log"
            print(log.read_text() if log.exists() else "")  # shown when the test fails


def _get(url: str, **headers) -> tuple[str, str, str]:
    """The page's text, nginx's cache status and its html lang."""
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=30) as answer:
        text = answer.read().decode()
        lang = text.split('<html lang="', 1)[1].split('"', 1)[0] if '<html lang="' in text else ""
        return text, answer.headers.get("X-Cache", ""), lang


def test_nginx_keeps_pages_and_answers_per_language(proxied):
    assert _get(proxied + "/?lang=fr")[1:] == ("MISS", "fr")
    assert _get(proxied + "/?lang=fr")[1:] == ("HIT", "fr")  # kept: no cookie, no nonce
    # The same address asked in other languages: by cookie, by browser setting, never the copy.
    assert _get(proxied + "/", Cookie="lang=fr")[1:] == ("MISS", "fr")
    assert _get(proxied + "/", **{"Accept-Language": "nl-BE,nl;q=0.9"})[1:] == ("MISS", "nl")
    assert _get(proxied + "/", **{"Accept-Language": "nl-BE,nl;q=0.9"})[1:] == ("HIT", "nl")
    assert _get(proxied + "/", Cookie="lang=fr")[1:] == ("HIT", "fr")
    assert _get(proxied + "/", Cookie="lang=xx", **{"Accept-Language": "it"})[2] == "it"  # an unknown cookie: the header
    assert _get(proxied + "/?lang=EN", Cookie="lang=fr")[2] == "en"  # ?lang= wins, whatever its case
    # The facets' labels are translated: a French visitor's list never comes from an English one's.
    english = _get(proxied + "/api/facets", **{"Accept-Language": "en"})[0]
    french, status, _ = _get(proxied + "/api/facets", **{"Accept-Language": "fr"})
    assert status == "MISS" and french != english
    # A popup's organisation, and its page, kept too.
    slug = json.loads(_get(proxied + "/api/organisations?limit=1&lang=fr")[0])["items"][0]["slug"]
    for path in (f"/api/organisations/{slug}?lang=fr", f"/organisations/{slug}?lang=fr"):
        assert _get(proxied + path)[1] == "MISS" and _get(proxied + path)[1] == "HIT", path
    # A signed-in staff member (a session cookie) passes by the cache.
    assert _get(proxied + "/?lang=fr", Cookie="session=x")[1] == "BYPASS"
