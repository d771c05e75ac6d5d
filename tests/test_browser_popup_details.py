"""What a popup (laptop) and the phone's card show to decide whether to open an
organisation's page: needs and offers as icons read out with their labels, in two groups
told apart by words and drawing, and the nearest possible partners as links, reachable
from the keyboard, with hostile names shown as text."""

from __future__ import annotations

import pytest
from support import make_org, route_tiles
from test_accessibility import serious_violations

HOSTILE = '<img src=x onerror="window.owned=1">{{ 7*7 }} ${x} =1+1'


@pytest.fixture
def partners_app(db_path, db, tmp_path):
    from mapapp import create_app

    make_org(db, "Atelier Lumière", lat=45.76, lon=4.84, description="Un atelier coopératif de réparation.",
             needs={"funding": "", "volunteers": ""}, offers={"equipment": ""})
    make_org(db, HOSTILE, lat=45.77, lon=4.85, offers={"funding": "", "training": ""})
    make_org(db, "Vélo Solidaire", lat=45.80, lon=4.90, needs={"equipment": ""})
    make_org(db, "Brouillon", lat=45.761, lon=4.841, status="draft", offers={"volunteers": ""})
    return create_app({"TESTING": True, "DATABASE": str(db_path), "SECRET_KEY": "test",
                       "CACHE_DIR": str(tmp_path / "cache")})


def spoken(locator) -> str:
    """What a screen reader reads of ``locator``: its text without what is hidden from it."""
    return locator.evaluate("""node => {
        const walk = n => n.nodeType === 3 ? n.textContent
            : (n.getAttribute && n.getAttribute("aria-hidden") === "true") ? ""
            : Array.from(n.childNodes).map(walk).join("");
        return walk(node).replace(/[ \\t\\n]+/g, " ").trim();  // a no-break space is kept
    }""")


def open_map(page, url):
    route_tiles(page)
    page.goto(url)
    page.wait_for_selector("body[data-map-ready=true]")


@pytest.fixture
def laptop(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 800}, bypass_csp=True)  # axe is injected
    yield context.new_page()
    context.close()


def test_a_laptop_popup_shows_icons_and_partners_reachable_by_keyboard(partners_app, laptop, live_server_for,
                                                                       tmp_path):
    page = laptop
    with live_server_for(partners_app) as server:
        for lang, needs, offers, partners, offering in (
                ("fr", "Besoins\u00a0: Financement, Bénévoles", "Offres\u00a0: Équipement",
                 "Partenaires possibles\u00a0:", "(propose\u00a0: financement)"),
                ("el", "Ανάγκες: Χρηματοδότηση, Εθελοντές", "Προσφορές: Εξοπλισμός", "Πιθανοί συνεργάτες:",
                 "(προσφέρει: χρηματοδότηση)")):
            open_map(page, f"{server.url}/?lang={lang}&q=Atelier")
            marker = page.locator('.leaflet-marker-icon[title="Atelier Lumière"]')
            marker.focus()
            page.keyboard.press("Enter")
            page.wait_for_selector(".org-popup[data-loaded=true]")
            popup = page.locator(".org-popup")
            assert spoken(popup.locator(".resource-needs")) == needs
            assert spoken(popup.locator(".resource-offers")) == offers
            assert popup.locator(".resource-needs .resource-item svg path").count() >= 2  # drawn icons
            assert popup.locator(".resource-needs .resource-item").first.get_attribute("title") == needs.split(": ")[1].split(",")[0]
            assert popup.locator(".partners .resource-group").inner_text() == partners
            items = popup.locator(".partner-list li")
            assert items.count() == 2  # the draft never shows
            assert items.nth(0).inner_text() == f"{HOSTILE} {offering}"
            assert items.nth(1).get_by_role("link").inner_text() == "Vélo Solidaire"
            link = popup.get_by_role("link", name=HOSTILE)
            assert link.get_attribute("href").startswith("/organisations/")
            page.screenshot(path=tmp_path / f"popup-laptop-{lang}.png")
            assert not serious_violations(page)
            # From the popup's name (focused by Enter), Tab reaches the partners' links; Escape
            # closes the popup and gives the focus back to the marker.
            assert page.evaluate("document.activeElement.classList.contains('org-popup-name')")
            for _ in range(6):
                page.keyboard.press("Tab")
                if page.evaluate("document.activeElement.textContent") == HOSTILE:
                    break
            else:
                raise AssertionError("the first partner's link was not reached by Tab")
            page.keyboard.press("Tab")
            assert page.evaluate("document.activeElement.textContent") == "Vélo Solidaire"
            page.keyboard.press("Escape")
            page.wait_for_function("() => !document.querySelector('.leaflet-popup')")
            assert page.evaluate("document.activeElement.getAttribute('title')") == "Atelier Lumière"
        assert page.evaluate("window.owned") is None


def test_the_phone_card_shows_labelled_icons_and_partner_links(partners_app, browser, live_server_for, tmp_path):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                                  bypass_csp=True)
    page = context.new_page()
    try:
        with live_server_for(partners_app) as server:
            for lang, needs, partner in (("el", "Ανάγκες: Χρηματοδότηση, Εθελοντές", "(χρειάζεται: εξοπλισμός)"),
                                         ("fr", "Besoins\u00a0: Financement, Bénévoles", "(a besoin de\u00a0: équipement)")):
                open_map(page, f"{server.url}/?lang={lang}&q=Atelier")
                page.locator('.leaflet-marker-icon[title="Atelier Lumière"]').tap()
                card = page.locator(".org-card[data-loaded=true]")
                card.wait_for()
                assert spoken(card.locator(".resource-needs")) == needs
                # No hover on a phone: each icon's label is written beside it.
                assert card.locator(".resource-needs .resource-label").first.is_visible()
                assert card.get_by_role("link", name=HOSTILE).is_visible()
                assert card.locator(".partner-list li").nth(1).inner_text() == f"Vélo Solidaire {partner}"
                box = card.bounding_box()
                assert box["y"] >= 0 and box["y"] + box["height"] <= 844
                page.screenshot(path=tmp_path / f"card-phone-{lang}.png")
                assert not serious_violations(page)
            card.get_by_role("link", name="Vélo Solidaire").click()
            page.wait_for_url("**/organisations/velo-solidaire*")
            assert page.locator("h1").inner_text() == "Vélo Solidaire"
            assert page.evaluate("window.owned") is None
    finally:
        context.close()
