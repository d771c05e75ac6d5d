"""The category tree in the staff area (/admin/categories): a two-level tree made in French
with colours and icons, renamed, reordered, merged (organisations move), retired while in use
(asking where its organisations go), restored; errors a staff member can act on; editors
look but do not change; hostile names shown as text."""

from __future__ import annotations

import os
import re

from support import csrf_from, make_org, shows_49, sign_in, sign_in_browser

from mapapp import accounts
from mapapp.catalogue import categories as store

HOSTILE = "{{7*7}} {% if 1 %}x{% endif %} ${7*7} <script>alert(1)</script> javascript:alert(1) =1+1 \r\n \ufffe"


def _token(client, url="/admin/categories"):
    return csrf_from(client.get(url).get_data(as_text=True))


def _add(client, parent="", **fields):
    data = {"csrf_token": _token(client), "parent": parent, "colour": "#1f6f8b", "colour_was": "#1f6f8b",
            "colour_picker": "#1f6f8b", "icon": "", "essglobal": "", **fields}
    return client.post("/admin/categories", data=data)


def _by_code(db, code):
    return next(c for c in store.all_categories(db, retired=True) if c.code == code)


def _themes(db, org_id):
    return [r[0] for r in db.execute("SELECT theme FROM organisation_themes WHERE organisation_id = ? ORDER BY rank, theme",
                                     [org_id])]


def _tree_text(client):
    """The tree as the page lists it: each category's label, in order, children indented."""
    page = client.get("/admin/categories?lang=fr").get_data(as_text=True)
    tree = page.split('id="category-tree"', 1)[1].split("<h2", 1)[0]
    return [("  " if "category-child" in cls else "") + label
            for cls, label in re.findall(r'<li id="category-\d+" class="([^"]*)">.*?<a href="[^"]+">([^<]+)</a>', tree, re.S)]


def test_a_two_level_tree_in_french_with_colours_and_icons(client, db, staff):
    sign_in(client, "admin@example.org")
    client.get("/?lang=fr")
    answer = _add(client, label_fr="Bâtiment", label_en="Building", colour="#C0392B", icon="building",
                  essglobal="AM90", aliases="BTP\nconstruction")
    assert answer.status_code == 302
    parent = _by_code(db, "batiment")
    assert (parent.colour, parent.icon, parent.essglobal, parent.aliases) == ("#c0392b", "building", "AM90",
                                                                             ("BTP", "construction"))
    assert _add(client, parent=str(parent.id), label_fr="Plomberie", colour="#2471a3", icon="droplet").status_code == 302
    assert _add(client, parent=str(parent.id), label_fr="Isolation", icon="home").status_code == 302
    child = _by_code(db, "plomberie")
    assert child.parent_id == parent.id
    # Never under a child: the tree has two levels.
    refused = _add(client, parent=str(child.id), label_fr="Robinets")
    assert refused.status_code == 400 and "deux niveaux" in refused.get_data(as_text=True)
    # A name another category has would leave imports guessing; a retired one's code stays its own.
    twice = _add(client, label_fr="batiment")
    assert twice.status_code == 400 and "déjà un nom de la catégorie Building (batiment)" in twice.get_data(as_text=True)
    client.post(f"/admin/categories/{_by_code(db, 'isolation').id}/retire", data={"csrf_token": _token(client), "into": ""})
    _add(client, parent=str(parent.id), label_fr="Isolation")
    assert _by_code(db, "isolation-2").parent_id == parent.id
    org = make_org(db, "Plombiers réunis", themes=["plomberie"])
    make_org(db, "Maçons", themes=["batiment"])
    page = client.get("/admin/categories").get_data(as_text=True)
    row = page.split(f'id="category-{parent.id}"', 1)[1]
    assert "ESSGLOBAL AM90 · Logement" in row.split("category-child", 1)[0]
    assert 'style="background: #c0392b"' in row and "<path" in row
    assert "2 organisations avec ses sous-catégories" in row and "(1 en propre)" in row
    assert _tree_text(client)[16:] == ["Bâtiment", "  Plomberie", "  Isolation"]
    assert _themes(db, org.id) == ["plomberie"]
    assert f"catégorie n° {parent.id} modifiée (Catégories)" in client.get("/admin").get_data(as_text=True)


