"""Embedding and exports in a real browser: partner pages, locked filters, the HTML export."""

import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

from support import DRAWN_TOTAL, published, route_tiles, settle

from mapapp import catalogue
from mapapp.filters import Filters
from mapapp.mapdata import exports


class PartnerSite:
    """A partner's page served from another origin (127.0.0.2)."""

    def __init__(self, directory):
        handler = partial(SimpleHTTPRequestHandler, directory=str(directory))
        handler.log_message = lambda *a: None
        self.server = ThreadingHTTPServer(("127.0.0.2", 0), handler)
        self.url = f"http://127.0.0.2:{self.server.server_port}"

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def test_partner_page_shows_the_iframe_and_the_script_resizes_it(demo_app, demo_db_path, page, tmp_path,
                                                                  live_server_for):
    italian = len(published(demo_db_path, country=("IT",)))
    with live_server_for(demo_app) as server:
        embed = f"{server.url}/embed?country=IT&lock=country&height=300"
        (tmp_path / "index.html").write_text(f"""<!DOCTYPE html><html><body>
          <h1>Partner</h1>
          <iframe id="plain" src="{embed}" title="Map" width="600" height="420" loading="lazy"></iframe>
          <div id="scripted"><script src="{server.url}/embed.js" data-map="{embed}" data-title="Map"
            data-height="900"></script></div></body></html>""")
        route_tiles(page)
        with PartnerSite(tmp_path) as partner:
            page.goto(partner.url + "/index.html")
            plain = page.frame_locator("#plain")
            plain.locator("body[data-map-ready=true]").wait_for(timeout=15_000)
            scripted = page.locator("#scripted iframe")
            assert scripted.get_attribute("title") == "Map"
            assert scripted.get_attribute("loading") == "lazy"
            # The script's iframe starts at 900px and is resized to the map's own height.
            assert settle(page, "document.querySelector('#scripted iframe').getBoundingClientRect().height < 800",
                          True) is True
            height = page.evaluate("document.querySelector('#scripted iframe').getBoundingClientRect().height")
            assert 300 <= height < 800
            embeds = [f for f in page.frames if f.url.startswith(embed)]
            assert len(embeds) == 2  # the plain iframe and the one the script inserted
            for f in embeds:
                f.wait_for_selector("body[data-map-ready=true]")
                assert settle(f, DRAWN_TOTAL, italian) == italian


def test_a_foreign_page_cannot_resize_the_iframe(demo_app, page, tmp_path, live_server_for):
    with live_server_for(demo_app) as server:
        (tmp_path / "index.html").write_text(f"""<!DOCTYPE html><html><body>
          <script src="{server.url}/embed.js" data-map="{server.url}/embed?height=300" data-height="700"></script>
          </body></html>""")
        route_tiles(page)
        with PartnerSite(tmp_path) as partner:
            page.goto(partner.url + "/index.html")
            page.frame_locator("iframe").locator("body[data-map-ready=true]").wait_for(timeout=15_000)
            page.wait_for_timeout(300)
            page.evaluate("window.postMessage({type: 'mapapp:height', height: 2000}, '*')")  # same page, wrong origin
            page.wait_for_timeout(300)
            assert page.evaluate("document.querySelector('iframe').getBoundingClientRect().height") < 1000


def test_locked_embed_offers_no_way_out(demo_app, demo_db_path, page, live_server_for):
    italian = published(demo_db_path, country=("IT",))
    italian_education = published(demo_db_path, country=("IT",), theme=("AM40",))
    route_tiles(page)
    with live_server_for(demo_app) as server:
        page.goto(server.url + "/embed?country=IT&lock=country")
        page.wait_for_selector("body[data-map-ready=true]")
        assert settle(page, DRAWN_TOTAL, len(italian)) == len(italian)
        page.locator(".embed-toggle").click()  # the locked country's list is open already
        countries = page.locator("input[name=country]")
        assert countries.count() == 1 and countries.first.get_attribute("value") == "IT"
        countries.first.uncheck()  # unchecking the locked value keeps it: nothing shows outside Italy
        page.wait_for_timeout(500)
        assert settle(page, DRAWN_TOTAL, len(italian)) == len(italian)
        assert "country=IT" in page.url
        page.locator("details[data-kind=theme] summary").click()
        page.get_by_label("Education").check()  # another filter narrows within the lock
        assert settle(page, DRAWN_TOTAL, len(italian_education)) == len(italian_education)
        full = page.locator("#full-map").get_attribute("href")
        assert "country=IT" in full and "theme=AM40" in full
        with page.expect_popup() as popup:
            page.locator("#full-map").click()
        assert "country=IT" in popup.value.url


def test_html_export_opens_from_disk_with_markers(demo_db, browser, tmp_path):
    orgs = catalogue.export_organisations(demo_db, Filters(country=("BE",)))
    path = tmp_path / "map.html"
    path.write_bytes(exports.export(orgs, "html", lang="en", base_url="http://127.0.0.1:5000",
                                    tile_url="https://tile.openstreetmap.org/{z}/{x}/{y}.png",
                                    attribution="OpenStreetMap"))
    context = browser.new_context()
    page = context.new_page()
    requested = []
    page.on("request", lambda r: requested.append(r.url))
    route_tiles(page)
    try:
        page.goto(path.as_uri())
        page.wait_for_selector(".marker-cluster, path.leaflet-interactive", timeout=10_000)
        assert settle(page, DRAWN_TOTAL + " + document.querySelectorAll('path.leaflet-interactive').length",
                      len(orgs)) == len(orgs)
        assert all(u.startswith(("file:", "data:", "https://tile.openstreetmap.org")) for u in requested)
    finally:
        context.close()


def test_the_oembed_frame_holds_all_of_the_embed(demo_app, browser, live_server_for):
    """A site that pastes the oEmbed snippet shows the whole embed, bar and footer included,
    with no scroll bar in the frame (in a wordy language on a narrow page too)."""
    from urllib.parse import quote

    context = browser.new_context(viewport={"width": 400, "height": 900})
    page = context.new_page()
    route_tiles(page)
    try:
        with live_server_for(demo_app) as server:
            for query in ("lang=en", "lang=pl", "lang=el&controls=0"):
                url = quote(f"http://localhost/?country=IT&{query}", safe="")
                snippet = demo_app.test_client().get(f"/oembed?url={url}").get_json()["html"]
                height = int(snippet.split('height="')[1].split('"')[0])
                src = snippet.split('src="')[1].split('"')[0].replace("&amp;", "&")
                page.goto(src.replace("http://localhost", server.url))
                page.wait_for_selector("body[data-map-ready=true]")
                content = page.evaluate("document.querySelector('.embed-layout').getBoundingClientRect().height")
                assert content <= height, (query, content, height)
    finally:
        context.close()
