"""The map pages without any inline script, in a real browser: the map draws under a CSP of
``script-src 'self'`` with no violation, and a language chosen with ?lang= is remembered by
the browser although the page sets no cookie (issue 31: pages a shared cache may keep)."""

from support import DRAWN_TOTAL, published, route_tiles, settle


def test_the_map_runs_under_the_csp_and_the_language_is_remembered(demo_app, demo_db_path, page, live_server_for):
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    total = len(published(demo_db_path))
    route_tiles(page)
    with live_server_for(demo_app) as server:
        for path in ("/?lang=it", "/embed?lang=it"):
            answer = page.goto(server.url + path)
            assert "Set-Cookie" not in answer.all_headers() and "nonce" not in answer.headers["content-security-policy"]
            page.locator("body[data-map-ready=true]").wait_for(timeout=15_000)
            assert settle(page, DRAWN_TOTAL, total) == total, path
        assert not [p for p in problems if "Content Security Policy" in p or "Refused" in p], problems
        # The next page, without ?lang=, is in the language chosen (the cookie site.js set).
        page.goto(server.url + "/organisations")
        assert page.locator("html").get_attribute("lang") == "it"
