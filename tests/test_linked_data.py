"""Linked data: the organisations as JSON-LD and Turtle, read back with rdflib's parsers,
with schema.org and ESSGLOBAL terms (activities and structures as the standard's URIs);
every organisation page carries the same terms; text stays text."""

from __future__ import annotations

import json

from rdflib import RDF, Graph, Literal, URIRef
from support import make_org

from mapapp import vocab
from mapapp.mapdata import exports, linked

HOSTILE = '<script>alert(1)</script> "Coop" {{ 7*7 }} ${x}'


def test_jsonld_and_turtle_parse_and_carry_the_essglobal_terms(app, db):
    make_org(db, "Forno Sociale", country="IT", city="Torino", themes=["AM60"], structure="OS60",
             website="https://forno.example.org", lat=45.07, lon=7.69)
    make_org(db, HOSTILE, country="FR", website="https://x.example.org/a b")  # a web address that is not one IRI
    app.config["PUBLIC_URL"] = "http://localhost"  # subjects are named from the site's configured address
    client = app.test_client()
    jsonld = client.get("/api/organisations.jsonld")
    assert jsonld.mimetype == "application/ld+json"
    turtle = client.get("/api/organisations.ttl")
    assert turtle.mimetype == "text/turtle"
    for body, fmt in ((jsonld.data, "json-ld"), (turtle.data, "turtle")):
        g = Graph().parse(data=body, format=fmt)
        forno = URIRef("http://localhost/organisations/forno-sociale")
        assert (forno, RDF.type, linked.ESSGLOBAL.SSEInitiative) in g
        assert (forno, RDF.type, linked.SCHEMA.Organization) in g
        assert (forno, linked.ESSGLOBAL.economicSector, URIRef(vocab.THEME_URI_BASE + "AM60")) in g
        assert (forno, linked.ESSGLOBAL.organisationalStructure, URIRef(vocab.STRUCTURE_URI_BASE + "OS60")) in g
        assert (forno, linked.SCHEMA.sameAs, URIRef("https://forno.example.org")) in g
        [point] = g.objects(forno, linked.SCHEMA.geo)
        assert float(g.value(point, linked.SCHEMA.latitude)) == 45.07
        names = set(g.objects(None, linked.SCHEMA.name))
        assert Literal(HOSTILE) in names  # the name as a string, whatever it holds
        assert not list(g.triples((None, linked.SCHEMA.sameAs, URIRef("https://x.example.org/a b"))))
    assert json.loads(jsonld.data)["@context"]["essglobal"] == str(linked.ESSGLOBAL)  # no remote context to fetch
    italy = Graph().parse(data=client.get("/api/organisations.ttl?country=IT").data, format="turtle")
    assert list(italy.subjects(RDF.type, linked.SCHEMA.Organization)) == [forno]  # filtered like the map


def test_linked_data_downloads_are_bounded(app, db, monkeypatch):
    for n in range(3):
        make_org(db, f"Coop {n}")
    monkeypatch.setattr(linked, "MAX_ORGANISATIONS", 2)
    response = app.test_client().get("/api/organisations.ttl")
    assert response.status_code == 413 and "at most 2 organisations" in response.get_json()["error"]
    assert app.test_client().get("/api/organisations.jsonld?q=Coop+1").status_code == 200
    assert exports.WHOLE_IN_MEMORY == ("html", "jsonld", "ttl")


def test_the_organisation_page_carries_the_essglobal_terms(app, db):
    make_org(db, "Forno Sociale", themes=["AM60", "AM40"], structure="OS60")
    page = app.test_client().get("/organisations/forno-sociale").get_data(as_text=True)
    data = json.loads(page.split('<script type="application/ld+json"')[1].split(">", 1)[1].split("</script>")[0])
    assert "essglobal:SSEInitiative" in data["@type"] and "Organization" in data["@type"]
    assert {s["@id"] for s in data["essglobal:economicSector"]} == {vocab.THEME_URI_BASE + "AM60",
                                                                   vocab.THEME_URI_BASE + "AM40"}
    assert data["essglobal:organisationalStructure"]["@id"] == vocab.STRUCTURE_URI_BASE + "OS60"


def test_bulk_linked_data_names_each_members_projects_and_its_relation_to_them(app, db):
    from mapapp.catalogue import projects

    forno = make_org(db, "Forno Sociale", country="IT", city="Torino", lat=45.07, lon=7.69)
    projects.create_project(db, "visits-2026", "Study visits 2026")
    projects.add_member(db, "visits-2026", forno.id, "visited")
    app.config["PUBLIC_URL"] = "http://localhost"
    client = app.test_client()
    for path, fmt in (("/api/organisations.jsonld", "json-ld"), ("/api/organisations.ttl", "turtle")):
        g = Graph().parse(data=client.get(path).data, format=fmt)
        me = URIRef("http://localhost/organisations/forno-sociale")
        project = URIRef("http://localhost/projects/visits-2026")
        [role] = g.objects(me, linked.SCHEMA.memberOf)
        assert (role, RDF.type, linked.SCHEMA.OrganizationRole) in g
        assert (role, linked.SCHEMA.memberOf, project) in g
        assert g.value(role, linked.SCHEMA.roleName) == Literal("visited")
        assert (project, RDF.type, linked.SCHEMA.Project) in g
        assert g.value(project, linked.SCHEMA.identifier) == Literal("visits-2026")
