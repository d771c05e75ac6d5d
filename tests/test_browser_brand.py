"""An admin gives the site its logo and switches the EU funding block on, as a person does in a
real browser; a French visitor then sees both, on a laptop and on a phone."""

from __future__ import annotations

import os

from support import make_org, route_tiles, sign_in_browser

LOGO = b"""<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 120 40" width="120" height="40">
  <style>.t { font: bold 20px sans-serif; }</style>
  <rect width="120" height="40" rx="6" fill="#1f5f8b"/><text class="t" x="10" y="27" fill="#fff">ESS</text>
  <script>document.title = "owned"</script></svg>"""


def test_an_admin_sets_logo_and_funding_and_a_french_visitor_sees_them(app, db, staff, page, browser,
                                                                       live_server_for, tmp_path):
    make_org(db, "Atelier Vélo")
    shots = os.environ.get("MAPAPP_SCREENSHOTS") or tmp_path
    logo = tmp_path / "logo.svg"
    logo.write_bytes(LOGO)
    with live_server_for(app) as server:
        route_tiles(page)
        sign_in_browser(page, f"{server.url}/admin/settings/brand", "admin@example.org")
        page.set_input_files("input[name=logo]", str(logo))
        page.click("text=Upload the logo")
        assert "The logo is saved" in page.inner_text(".flash")
        page.check("input[name=funding_enabled]")
        page.click("text=Save the funding block")
        assert "The funding block is saved" in page.inner_text(".flash")

        for name, viewport in (("laptop", {"width": 1366, "height": 768}), ("phone", {"width": 390, "height": 844})):
            context = browser.new_context(viewport=viewport)
            visitor = context.new_page()
            route_tiles(visitor)
            visitor.goto(f"{server.url}/organisations?lang=fr")
            header_logo = visitor.locator("header .site-logo")
            assert header_logo.get_attribute("alt") == "mapapp"
            # The sanitised SVG is served and drawn (its script was dropped and would not run in an <img>).
            assert visitor.evaluate("document.querySelector('header .site-logo').naturalWidth") > 0
            funding = visitor.locator("footer.funding")
            funding.scroll_into_view_if_needed()
            assert funding.is_visible()
            assert "Financé par l'Union européenne" in funding.inner_text()
            assert visitor.evaluate("document.querySelector('footer.funding .eu-emblem').naturalWidth") > 0
            assert visitor.title() != "owned"
            visitor.screenshot(path=f"{shots}/brand-footer-{name}.png", full_page=True)
            visitor.goto(f"{server.url}/?lang=fr")
            visitor.screenshot(path=f"{shots}/brand-map-{name}.png")
            context.close()

        route_tiles(page)
        page.set_viewport_size({"width": 600, "height": 520})
        page.goto(f"{server.url}/embed?lang=fr&height=300")
        assert page.evaluate("document.querySelector('.embed-footer .site-logo').naturalWidth") > 0
        assert "Financé par l'Union européenne" in page.locator("footer.embed-funding").inner_text()
        page.screenshot(path=f"{shots}/brand-embed.png", full_page=True)
