"""Pages staff write (about, legal notice, privacy policy): made from the ready-made texts,
shown in the visitor's language or another one with a note, linked from every footer and from
every form that takes an e-mail, never running what a page's text holds."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from support import csrf_from, make_org, sign_in

from mapapp import accounts
from mapapp.catalogue import audit
from mapapp.catalogue import pages as stored_pages
from mapapp.vocab import LANGUAGES

HOSTILE = """# Title {{7*7}}

<script>alert(1)</script>

[bad](javascript:alert(1)) [mail](mailto:team@example.org) [web](https://example.org/about)

<img src=x onerror=alert(1)>

{% if true %}jinja{% endif %} ${7*7} =1+1

<iframe src="https://evil.example"></iframe><p style="position:fixed">styled</p>

<a href="javascript:alert(2)" onclick="alert(3)">raw link</a>
"""


class Elements(HTMLParser):
    """Every element of a page, with its attributes."""

    def __init__(self, html: str):
        super().__init__()
        self.found: list[tuple[str, dict]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))


def _admin(client, staff):
    sign_in(client, "admin@example.org")
    return csrf_from(client.get("/admin/pages").get_data(as_text=True))


def _create_from_template(client, token, kind="privacy", lang="fr"):
    return client.post("/admin/pages", data={"csrf_token": token, "action": "template", "kind": kind, "lang": lang})


def test_staff_write_the_french_privacy_policy_from_the_template_and_visitors_find_it(app, client, db, staff):
    token = _admin(client, staff)
    listing = client.get("/admin/pages").get_data(as_text=True)
    for lang in LANGUAGES:  # a fresh catalogue offers the template in every language
        assert f'name="lang" value="{lang}"' in listing
    assert "Create the privacy policy from the template" in listing

    made = _create_from_template(client, token)
    assert made.status_code == 302
    editor = client.get(made.headers["Location"]).get_data(as_text=True)
    assert "Politique de confidentialité" in editor
    assert "Still to fill in before publishing" in editor  # the controller's name, marked ⟦ ⟧
    page = stored_pages.get_page(db, slug="privacy")
    body = page["texts"]["fr"]["body_markdown"].replace(
        "⟦À COMPLÉTER : la raison sociale de l'organisation responsable de cette carte⟧", "Réseau Exemple")

    # A preview shows the page as visitors would see it, and saves nothing.
    preview = client.post(made.headers["Location"], data={"csrf_token": token, "action": "preview",
                                                          "title": "Confidentialité", "body": body})
    assert "Réseau Exemple" in preview.get_data(as_text=True)
    assert "Réseau Exemple" not in stored_pages.get_page(db, slug="privacy")["texts"]["fr"]["body_markdown"]
    saved = client.post(made.headers["Location"], data={"csrf_token": token, "action": "save",
                                                        "title": "Confidentialité", "body": body})
    assert saved.status_code == 302
    assert audit.entries(db, action=f"page:{page['id']}")[0]["after"]["title"] == "Confidentialité"
    assert f"page #{page['id']} changed (Pages)" in client.get("/admin").get_data(as_text=True)

    client.post("/logout", data={"csrf_token": token})
    shown = client.get("/pages/privacy?lang=fr").get_data(as_text=True)
    assert "<h1>Confidentialité</h1>" in shown
    assert "Réseau Exemple" in shown
    # The settings of the day, filled in as the page is shown.
    assert "dans les 48 heures" in shown
    assert "après 90 jours" in shown
    assert "tile.openstreetmap.org" in shown
    assert "[[" not in shown  # every placeholder filled
    footer = shown.split('<footer class="site-footer">')[1]
    assert '<a href="/pages/privacy"' in footer and "Confidentialité" in footer
    assert "Confidentialité" in client.get("/directory?lang=fr").get_data(as_text=True).split("site-footer")[1]

    polish = client.get("/pages/privacy?lang=pl").get_data(as_text=True)
    assert "Ta strona nie jest dostępna w języku Polski; wyświetlono ją w języku Français." in polish
    assert '<article lang="fr">' in polish
    english = client.get("/pages/privacy?lang=en").get_data(as_text=True)
    assert "This page is not available in English; shown in Français." in english


def test_the_privacy_policy_follows_the_settings_and_names_the_tile_server(db_path, tmp_path, db, staff):
    from mapapp import create_app

    app = create_app({"TESTING": True, "DATABASE": str(db_path), "SECRET_KEY": "t", "CACHE_DIR": str(tmp_path / "c"),
                      "CONFIRM_HOURS": 12, "RETENTION_DAYS": 30,
                      "TILE_URL": "https://tiles.example.net/{z}/{x}/{y}.png"})
    client = app.test_client()
    token = _admin(client, staff)
    _create_from_template(client, token, lang="en")
    shown = client.get("/pages/privacy?lang=en").get_data(as_text=True)
    assert "within 12 hours" in shown and "after 30 days" in shown
    assert "comes from tiles.example.net" in shown
    assert "No third-party tracker" in shown


def test_hostile_markdown_comes_out_as_inert_text(client, db, staff):
    token = _admin(client, staff)
    page_id = stored_pages.create_page(db, slug="about", kind="about", user_email="admin@example.org")
    saved = client.post(f"/admin/pages/{page_id}/en", data={"csrf_token": token, "action": "save",
                                                             "title": "<script>alert(9)</script>{{7*7}}",
                                                             "body": HOSTILE})
    assert saved.status_code == 302
    for address in (f"/admin/pages/{page_id}/en", "/pages/about"):
        html = client.get(address).get_data(as_text=True)
        if address.startswith("/admin"):  # the preview renders the same way
            html = client.post(address, data={"csrf_token": token, "action": "preview", "title": "t",
                                              "body": HOSTILE}).get_data(as_text=True)
        elements = Elements(html).found
        inline_scripts = [a for tag, a in elements if tag == "script" and "src" not in a]
        assert inline_scripts == []
        assert not [tag for tag, _ in elements if tag in ("iframe", "img")]
        assert not [(tag, a) for tag, a in elements if any(name.startswith("on") for name in a)]
        assert not [a for tag, a in elements if tag == "a" and a.get("href", "").lower().startswith("javascript")]
        assert not [a for tag, a in elements if a.get("style")]
        # 49 would be the template's answer; only in the page's words (not a token or a time) does it count.
        words = re.sub(r"<script.*?</script>|<[^>]*>", " ", html, flags=re.S).replace("{{7*7}}", "")
        assert "{{7*7}}" in html and not re.search(r"(?<![\d.:-])49(?![\d.:-])", words)
        assert "{% if true %}jinja{% endif %}" in html
        assert '<a href="mailto:team@example.org"' in html
        assert '<a href="https://example.org/about"' in html
    assert "&lt;script&gt;alert(9)&lt;/script&gt;{{7*7}}" in client.get("/pages/about").get_data(as_text=True)


def test_every_form_that_takes_an_e_mail_says_what_for_and_links_the_privacy_policy(client, db, staff):
    org = make_org(db, "Coopérative Exemple", email="coop@example.org", status="published", country="FR",
                   lat=48.8, lon=2.3)
    forms = {"/contribute": "to confirm your proposal and tell you our decision",
             f"/organisations/{org.slug}/suggest": "to confirm your proposal and tell you our decision",
             f"/organisations/{org.slug}/owner-link": "only to the organisation's e-mail address",
             "/subscribe": "only to send you the news you ask for"}
    for address, purpose in forms.items():  # before there is a privacy policy: the purpose alone
        html = client.get(address).get_data(as_text=True)
        assert purpose in html, address
        assert "Privacy policy" not in html
    token = _admin(client, staff)
    _create_from_template(client, token, lang="en")
    client.post("/logout", data={"csrf_token": token})
    for address, purpose in forms.items():
        html = client.get(address).get_data(as_text=True)
        line = re.search(r'<p class="privacy-line"[^>]*>(.*?)</p>', html, re.S)
        assert line and purpose in line[1], address
        assert '<a href="/pages/privacy">Privacy policy</a>' in line[1], address
    french = client.get("/subscribe?lang=fr").get_data(as_text=True)
    assert "Politique de confidentialité</a>" in french


def test_editors_write_the_about_page_but_only_admins_the_legal_texts(app, client, db, staff):
    legal = stored_pages.create_page(db, slug="legal-notice", kind="legal", user_email="admin@example.org")
    about = stored_pages.create_page(db, slug="about", kind="about", user_email="admin@example.org")
    sign_in(client, "editor@example.org")
    token = csrf_from(client.get("/admin/pages").get_data(as_text=True))
    listing = client.get("/admin/pages").get_data(as_text=True)
    assert "Create the privacy policy from the template" not in listing
    assert client.get(f"/admin/pages/{legal}/en").status_code == 403
    assert client.post(f"/admin/pages/{legal}/en", data={"csrf_token": token, "action": "save", "title": "x",
                                                         "body": "y"}).status_code == 403
    assert _create_from_template(client, token).status_code == 403
    assert client.post("/admin/pages", data={"csrf_token": token, "action": "create", "slug": "priv",
                                             "kind": "privacy"}).status_code == 403
    assert stored_pages.get_page(db, page_id=legal)["texts"] == {}
    assert client.post(f"/admin/pages/{about}/en", data={"csrf_token": token, "action": "save", "title": "About us",
                                                         "body": "We map."}).status_code == 302
    assert "We map." in client.get("/pages/about").get_data(as_text=True)
    # A partner editor, limited to one country, writes no page: a page speaks for the whole site.
    accounts.set_moderation_scope(db, staff["editor"].id, "BE", "")
    assert client.post(f"/admin/pages/{about}/en", data={"csrf_token": token, "action": "save", "title": "Ours",
                                                         "body": "Taken over"}).status_code == 403
    assert "Taken over" not in client.get("/pages/about").get_data(as_text=True)


@pytest.mark.parametrize("slug", ["Bad Slug", "-x", "a/b", "é"])
def test_a_page_address_must_be_plain(client, db, staff, slug):
    token = _admin(client, staff)
    answer = client.post("/admin/pages", data={"csrf_token": token, "action": "create", "slug": slug, "kind": "other"})
    assert answer.status_code == 400
    assert "lower-case letters, digits and hyphens" in answer.get_data(as_text=True)
    assert stored_pages.all_pages(db) == []


def test_a_form_without_its_csrf_token_changes_nothing(client, db, staff):
    sign_in(client, "admin@example.org")
    answer = client.post("/admin/pages", data={"action": "template", "kind": "privacy", "lang": "fr"})
    assert answer.status_code == 400
    assert stored_pages.all_pages(db) == []


def test_stored_control_characters_and_line_breaks_are_cleaned(client, db, staff):
    token = _admin(client, staff)
    page_id = stored_pages.create_page(db, slug="other", kind="other", user_email="admin@example.org")
    client.post(f"/admin/pages/{page_id}/nl", data={"csrf_token": token, "action": "save",
                                                    "title": "Over\r\nons\ufffe", "body": "a\r\nb\ufffe\x00"})
    text = stored_pages.get_page(db, page_id=page_id)["texts"]["nl"]
    assert text["title"] == "Over ons"
    assert text["body_markdown"] == "a\nb"


def test_no_page_at_an_address_is_a_404(client):
    assert client.get("/pages/nothing-here").status_code == 404


def test_the_legal_notice_names_the_publisher_from_the_site_settings_as_text(client, db, staff):
    from mapapp.catalogue import site as stored_site

    stored_site.write_settings(db, {"contact_organisation": "Réseau <i>Solidaire</i> [[site_name]]",
                                    "contact_email": "hello@example.org"}, "admin@example.org")
    token = _admin(client, staff)
    assert _create_from_template(client, token, kind="legal", lang="fr").status_code == 302
    shown = client.get("/pages/legal-notice?lang=fr").get_data(as_text=True)
    assert "<h1>Mentions légales</h1>" in shown
    assert "édité par Réseau &lt;i&gt;Solidaire&lt;/i&gt; [[site_name]]." in shown  # a value is not read again
    assert "Contact : hello@example.org" in shown
    assert "Mentions légales" in shown.split('<footer class="site-footer">')[1]


def test_removing_a_language_falls_back_and_removing_the_page_keeps_its_texts_in_the_audit_log(client, db, staff):
    token = _admin(client, staff)
    _create_from_template(client, token, lang="fr")
    _create_from_template(client, token, lang="it")
    page = stored_pages.get_page(db, slug="privacy")
    assert "<h1>Informativa sulla privacy</h1>" in client.get("/pages/privacy?lang=it").get_data(as_text=True)
    client.post(f"/admin/pages/{page['id']}/it", data={"csrf_token": token, "action": "delete-text"})
    italian = client.get("/pages/privacy?lang=it").get_data(as_text=True)
    assert "Questa pagina non è disponibile in Italiano; è mostrata in Français." in italian
    client.post(f"/admin/pages/{page['id']}/fr", data={"csrf_token": token, "action": "delete-page"})
    assert client.get("/pages/privacy?lang=fr").status_code == 404
    assert "Politique de confidentialité" not in client.get("/directory?lang=fr").get_data(as_text=True)
    removed = audit.entries(db, action=f"page:{page['id']}")[0]
    assert removed["before"]["texts"]["fr"]["title"] == "Politique de confidentialité"


def test_the_about_page_is_in_the_main_menu_in_the_visitors_language_and_legal_texts_only_in_the_footer(client, db):
    about = stored_pages.create_page(db, slug="about", kind="about", user_email="admin@example.org")
    legal = stored_pages.create_page(db, slug="legal-notice", kind="legal", user_email="admin@example.org")
    stored_pages.save_text(db, about, "fr", title="Qui sommes-nous", body_markdown="Le réseau.", user_email="a@x.org")
    stored_pages.save_text(db, about, "en", title="About us", body_markdown="The network.", user_email="a@x.org")
    stored_pages.save_text(db, legal, "fr", title="Mentions légales", body_markdown="Éditeur.", user_email="a@x.org")

    def menu(path):
        html = client.get(path).get_data(as_text=True)
        return re.search(r'<nav class="site-nav".*?</nav>', html, re.S).group(0), html

    nav, page = menu("/?lang=fr")
    assert 'href="/pages/about"' in nav and "Qui sommes-nous" in nav
    assert "Mentions légales" not in nav and "Mentions légales" in page  # the footer lists it
    nav, _ = menu("/organisations?lang=pl")  # no Polish text: the English one, marked as English
    assert 'lang="en"' in nav and "About us" in nav
