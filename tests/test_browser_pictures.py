"""Issue #28, "Done means" 5: a staff member uploads a photo taken with a phone that wrote where it
was taken (GPS in its EXIF) through the organisation's edit page, in a real browser; the served
picture carries no EXIF and no GPS, and the photo shows, with its alt text, on the organisation's
page and in its popup on the map."""

from __future__ import annotations

import io
import os

from PIL import Image
from support import make_org, route_tiles, sign_in_browser
from test_pictures import photo_with_gps


def test_a_photo_with_gps_uploaded_in_the_browser_shows_without_its_location(app, db, staff, page, browser,
                                                                             live_server_for, tmp_path):
    org = make_org(db, "Atelier Vélo", slug="atelier-velo")
    shots = os.environ.get("MAPAPP_SCREENSHOTS") or tmp_path
    photo = tmp_path / "IMG_0001.jpg"
    photo.write_bytes(photo_with_gps())
    assert b"GPS" in photo.read_bytes() or Image.open(photo).getexif().get_ifd(0x8825)  # the file does carry it
    with live_server_for(app) as server:
        route_tiles(page)
        sign_in_browser(page, f"{server.url}/admin/organisations/{org.id}/edit", "admin@example.org")
        form = page.locator("#picture-add")
        form.locator("input[name=picture]").set_input_files(str(photo))
        form.locator("input[name=alt]").fill("Bicycles repaired in the workshop")
        form.locator("button[type=submit]").click()
        assert "The photo is added." in page.inner_text(".flash")
        assert page.locator("#pictures .picture-item img").get_attribute("alt") == "Bicycles repaired in the workshop"
        page.locator("#pictures").screenshot(path=f"{shots}/pictures-staff-form.png")

        page.goto(f"{server.url}/organisations/atelier-velo")
        gallery = page.locator(".org-gallery img")
        assert gallery.get_attribute("alt") == "Bicycles repaired in the workshop"
        assert page.evaluate("document.querySelector('.org-gallery img').naturalWidth") > 0
        page.screenshot(path=f"{shots}/pictures-organisation.png", full_page=True)
        full = page.locator(".org-gallery a").get_attribute("href")
        served = page.request.get(f"{server.url}{full}")
        assert served.headers["content-type"] == "image/webp"
        assert "immutable" in served.headers["cache-control"]
        body = served.body()
        assert b"GPS" not in body and b"Exif" not in body
        assert not dict(Image.open(io.BytesIO(body)).getexif())

        for name, viewport in (("laptop", {"width": 1366, "height": 768}), ("phone", {"width": 390, "height": 844})):
            context = browser.new_context(viewport=viewport)
            visitor = context.new_page()
            route_tiles(visitor)
            visitor.goto(f"{server.url}/?q=atelier")
            visitor.wait_for_selector("body[data-map-ready=true]")
            visitor.locator('.leaflet-marker-icon[title="Atelier Vélo"]').click()
            # A laptop opens the popup; a phone the card at the bottom of the screen.
            shown = ".org-popup .org-popup-picture" if name == "laptop" else ".org-card .org-card-picture"
            visitor.wait_for_selector(".org-popup[data-loaded=true]" if name == "laptop" else ".org-card[data-loaded=true]")
            picture = visitor.locator(shown)
            assert picture.get_attribute("alt") == "Bicycles repaired in the workshop"
            visitor.wait_for_function("(shown) => document.querySelector(shown).naturalWidth > 0", arg=shown)
            visitor.screenshot(path=f"{shots}/pictures-popup-{name}.png")
            context.close()
