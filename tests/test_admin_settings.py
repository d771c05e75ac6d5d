"""Site settings in the staff area: an admin's name, tagline, intro, colours, default view,
tiles and contact show at once on every page, the embed, the feed and e-mails; what is typed
is checked (contrast, tile address) and only ever shown as text."""

from __future__ import annotations

import json
import re

import altcha
import pytest
from smtp_box import text_of
from support import csrf_from, form_fields, make_org, sign_in

from mapapp import create_app
from mapapp.catalogue import audit
from mapapp.catalogue import site as store

HOSTILE = "<script>alert(1)</script>{{7*7}}{% if 1 %}x{% endif %}${7*7}=1+1"


def subscribe(client, query, email="sub@example.org"):
    page = client.get(f"/subscribe?{query}").get_data(as_text=True)
    challenge = altcha.Challenge.from_dict(client.get("/contribute/challenge").get_json())
    proof = altcha.Payload(challenge, altcha.solve_challenge(challenge)).to_base64()
    return client.post(f"/subscribe?{query}", data={"csrf_token": csrf_from(page), "email": email,
                                                    "frequency": "daily", "altcha": proof})


def settings_form(client) -> dict:
    return form_fields(client.get("/admin/settings").get_data(as_text=True))


def save(client, **changes):
    fields = settings_form(client)
    fields.update(changes)
    return client.post("/admin/settings", data=fields)


@pytest.fixture
def admin(app, staff):
    client = app.test_client()
    sign_in(client, "admin@example.org")
    return client


def test_an_admin_brands_the_site_and_a_french_visitor_sees_it_everywhere(app, db, admin):
    org = make_org(db, "Atelier Vélo")
    saved = save(admin, **{"site_name": "Réseau ESS Provence", "tagline:fr": "Les artisans du Sud",
                           "intro:fr": "Bienvenue sur la carte du réseau.", "primary_colour": "#003366",
                           "accent_colour": "#8b1a1a", "view_south": "43", "view_west": "4",
                           "view_north": "45", "view_east": "7.5", "contact_organisation": "Réseau ESS",
                           "contact_email": "contact@ess.example.org"})
    assert saved.status_code == 302
    shown = admin.get("/admin/settings").get_data(as_text=True)
    assert "Saved: Site name, Tagline, Introduction, Primary colour, Accent colour, Default view of the map, Organisation behind the site, Contact address." in shown
    entry = audit.entries(db, action=store.AUDIT_ACTION, limit=1)[0]
    assert entry["user_email"] == "admin@example.org" and entry["after"]["site_name"] == "Réseau ESS Provence"

    visitor = app.test_client()
    for path in ("/?lang=fr", "/organisations?lang=fr", f"/organisations/{org.slug}?lang=fr"):
        page = visitor.get(path).get_data(as_text=True)
        assert '<a class="site-name" href="/">Réseau ESS Provence</a>' in page, path
        assert "Les artisans du Sud" in page and "Social and solidarity economy map" not in page
        assert "--primary: #003366; --accent: #8b1a1a;" in page
        assert 'href="mailto:contact@ess.example.org"' in page and "Réseau ESS" in page
        assert ("Bienvenue sur la carte du réseau." in page) == (path != f"/organisations/{org.slug}?lang=fr")
    settings = json.loads(re.search(r'id="mapapp-settings">(.*?)</script>', visitor.get("/?lang=fr")
                                    .get_data(as_text=True)).group(1))
    assert settings["initial"]["bounds"] == [4.0, 43.0, 7.5, 45.0]  # the default view, not Lyon alone
    filtered = visitor.get("/?lang=fr&country=FR").get_data(as_text=True)
    assert json.loads(re.search(r'id="mapapp-settings">(.*?)</script>', filtered).group(1))["initial"]["bounds"] != \
        [4.0, 43.0, 7.5, 45.0]  # a chosen selection fits its own organisations
    embed = visitor.get("/embed?lang=fr").get_data(as_text=True)
    assert '<span class="embed-site">Réseau ESS Provence</span>' in embed and "--primary: #003366" in embed
    assert visitor.get("/oembed?url=http://localhost/").get_json()["provider_name"] == "Réseau ESS Provence"
    feed = visitor.get("/feed.atom?lang=fr").get_data(as_text=True)
    assert "<title>Réseau ESS Provence" in feed and "<subtitle>Les artisans du Sud</subtitle>" in feed


def test_editors_may_not_open_the_settings(app, staff):
    editor = app.test_client()
    sign_in(editor, "editor@example.org")
    assert editor.get("/admin/settings").status_code == 403
    assert editor.post("/admin/settings", data={"site_name": "Taken over"}).status_code in (400, 403)
    assert "Site settings" not in editor.get("/admin").get_data(as_text=True)


def test_a_save_without_its_csrf_token_is_refused(app, db, admin):
    assert admin.post("/admin/settings", data={"site_name": "Forged"}).status_code == 400
    assert store.read_settings(db) == {}


def test_a_colour_white_text_cannot_be_read_on_is_refused_with_its_ratio_and_what_was_typed_kept(db, admin):
    refused = save(admin, primary_colour="#ffcc00", site_name="Kept name")
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert ("the primary colour #ffcc00 gives 1.5:1 against the header&#39;s white text; WCAG AA asks for 4.5:1:"
            " choose a darker colour") in page
    assert 'value="#ffcc00"' in page and 'value="Kept name"' in page and 'aria-invalid="true"' in page
    assert "Nothing was saved" in page and store.read_settings(db) == {}
    assert 'class="swatch" style="background: #ffcc00"' in page  # white on it shows why
    typed = save(admin, primary_colour="red;}</style><script>x()</script>").get_data(as_text=True)
    assert 'style="background: #1f5f8b"' in typed and "<script>x()" not in typed
    accent = save(admin, accent_colour="#66ccff").get_data(as_text=True)
    assert "the accent colour #66ccff gives 1.8:1 against the buttons&#39; white text" in accent


