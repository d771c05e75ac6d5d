"""An admin answers a request to erase someone's data, in a real browser: finds what the
catalogue holds about the address (written differently from how it was stored), downloads it,
erases it, and the organisation's public e-mail only once confirmed."""

from __future__ import annotations

import json
from pathlib import Path

from support import make_org, sign_in_browser
from test_personal_data import _contribution, _subscription

from mapapp import catalogue
from mapapp.catalogue import contributions

HOSTILE = "{{ 7*7 }} {% if 1 %}x{% endif %} ${7*7} <img src=x onerror=alert(1)> =1+1"


def test_an_admin_erases_a_contributors_data(app, db, staff, page, live_server_for, tmp_path):
    org = make_org(db, "Eve's Bakery", email="Eve@Example.org")
    cid = _contribution(db, "eve+map@example.org", HOSTILE)
    with catalogue.write_transaction(db):
        contributions.confirm_contribution(db, cid)
    _subscription(db, "EVE@example.org")
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    with live_server_for(app) as server:
        sign_in_browser(page, server.url + "/admin?lang=en", "admin@example.org")
        page.get_by_role("link", name="Personal data").click()
        page.get_by_label("E-mail address").fill("eve+other@EXAMPLE.org")
        page.get_by_role("button", name="Find").click()
        contribution_row = page.locator("#found-contributions tbody tr")
        assert contribution_row.count() == 1 and HOSTILE in contribution_row.inner_text()  # shown as text
        assert page.locator("#found-subscriptions tbody tr").count() == 1
        assert "Eve's Bakery" in page.locator("#found-organisations").inner_text()
        page.screenshot(path=str(tmp_path / "personal-data-found.png"), full_page=True)

        with page.expect_download() as download:
            page.get_by_role("button", name="Download as JSON").click()
        held = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
        assert [c["proposal"]["name"] for c in held["contributions"]] == [HOSTILE]

        page.get_by_label("Also empty the public e-mail of these organisations").check()
        page.get_by_role("button", name="Erase this personal data").click()
        status = page.locator("p.flash").inner_text()
        assert "1 contribution(s), 1 subscription(s), 1 organisation e-mail(s)" in status
        page.screenshot(path=str(tmp_path / "personal-data-erased.png"), full_page=True)

        page.get_by_label("E-mail address").fill("eve@example.org")
        page.get_by_role("button", name="Find").click()
        assert "the catalogue holds nothing about this address" in page.locator("#found").inner_text()
        page.goto(server.url + f"/organisations/{org.slug}?lang=en")
        assert "Eve@Example.org" not in page.content()
    assert dialogs == []
    assert contributions.contribution(db, cid)["email"] == ""