def test_rename_reorder_and_move_under_another_parent(client, db, staff):
    sign_in(client, "admin@example.org")
    client.get("/?lang=fr")
    _add(client, label_fr="Bâtiment")
    parent = _by_code(db, "batiment")
    for name in ("Plomberie", "Isolation", "Charpente"):
        _add(client, parent=str(parent.id), label_fr=name)
    plomberie = _by_code(db, "plomberie")
    page = client.get(f"/admin/categories/{plomberie.id}").get_data(as_text=True)
    assert 'value="Plomberie"' in page
    answer = client.post(f"/admin/categories/{plomberie.id}",
                         data={"csrf_token": csrf_from(page), "label_fr": "Plomberie et chauffage",
                               "label_it": "Idraulica", "colour": "#123ABC", "colour_was": "#1f6f8b",
                               "colour_picker": "#1f6f8b", "icon": "flame", "essglobal": ""})
    assert answer.status_code == 302
    renamed = _by_code(db, "plomberie")
    assert renamed.labels == {"fr": "Plomberie et chauffage", "it": "Idraulica"}
    assert (renamed.colour, renamed.icon) == ("#123abc", "flame")
    token = _token(client)
    client.post(f"/admin/categories/{_by_code(db, 'charpente').id}/move", data={"csrf_token": token, "step": "up"})
    assert _tree_text(client)[-4:] == ["Bâtiment", "  Plomberie et chauffage", "  Charpente", "  Isolation"]
    client.post(f"/admin/categories/{renamed.id}/move", data={"csrf_token": token, "step": "down"})
    assert _tree_text(client)[-3:] == ["  Charpente", "  Plomberie et chauffage", "  Isolation"]
    client.post(f"/admin/categories/{parent.id}/move", data={"csrf_token": token, "step": "up"})
    assert _tree_text(client)[-5:] == ["Bâtiment", "  Charpente", "  Plomberie et chauffage", "  Isolation",
                                       "Transport"]
    # To the top level, then under another parent.
    client.post(f"/admin/categories/{renamed.id}/move", data={"csrf_token": token, "parent": ""})
    assert _tree_text(client)[-1] == "Plomberie et chauffage"
    education = _by_code(db, "AM40")
    client.post(f"/admin/categories/{renamed.id}/move", data={"csrf_token": token, "parent": str(education.id)})
    assert _by_code(db, "plomberie").parent_id == education.id
    # A parent with children stays at the top level.
    client.post(f"/admin/categories/{parent.id}/move", data={"csrf_token": token, "parent": str(education.id)})
    assert _by_code(db, "batiment").parent_id is None


def test_merge_moves_organisations_keeping_the_main_category_and_restore_takes_it_back(client, db, staff):
    sign_in(client, "admin@example.org")
    client.get("/?lang=fr")
    _add(client, label_fr="Menuiserie")
    _add(client, label_fr="Charpente")
    menuiserie, charpente = _by_code(db, "menuiserie"), _by_code(db, "charpente")
    only = make_org(db, "Atelier Bois", themes=["menuiserie", "AM40"])
    both = make_org(db, "Les Charpentiers", themes=["AM40", "charpente", "menuiserie"])
    page = client.get(f"/admin/categories/{menuiserie.id}/retire?merge=1").get_data(as_text=True)
    assert "2 organisations la portent" in page
    answer = client.post(f"/admin/categories/{menuiserie.id}/retire",
                         data={"csrf_token": csrf_from(page), "merge": "1", "into": str(charpente.id)})
    assert answer.status_code == 302
    assert _themes(db, only.id) == ["charpente", "AM40"]  # still its main category
    assert _themes(db, both.id) == ["AM40", "charpente"]  # once
    listing = client.get("/admin/categories").get_data(as_text=True)
    assert "Catégories retirées" in listing and "Menuiserie" in listing.split('id="retired"', 1)[1]
    assert "Menuiserie" not in listing.split('id="retired"', 1)[0].split('id="category-tree"', 1)[1]
    client.post(f"/admin/categories/{menuiserie.id}/restore", data={"csrf_token": _token(client)})
    assert _themes(db, only.id) == ["menuiserie", "AM40"]
    assert _themes(db, both.id) == ["AM40", "charpente", "menuiserie"]
    assert not _by_code(db, "menuiserie").retired


