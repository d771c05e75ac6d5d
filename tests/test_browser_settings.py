"""An admin brands the site in the browser (the default view chosen on a small map) and a
French visitor meets it on the map, the directory and an organisation page, and closes the
introduction for good."""

from __future__ import annotations

from support import make_org, open_settled, route_tiles, sign_in_browser

from mapapp import create_app
from mapapp.catalogue import site as store


def test_an_admin_brands_the_site_and_a_french_visitor_sees_it(db_path, db, staff, browser, tmp_path,
                                                               live_server_for):
    app = create_app({"TESTING": True, "DATABASE": str(db_path), "SECRET_KEY": "test",
                      "CACHE_DIR": str(tmp_path / "cache")})
    # In Iceland: without a default view the map fits it; the view chosen below leaves it out.
    org = make_org(db, "Atelier Vélo", city="Reykjavik", country="IS", lat=64.15, lon=-21.94)
    with live_server_for(app) as server:
        staff_side = browser.new_context(viewport={"width": 1280, "height": 900})
        page = staff_side.new_page()
        route_tiles(page)
        sign_in_browser(page, f"{server.url}/admin/settings", "admin@example.org")
        page.fill("#site_name", "Réseau ESS Provence")
        page.click("summary[lang=fr]")
        page.fill("#tagline-fr", "Les artisans du Sud")
        page.fill("#intro-fr", "Bienvenue sur la carte du réseau.")
        page.fill("#primary_colour", "#003366")
        page.fill("#accent_colour", "#8b1a1a")
        assert page.is_hidden("input[name=view_south]")  # the map replaces the numbers
        page.click("#settings-map .leaflet-control-zoom-in")
        page.wait_for_timeout(400)  # Leaflet's zoom animation
        page.click("#use-view")
        page.click("button[type=submit]:has-text('Save the settings')")
        page.wait_for_selector("text=Saved: Site name")
        view = store.read_settings(db)["default_view"]
        staff_side.close()

        visitor = browser.new_context(viewport={"width": 1280, "height": 800}, locale="fr-FR")
        page = visitor.new_page()
        route_tiles(page)
        open_settled(page, f"{server.url}/?lang=fr")
        assert page.inner_text(".site-name") == "Réseau ESS Provence"
        assert page.inner_text(".tagline") == "Les artisans du Sud"
        assert page.title().startswith("Réseau ESS Provence")
        header = page.eval_on_selector(".site-header", "e => getComputedStyle(e).backgroundColor")
        assert header == "rgb(0, 51, 102)"
        button = page.eval_on_selector(".site-intro-close", "e => getComputedStyle(e).backgroundColor")
        assert button == "rgb(139, 26, 26)"
        # The map opens on the view the admin chose, not on the one organisation in Iceland.
        centre = page.evaluate("(() => { const c = window.mapappMap.getCenter(); return [c.lat, c.lng]; })()")
        (south, west), (north, east) = view
        assert abs(centre[0] - (south + north) / 2) < 0.5 and abs(centre[1] - (west + east) / 2) < 0.5
        # The list beside the map is the view's: the organisation in Iceland is outside it.
        assert page.inner_text("#map-status") == "Aucune organisation dans cette partie de la carte. Dézoomez ou changez les filtres."
        assert page.locator("#results li").count() == 0
        assert page.is_visible("text=Bienvenue sur la carte du réseau.")
        page.click(".site-intro-close")
        assert page.is_hidden("#site-intro")
        open_settled(page, f"{server.url}/?lang=fr")
        assert page.is_hidden("#site-intro")  # remembered
        page.goto(f"{server.url}/organisations?lang=fr")
        assert page.inner_text(".site-name") == "Réseau ESS Provence" and page.is_hidden("#site-intro")
        page.goto(f"{server.url}/organisations/{org.slug}?lang=fr")
        assert page.inner_text(".tagline") == "Les artisans du Sud"
        visitor.close()

        newcomer = browser.new_context(viewport={"width": 390, "height": 844}, locale="fr-FR")
        page = newcomer.new_page()
        route_tiles(page)
        page.goto(f"{server.url}/organisations?lang=fr")
        assert page.is_visible("text=Bienvenue sur la carte du réseau.")  # closed elsewhere, not here
        newcomer.close()
