"""The phone's one-line demo note: cut short to one line, "More" reads it whole, "Less" folds
it back, and the note still puts itself away; on a laptop it is whole and has no button."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from support import route_tiles
from test_browser_phone import PHONE


@pytest.fixture
def shots(tmp_path) -> Path:
    """Where the screenshots go (MAPAPP_SCREENSHOTS to keep them)."""
    folder = Path(os.environ.get("MAPAPP_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_the_phone_demo_note_unfolds_and_folds_back(demo_app, browser, live_server_for, shots):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    route_tiles(page)
    with live_server_for(demo_app) as server:
        page.goto(server.url + "/?lang=el")
        page.wait_for_selector("body[data-map-ready=true]")
        note = page.locator(".fictional-banner")
        text = note.locator(".banner-text")
        folded = note.bounding_box()["height"]
        assert text.evaluate("t => t.scrollWidth > t.clientWidth")  # cut short on one line
        more = note.get_by_role("button", name="Περισσότερα")
        assert more.get_attribute("aria-expanded") == "false"
        more.tap()
        less = note.get_by_role("button", name="Λιγότερα")
        assert less.get_attribute("aria-expanded") == "true"
        assert note.bounding_box()["height"] > folded * 1.5  # the whole note, on more lines
        assert not text.evaluate("t => t.scrollWidth > t.clientWidth")
        page.screenshot(path=shots / "phone-el-note-unfolded.png")
        less.tap()
        assert more.get_attribute("aria-expanded") == "false"
        assert abs(note.bounding_box()["height"] - folded) < 1
        note.get_by_role("button", name="Απόκρυψη αυτής της σημείωσης").tap()
        assert not note.is_visible()
    context.close()


def test_the_laptop_note_is_whole_without_a_more_button(demo_app, page, live_server_for):
    route_tiles(page)
    with live_server_for(demo_app) as server:
        page.goto(server.url + "/?lang=el")
        note = page.locator(".fictional-banner")
        assert "φανταστικοί" in note.inner_text()
        assert note.get_by_role("button").count() == 0