def test_retiring_a_category_in_use_asks_where_its_organisations_go(client, db, staff):
    sign_in(client, "admin@example.org")
    client.get("/?lang=fr")
    _add(client, label_fr="Bâtiment")
    parent = _by_code(db, "batiment")
    _add(client, parent=str(parent.id), label_fr="Plomberie")
    plumber = make_org(db, "Plombiers réunis", themes=["plomberie"])
    mason = make_org(db, "Maçons", themes=["AM90", "batiment"])
    page = client.get(f"/admin/categories/{parent.id}/retire").get_data(as_text=True)
    assert "2 organisations la portent" in page
    assert "Plomberie" in page.split('id="retire-children"', 1)[1].split("</p>", 1)[0]
    housing = _by_code(db, "AM90")
    answer = client.post(f"/admin/categories/{parent.id}/retire",
                         data={"csrf_token": csrf_from(page), "merge": "0", "into": str(housing.id)})
    assert answer.status_code == 302
    assert _themes(db, plumber.id) == ["AM90"] and _themes(db, mason.id) == ["AM90"]
    assert _by_code(db, "plomberie").retired and _by_code(db, "batiment").retired
    listing = client.get("/admin/categories").get_data(as_text=True)
    assert "Bâtiment" not in listing.split('id="category-tree"', 1)[1].split('id="new-category"', 1)[0]
    # Retired to nowhere: the organisations lose it.
    _add(client, label_fr="Isolation")
    insulator = make_org(db, "Isolants", themes=["isolation", "AM90"])
    isolation = _by_code(db, "isolation")
    client.post(f"/admin/categories/{isolation.id}/retire", data={"csrf_token": _token(client), "merge": "0", "into": ""})
    assert _themes(db, insulator.id) == ["AM90"]
    # Restoring the parent brings back its child and every organisation's categories.
    client.post(f"/admin/categories/{parent.id}/restore", data={"csrf_token": _token(client)})
    assert _themes(db, plumber.id) == ["plomberie"] and _themes(db, mason.id) == ["AM90", "batiment"]
    assert _tree_text(client)[-2:] == ["Bâtiment", "  Plomberie"]
    assert not _by_code(db, "plomberie").retired and _by_code(db, "plomberie").parent_id == parent.id


def test_errors_say_what_to_fix(client, db, staff):
    sign_in(client, "admin@example.org")
    client.get("/?lang=en")
    for fields, said in (({"label_fr": ""}, "at least one language"),
                         ({"label_fr": "X", "colour": "red; background: url(x)"}, "is not a colour"),
                         ({"label_fr": "X", "icon": "../../etc/passwd"}, "is not an icon of the set"),
                         ({"label_fr": "X", "icon": "no-such-icon-here"}, "is not an icon of the set"),
                         ({"label_fr": "X", "essglobal": "AM999"}, "not one of AM10"),
                         ({"label_fr": "X" * 101}, "too long"),
                         ({"label_fr": "Éducation "}, "already a name of the category Education (AM40)"),
                         ({"label_fr": "X", "aliases": "Y\nARTISANAT"}, "already a name of the category Arts")):
        answer = _add(client, **fields)
        assert answer.status_code == 400, fields
        assert said in answer.get_data(as_text=True), fields
    assert not any(c.code == "x" for c in store.all_categories(db, retired=True))
    # The colour picked, when the text box was left as it was, is the one kept.
    _add(client, label_en="Picked", colour="#1f6f8b", colour_was="#1f6f8b", colour_picker="#ABCDEF")
    assert _by_code(db, "picked").colour == "#abcdef"
    category = _by_code(db, "picked")
    merge = client.post(f"/admin/categories/{category.id}/retire",
                        data={"csrf_token": _token(client), "merge": "1", "into": ""})
    assert merge.status_code == 400 and "Choose the category" in merge.get_data(as_text=True)
    itself = client.post(f"/admin/categories/{category.id}/retire",
                         data={"csrf_token": _token(client), "merge": "1", "into": str(category.id)})
    assert itself.status_code == 400 and not _by_code(db, "picked").retired
    # No form without its CSRF token.
    assert client.post("/admin/categories", data={"label_en": "No token"}).status_code == 400


def test_editors_look_but_do_not_change(client, db, staff):
    accounts.set_moderation_scope(db, staff["editor"].id, "BE", "")  # a partner editor, limited to a country
    sign_in(client, "editor@example.org")
    page = client.get("/admin/categories")
    assert page.status_code == 200 and "Education" in page.get_data(as_text=True)
    assert "Add a category" not in page.get_data(as_text=True)
    education = _by_code(db, "AM40")
    token = csrf_from(client.get(f"/admin/categories/{education.id}").get_data(as_text=True))
    assert client.post("/admin/categories", data={"csrf_token": token, "label_en": "Mine", "colour": "#000000"}).status_code == 403
    assert client.post(f"/admin/categories/{education.id}", data={"csrf_token": token, "label_en": "Mine",
                                                                   "colour": "#000000"}).status_code == 403
    assert client.post(f"/admin/categories/{education.id}/move", data={"csrf_token": token, "step": "up"}).status_code == 403
    assert client.post(f"/admin/categories/{education.id}/retire", data={"csrf_token": token}).status_code == 403
    assert client.get(f"/admin/categories/{education.id}/retire").status_code == 403
    assert _by_code(db, "AM40").labels["en"] == "Education" and not _by_code(db, "AM40").retired


