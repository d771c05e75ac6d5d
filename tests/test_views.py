import json
import re

from support import make_org

from mapapp import catalogue

HOSTILE = '<img src=x onerror="window.__pwned=1">Coop & "Co"'


def test_map_page_loads_only_local_scripts_and_styles(demo_client):
    html = demo_client.get("/").get_data(as_text=True)
    sources = re.findall(r'<script[^>]*\ssrc="([^"]+)"', html)
    sheets = re.findall(r'<link[^>]*rel="stylesheet"[^>]*href="([^"]+)"', html)
    assert any("leaflet.js" in s for s in sources)
    assert any("leaflet.css" in s for s in sheets) and any("MarkerCluster.css" in s for s in sheets)
    for url in sources + sheets:
        assert url.startswith(("/static/", "/map-shell.js?")), url  # our own files only


def test_map_page_carries_only_the_first_page_of_its_list(app, db):
    # The list beside the first view comes with the page (50 names at most, whatever the
    # catalogue's size); the clusters and everything else come from the API.
    for i in range(60):
        make_org(db, f"Cooperative {i:02d}")
    make_org(db, "</script><script>alert(1)</script>", lat=45.0, lon=5.0)
    html = app.test_client().get("/").get_data(as_text=True)
    settings = json.loads(re.search(r'<script type="application/json" id="mapapp-settings">(.*?)</script>',
                                    html, re.S).group(1))
    first = settings["initial"]["list"]
    assert first["total"] == 61
    assert [o["name"] for o in first["items"]] == ["</script><script>alert(1)</script>",
                                                   *(f"Cooperative {i:02d}" for i in range(49))]
    assert "Cooperative 49" not in html
    assert "<script>alert(1)" not in html  # the hostile name stays inside the JSON, escaped
    assert "/api/clusters" in html


def test_map_page_uses_the_configured_tile_server(db_path):
    from mapapp import create_app

    app = create_app({"DATABASE": str(db_path), "TILE_URL": "https://tiles.example.net/{z}/{x}/{y}.png",
                      "TILE_ATTRIBUTION": "Example tiles"})
    client = app.test_client()
    response = client.get("/")
    html = response.get_data(as_text=True)
    shell = re.search(r'<script src="(/map-shell\.js\?[^"]+)"', html).group(1).replace("&amp;", "&")
    html += client.get(shell).get_data(as_text=True)  # the map shell's script, a file of its own
    assert "https://tiles.example.net/{z}/{x}/{y}.png" in html
    assert "Example tiles" in html
    assert "img-src 'self' data: https://tiles.example.net" in response.headers["Content-Security-Policy"]


def test_demo_data_is_labelled_fictional(demo_client, app, client):
    banner = "Demo data: the organisations shown here are fictional."
    assert banner in demo_client.get("/").get_data(as_text=True)
    assert banner in demo_client.get("/organisations").get_data(as_text=True)
    assert banner not in client.get("/").get_data(as_text=True)


def test_organisation_page_shows_its_fields(demo_client, demo_db):
    db = demo_db
    org = catalogue.find_organisations(db, catalogue.Filters(project=("demo-study-visits",),
                                                             need=("funding",)))[0]
    full = catalogue.get_organisation(db, org["slug"])
    html = demo_client.get(f"/organisations/{org['slug']}").get_data(as_text=True)
    assert f"<h1>{org['name']}</h1>" in html.replace("&#39;", "'")
    assert "Fictional demo organisation" in html
    assert "Funding" in html
    assert full["projects"][0]["name"] in html
    assert f'href="{org["website"]}" rel="noopener nofollow"' in html


def test_unpublished_and_unknown_organisations_are_404(app, db):
    make_org(db, "Hidden Draft", status="draft")
    client = app.test_client()
    assert client.get("/organisations/hidden-draft").status_code == 404
    assert client.get("/organisations/nope").status_code == 404


def test_hostile_name_is_escaped_on_the_page(app, db):
    saved = make_org(db, HOSTILE, description="<script>alert(1)</script>")
    html = app.test_client().get(f"/organisations/{saved.slug}").get_data(as_text=True)
    assert "<img src=x" not in html and "<script>alert(1)" not in html
    assert "&lt;img src=x onerror=" in html


def test_healthz_counts_organisations(app, db):
    make_org(db, "One")
    make_org(db, "Two", status="draft")
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"ok": True, "organisations": 2}


def test_healthz_is_503_when_the_catalogue_cannot_be_opened(tmp_path):
    from mapapp import create_app

    blocker = tmp_path / "file"
    blocker.write_text("x")
    app = create_app({"DATABASE": str(blocker / "c.db")})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["ok"] is False


def test_pages_refuse_to_be_framed(client):
    response = client.get("/")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_unknown_address_is_a_friendly_404_with_a_language_switcher(client):
    response = client.get("/favicon.ico?lang=fr")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "Cette page n" in page and 'hreflang="pl"' in page


def test_pages_let_people_zoom(demo_client):
    for path in ("/", "/embed", "/organisations"):
        html = demo_client.get(path).get_data(as_text=True)
        assert "user-scalable=no" not in html and "maximum-scale" not in html
        assert html.count('name="viewport"') == 1, path


def test_only_our_own_script_files_may_run(demo_client):
    response = demo_client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert csp.split("script-src")[1].split(";")[0].strip() == "'self'"  # no inline, no nonce
    html = response.get_data(as_text=True)
    assert not re.findall(r"<script(?![^>]*\bsrc=)(?![^>]*application/)([^>]*)>", html)  # data blocks only
    assert demo_client.get("/").headers["Content-Security-Policy"] == csp  # the same for every visitor
