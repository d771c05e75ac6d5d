import re

import pytest
from werkzeug.datastructures import MultiDict

from mapapp import catalogue, kinds
from mapapp.errors import BadRequest
from mapapp.filters import BBox, Filters
from mapapp.mapdata import exports
from mapapp.translate import gettext_in
from mapapp.web import openapi


def test_repeated_and_comma_separated_values_are_the_same():
    a = Filters.from_args(MultiDict([("country", "fr"), ("country", "BE")]))
    b = Filters.from_args({"country": "FR, be"})
    assert a == b and a.country == ("FR", "BE")


def test_everything_parses_and_round_trips():
    args = {"country": "IT", "theme": "am40", "need": "funding", "offer": "premises,training",
            "relation": "visited", "project": "demo-study-visits", "visit": "lyon-seminar-2025",
            "q": "  vélo   Lyon ", "bbox": "4.7,45.7,4.9,45.8", "lang": "fr"}
    f = Filters.from_args(args)
    assert f.theme == ("AM40",) and f.offer == ("premises", "training") and f.q == "vélo Lyon"
    assert f.bbox == BBox(4.7, 45.7, 4.9, 45.8)
    assert Filters.from_args(f.to_args()) == f
    assert Filters().is_empty and not f.is_empty


@pytest.mark.parametrize("args, parameter", [
    ({"country": "France"}, "country"),
    ({"country": "ZZ"}, "country"),
    ({"theme": "Education"}, "theme"),
    ({"offer": "cash"}, "offer"),
    ({"relation": "friend"}, "relation"),
    ({"visit": "../etc"}, "visit"),
    ({"q": "x" * 201}, "q"),
    ({"bbox": "a,b,c,d"}, "bbox"),
    ({"bbox": "0,91,1,92"}, "bbox"),
    ({"bbox": "0,50,1,40"}, "bbox"),
    ({"bbox": "nan,1,2,3"}, "bbox"),
])
def test_bad_values_name_their_parameter(args, parameter):
    with pytest.raises(BadRequest) as info:
        Filters.from_args(args)
    assert info.value.parameter == parameter
    assert info.value.status == 400
    assert info.value.message.startswith(parameter + ":")


def test_unknown_theme_message_lists_the_valid_codes():
    with pytest.raises(BadRequest, match="AM10, AM20"):
        Filters.from_args({"theme": "AM999"})


# -- every consumer covers exactly the registry's kinds -------------------------------

# A value of every kind, which the first organisation below has and the second has not.
VALUES = {"country": "FR", "theme": "AM40", "need": "funding", "offer": "premises", "relation": "visited",
          "project": "p1", "visit": "v1"}


@pytest.fixture
def one_of_each(db):
    assert set(VALUES) == set(kinds.NAMES), "give the organisation below a value of the new kind"
    catalogue.save_project(db, {"slug": "p1", "name": "Project one", "names": {"fr": "Projet un"}})
    catalogue.save_visit(db, {"slug": "v1", "project": "p1", "title": "Visit one", "date": "2026-03-01"})
    saved = catalogue.save_organisation(db, {"name": "Has all", "country": "FR", "relation": "visited",
                                             "lat": 45.0, "lon": 5.0, "status": "published", "source": "t"},
                                        themes=["AM40"], needs={"funding": ""}, offers={"premises": ""})
    catalogue.link_organisation(db, saved.id, projects=["p1"], visits=["v1"])
    catalogue.save_organisation(db, {"name": "Has none", "country": "BE", "relation": "partner", "lat": 50.0,
                                     "lon": 4.0, "status": "published", "source": "t"})
    return VALUES


@pytest.mark.parametrize("kind", kinds.NAMES)
def test_the_sql_and_the_parser_filter_by_every_kind(db, one_of_each, kind):
    filters = Filters.from_args({kind: one_of_each[kind]})
    assert [o["name"] for o in catalogue.find_organisations(db, filters)] == ["Has all"]
    assert Filters.from_args(filters.to_args()) == filters


def test_the_filter_panel_offers_exactly_the_registry_kinds_in_order(client, one_of_each):
    page = client.get("/organisations?lang=fr").get_data(as_text=True)
    assert re.findall(r'<details class="facet" data-kind="(\w+)"', page) == list(kinds.NAMES)
    for kind in kinds.REGISTRY:  # each under its heading, in the page's language
        heading = gettext_in("fr", kind.label)
        assert re.search(rf'data-kind="{kind.name}"[^>]*>\s*<summary>{re.escape(heading)}', page), kind.name
    assert "Projet un" in page


def test_an_export_names_the_filters_of_every_kind(one_of_each):
    lines = exports._filter_lines(Filters(**{k: (v,) for k, v in one_of_each.items()}), "fr")
    assert [line.split(": ")[0] for line in lines] == [gettext_in("fr", k.summary_label) for k in kinds.REGISTRY]
    assert "Pays: France" in lines


def test_the_api_and_its_description_cover_exactly_the_registry_kinds(client, one_of_each):
    document = openapi.document("http://localhost")
    for path in ("/api/facets", "/api/clusters", "/api/organisations", "/api/organisations.csv"):
        names = [p["name"] for p in document["paths"][path]["get"]["parameters"]]
        assert [n for n in names if n not in ("q", "bbox", "lang", "zoom", "limit", "offset")] == list(kinds.NAMES)
    assert document["components"]["schemas"]["Facets"]["properties"]["facets"]["required"] == list(kinds.NAMES)
    facets = client.get("/api/facets").get_json()["facets"]
    assert set(facets) == set(kinds.NAMES)  # (JSON keys are sorted)
    assert all(any(o["value"] == one_of_each[k] and o["count"] == 1 for o in facets[k]) for k in kinds.NAMES)