def test_icon_search_answers_names_and_drawings(client, db, staff):
    sign_in(client, "admin@example.org")
    found = client.get("/admin/categories/icons.json?q=leaf").get_json()
    assert found["ok"] and found["icons"][0]["name"] == "leaf" and found["icons"][0]["paths"]
    assert client.get("/admin/categories/icons.json?q=%3Cscript%3E").get_json()["icons"] == []


def test_hostile_names_are_inert_in_the_tree_and_the_forms(client, db, staff):
    sign_in(client, "admin@example.org")
    assert _add(client, label_en=HOSTILE, aliases=HOSTILE + "\n=HYPERLINK(\"http://x\")").status_code == 302
    hostile = next(c for c in store.all_categories(db) if "script" in c.label("en"))
    assert "\r" not in hostile.label("en") and "\ufffe" not in hostile.label("en")
    for url in ("/admin/categories", f"/admin/categories/{hostile.id}", f"/admin/categories/{hostile.id}/retire"):
        page = client.get(url).get_data(as_text=True)
        assert "<script>alert(1)</script>" not in page, url
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page, url
        assert not shows_49(page), url


def test_a_french_admin_makes_a_parent_and_a_child_with_the_keyboard(app, db, staff, browser, live_server_for):
    shots = os.environ.get("MAPAPP_TEST_SCREENSHOTS")  # a folder: look at the screen on a laptop and a phone
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="fr-FR")
    page = context.new_page()
    try:
        with live_server_for(app) as server:
            sign_in_browser(page, server.url + "/admin/categories?lang=fr", "admin@example.org")
            page.wait_for_selector("#icon-q")

            def fill_category(label, colour, words):
                page.focus("input[name=label_fr]")
                page.keyboard.type(label)
                page.focus("#colour")
                page.keyboard.press("Control+a")
                page.keyboard.type(colour)
                page.focus("#icon-q")
                page.keyboard.type(words)
                page.locator("#icon-results button").first.wait_for()
                page.keyboard.press("ArrowDown")
                chosen = page.evaluate("document.activeElement.dataset.name")
                page.keyboard.press("Enter")
                assert page.input_value("#icon") == chosen
                assert page.text_content("#icon-status") == f"Icône choisie : {chosen}"
                assert page.locator("#icon-preview svg path").count() > 0
                assert page.input_value("#colour-picker") == colour.lower()
                page.focus("form.category-form button[type=submit]")
                with page.expect_navigation():
                    page.keyboard.press("Enter")
                page.wait_for_selector(".flash")
                return chosen

            parent_icon = fill_category("Bâtiment", "#C0392B", "building")
            assert page.text_content(".flash") == "Catégorie Bâtiment ajoutée (code batiment)."
            page.focus(f"#category-{_by_code(db, 'batiment').id} >> text=Ajouter une sous-catégorie")
            with page.expect_navigation():
                page.keyboard.press("Enter")
            page.wait_for_selector("#icon-q")
            assert page.locator("select#parent option:checked").text_content() == "Sous Bâtiment"
            child_icon = fill_category("Plomberie", "#2471A3", "droplet")
            parent, child = _by_code(db, "batiment"), _by_code(db, "plomberie")
            assert (parent.colour, parent.icon, parent.parent_id) == ("#c0392b", parent_icon, None)
            assert (child.colour, child.icon, child.parent_id) == ("#2471a3", child_icon, parent.id)
            row = page.locator(f"#category-{parent.id}")
            assert row.locator(".category-child .category-name a").text_content() == "Plomberie"
            assert "rgb(192, 57, 43)" in row.locator(".category-look").first.evaluate("e => getComputedStyle(e).backgroundColor")
            if shots:
                page.locator(f"#category-{parent.id}").scroll_into_view_if_needed()
                page.screenshot(path=f"{shots}/categories-laptop.png", full_page=True)
                page.set_viewport_size({"width": 390, "height": 844})
                page.goto(server.url + "/admin/categories?lang=fr")
                page.screenshot(path=f"{shots}/categories-phone.png", full_page=True)
                page.goto(server.url + f"/admin/categories/{child.id}?lang=fr")
                page.fill("#icon-q", "tools")
                page.locator("#icon-results button").first.wait_for()
                page.screenshot(path=f"{shots}/categories-edit-phone.png", full_page=True)
    finally:
        context.close()
