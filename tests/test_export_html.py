"""The standalone HTML map says what it is: a title and heading, the date of its data,
the licence, the filters that chose its organisations, and a legend, in its language."""

from __future__ import annotations

import re

from mapapp.mapdata import exports


def test_the_html_export_names_its_source_date_licence_filters_and_legend(demo_client):
    page = demo_client.get("/api/organisations.html?country=IT&theme=AM60&lang=fr").get_data(as_text=True)
    title = re.search(r"<title>(.*?)</title>", page).group(1)
    assert title == "mapapp : organisations de l&#39;économie sociale et solidaire"
    assert re.search(r"<h1>mapapp : organisations", page)
    assert re.search(r"Données au \d{4}-\d{2}-\d{2}", page)
    assert 'rel="license">CC BY 4.0</a>' in page and "https://creativecommons.org/licenses/by/4.0/" in page
    assert "<li>Pays : Italie</li>" not in page  # labels are joined with the kind's name
    assert re.search(r"<li>Pays: Italie</li>", page) and re.search(r"<li>Thème: Alimentation</li>", page)
    assert "Légende" in page and "Plusieurs organisations : cliquez pour zoomer" in page


def test_the_licence_is_a_setting_and_can_be_left_out(demo_app):
    demo_app.config.update(DATA_LICENCE="ODbL 1.0", DATA_LICENCE_URL="https://opendatacommons.org/licenses/odbl/")
    page = demo_app.test_client().get("/api/organisations.html?country=CY").get_data(as_text=True)
    assert 'rel="license">ODbL 1.0</a>' in page
    demo_app.config.update(DATA_LICENCE="")
    page = demo_app.test_client().get("/api/organisations.html?country=BE").get_data(as_text=True)
    assert "Licence" not in page


def test_hostile_filters_and_names_stay_text_in_the_html_export():
    about = exports.About(site_name="<script>alert(1)</script>", day="2026-12-02",
                          filters=exports.Filters(q="{{ 7*7 }} <img src=x onerror=alert(1)>"))
    org = {"name": "</script><script>alert(2)</script>", "lat": 45.0, "lon": 4.0, "city": "Lyon", "country": "FR",
           "slug": "x"}
    page = exports.to_html([org], lang="en", base_url="https://example.org", tile_url="", attribution="",
                           about=about).decode()
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "Search: {{ 7*7 }} &lt;img" in page  # shown as typed, never evaluated