def with_shell(client, page: str) -> str:
    """A map page and the map shell's script it links (where the tile layer is set up)."""
    script = re.search(r'<script src="(/map-shell\.js\?[^"]+)"', page).group(1).replace("&amp;", "&")
    return page + client.get(script).get_data(as_text=True)


def test_a_tile_address_must_be_http_with_its_placeholders_and_empty_gives_the_operators(app, db, admin):
    page = save(admin, tile_url="javascript:alert(1)//{z}/{x}/{y}").get_data(as_text=True)
    assert "the tile address must start with https:// (or http://)" in page and store.read_settings(db) == {}
    page = save(admin, tile_url="https://tiles.example.org/{z}/{x}.png").get_data(as_text=True)
    assert "must contain {z}, {x} and {y}" in page
    page = save(admin, tile_url="https://tiles.example.org/{{7*7}}/{z}/{x}/{y}.png").get_data(as_text=True)
    assert "may contain braces only in {z}, {x}, {y}, {s} and {r}" in page and store.read_settings(db) == {}
    assert save(admin, tile_url="https://tiles.example.org/{z}/{x}/{y}.png",
                tile_attribution="© Tiles Co").status_code == 302
    visitor = app.test_client()
    answer = visitor.get("/")
    assert "https://tiles.example.org/{z}/{x}/{y}.png" in with_shell(visitor, answer.get_data(as_text=True))
    assert "img-src 'self' data: https://tiles.example.org;" in answer.headers["Content-Security-Policy"]
    assert save(admin, tile_url="", tile_attribution="").status_code == 302
    assert app.config["TILE_URL"] in with_shell(visitor, visitor.get("/").get_data(as_text=True))


def test_a_french_message_is_refused_in_french(admin):
    page = admin.post("/admin/settings?lang=fr", data={**settings_form(admin), "accent_colour": "blue"})
    assert ("« blue » n&#39;est pas une couleur : écrivez # et six chiffres hexadécimaux, comme #1f5f8b"
            in page.get_data(as_text=True))


def test_hostile_text_shows_as_text_on_the_map_embed_feed_and_e_mails(db_path, tmp_path, smtp, db, staff):
    app = create_app({"TESTING": True, "DATABASE": str(db_path), "SECRET_KEY": "test",
                      "CACHE_DIR": str(tmp_path / "c"), "SMTP_URL": smtp.url, "ALTCHA_COST": 10,
                      "PUBLIC_URL": "https://map.example.org"})
    admin = app.test_client()
    sign_in(admin, "admin@example.org")
    make_org(db, "Atelier")
    assert save(admin, **{"site_name": HOSTILE + "\r\nBcc: x@example.org\ufffe", "tagline:fr": HOSTILE,
                          "intro:fr": HOSTILE, "tile_attribution": HOSTILE,
                          "contact_organisation": HOSTILE}).status_code == 302
    name = store.read_settings(db)["site_name"]
    assert "\r" not in name and "\n" not in name and "\ufffe" not in name
    visitor = app.test_client()
    for path in ("/?lang=fr", "/organisations?lang=fr", "/embed?lang=fr"):
        page = visitor.get(path).get_data(as_text=True)
        assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;{{7*7}}" in page, path
        assert "{% if 1 %}x{% endif %}${7*7}=1+1" in page, path
    # Leaflet shows the attribution as HTML, and folium renders it through Jinja: it reaches
    # the map's script escaped, braces too, never evaluated.
    page = visitor.get("/").get_data(as_text=True)
    script = re.search(r'<script src="(/map-shell\.js\?[^"]+)"', page).group(1).replace("&amp;", "&")
    shell = visitor.get(script).get_data(as_text=True).split("tileLayer(", 1)[1].split("addTo", 1)[0]
    assert ('"attribution": "\\u0026lt;script\\u0026gt;alert(1)\\u0026lt;/script\\u0026gt;\\u0026#123;\\u0026#123;7*7'
            in shell), shell
    feed = visitor.get("/feed.atom?lang=fr").get_data(as_text=True)
    assert "<script>" not in feed and "&lt;script&gt;alert(1)&lt;/script&gt;{{7*7}}" in feed
    store.write_settings(db, {"site_name": "Réseau */ alert(1) /*"}, "admin@example.org")
    script = visitor.get("/embed.js").get_data(as_text=True)
    assert script.startswith("/* Réseau * / alert(1) /*: embed the map.")  # the comment stays closed
    store.write_settings(db, {"site_name": name}, "admin@example.org")
    subscribe(visitor, "country=FR")
    [mail] = smtp.box.wait(1)
    assert mail["Subject"] == "Confirmez votre abonnement à " + HOSTILE + " Bcc: x@example.org"
    assert mail["Bcc"] is None and "{{7*7}}" in text_of(mail)


def test_a_contact_address_is_a_plain_address_and_the_view_four_numbers(db, admin):
    page = save(admin, contact_email="contact@example.org?bcc=all@example.org").get_data(as_text=True)
    assert "is not an e-mail address: write it like contact@example.org" in page
    page = save(admin, view_south="45", view_west="4", view_north="43", view_east="7").get_data(as_text=True)
    assert "south must be below north" in page
    page = save(admin, view_south="45", view_west="four", view_north="46", view_east="7").get_data(as_text=True)
    assert "the view needs four numbers: south, west, north and east" in page and 'value="four"' in page
    assert store.read_settings(db) == {}
