"""The map pages' folium shell: built once per set of settings and language, found by
map.js under a stable name, and run under each response's own CSP nonce."""

from __future__ import annotations

import re

from mapapp import create_app
from mapapp.mapdata.shell import map_shell

INLINE = r"<script(?![^>]*\bsrc=)(?![^>]*application/)([^>]*)>"


def test_the_shell_is_built_once_per_language_not_per_request(demo_client):
    map_shell.cache_clear()  # earlier tests' shells are built already
    for path in ("/", "/?country=IT", "/embed", "/embed?country=FR"):
        demo_client.get(path)
    assert map_shell.cache_info().misses == 1
    assert "contributeurs" in shell_of(demo_client, demo_client.get("/?lang=fr").get_data(as_text=True))
    assert map_shell.cache_info().misses == 2  # its attribution is in French


def test_each_tile_server_setting_gets_its_own_shell(demo_db_path, tmp_path):
    pages = {}
    for n, url in enumerate(("https://a.example.org/{z}/{x}/{y}.png", "https://b.example.org/{z}/{x}/{y}.png")):
        app = create_app({"TESTING": True, "DATABASE": str(demo_db_path), "SECRET_KEY": "test",
                          "CACHE_DIR": str(tmp_path / str(n)), "TILE_URL": url, "TILE_MAX_ZOOM": 17 + n})
        client = app.test_client()
        html = client.get("/").get_data(as_text=True)
        pages[url] = html + shell_of(client, html)
    for n, (url, html) in enumerate(pages.items()):
        assert url in html and f'"maxZoom": {17 + n}' in html
        assert len(re.findall(r"L\.tileLayer\(", html)) == 1


def shell_of(client, html: str) -> str:
    """The map shell's script the page links."""
    url = re.search(r'<script src="(/map-shell\.js\?[^"]+)"', html).group(1).replace("&amp;", "&")
    return client.get(url).get_data(as_text=True)


def test_map_js_finds_the_map_under_a_stable_name(demo_client):
    for path in ("/", "/embed"):
        html = demo_client.get(path).get_data(as_text=True)
        assert 'id="mapappMap"' in html and "var mapappMap = L.map(" in shell_of(demo_client, html)
        assert not re.search(r"map_[0-9a-f]{32}", html)  # folium's random name


def test_the_map_pages_run_no_inline_script_and_need_no_nonce(demo_client):
    for path in ("/", "/embed"):
        response = demo_client.get(path)
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self';" in csp and "nonce" not in csp, path
        html = response.get_data(as_text=True)
        assert not re.findall(INLINE, html), path
        # The shell's script is a file of its own, the same for every visitor.
        shell = re.search(r'<script src="(/map-shell\.js\?[^"]+)"', html).group(1).replace("&amp;", "&")
        script = demo_client.get(shell)
        assert script.status_code == 200 and "var mapappMap = L.map(" in script.get_data(as_text=True)
        assert script.mimetype == "text/javascript" and "public" in script.headers["Cache-Control"]


def test_the_first_view_is_read_from_the_page_settings_set_before_the_shell_runs(demo_client):
    html = demo_client.get("/?country=IT").get_data(as_text=True)
    settings_at = html.index('id="mapapp-settings"')
    shell_at = html.index('<script src="/map-shell.js')
    assert settings_at < shell_at
    # The selection's bounds are data in the settings, never code in the (shared) shell.
    assert "fitBounds(" in shell_of(demo_client, html) and '"bounds": [' in html[settings_at:shell_at]
