"""Organisations as linked data: schema.org terms that search engines and other maps read,
with the ESSGLOBAL vocabulary's (the solidarity economy's initiatives, their activities and
organisational structures, as the ESSGLOBAL standard's URIs), built as an rdflib graph and
written as JSON-LD or Turtle."""

from __future__ import annotations

import re

from rdflib import RDF, XSD, BNode, Graph, Literal, Namespace, URIRef

from .. import kinds, vocab
from ..records import ESSGLOBAL as ESSGLOBAL_URI
from ..records import Record

SCHEMA = Namespace("https://schema.org/")
ESSGLOBAL = Namespace(ESSGLOBAL_URI)
ACTIVITIES = Namespace(vocab.THEME_URI_BASE)
STRUCTURES = Namespace(vocab.STRUCTURE_URI_BASE)
# A graph of every triple is built in memory: past this, GeoJSON or the CSV serve better.
MAX_ORGANISATIONS = 50_000
_IRI = re.compile(r"^https?://[^\s<>\"{}|\\^`]+$")
JSONLD_CONTEXT = {"schema": str(SCHEMA), "essglobal": str(ESSGLOBAL), "activity": str(ACTIVITIES),
                  "structure": str(STRUCTURES), "xsd": str(XSD)}


def graph(orgs: list[dict], *, lang: str, base_url: str, contacts: bool = False) -> Graph:
    """The organisations (as ``export_organisations`` gives them) as triples, from their public
    records (e-mail and phone only with ``contacts``); each is named by its page's address."""
    g = Graph()
    for prefix, namespace in (("schema", SCHEMA), ("essglobal", ESSGLOBAL), ("activity", ACTIVITIES),
                              ("structure", STRUCTURES)):
        g.bind(prefix, namespace)
    for org in orgs:
        record = Record.of(org, base=base_url, contacts=contacts)
        me = URIRef(record.url)
        g.add((me, RDF.type, SCHEMA.Organization))
        g.add((me, RDF.type, ESSGLOBAL.SSEInitiative))
        g.add((me, SCHEMA.name, Literal(record.name)))
        g.add((me, SCHEMA.identifier, Literal(record.slug)))
        g.add((me, SCHEMA.url, me))
        description = record.description_in(lang)
        if description:
            g.add((me, SCHEMA.description, Literal(description)))
        for value, term in ((record.email, SCHEMA.email), (record.phone, SCHEMA.telephone)):
            if value:
                g.add((me, term, Literal(value)))
        if record.website and _IRI.match(record.website):  # http(s) only (checked when stored), nothing to break out
            g.add((me, SCHEMA.sameAs, URIRef(record.website)))
        # A category mapped to an ESSGLOBAL activity (or whose parent is) gives its URI; every
        # category gives its label, the only trace of one of the network's own.
        for activity in kinds.theme_activities(record.themes):
            g.add((me, ESSGLOBAL.economicSector, ACTIVITIES[activity]))
        for theme in record.themes:
            g.add((me, SCHEMA.knowsAbout, Literal(kinds.theme_label(theme, lang), lang=lang)))
        logo, photos = record.logo_and_images()  # addresses built here, from ids and hashes
        if logo:
            g.add((me, SCHEMA.logo, URIRef(logo)))
        for photo in photos:
            g.add((me, SCHEMA.image, URIRef(photo)))
        if record.structure:
            g.add((me, ESSGLOBAL.organisationalStructure, STRUCTURES[record.structure]))
        address = BNode()
        g.add((me, SCHEMA.address, address))
        g.add((address, RDF.type, SCHEMA.PostalAddress))
        for value, term in ((record.street, SCHEMA.streetAddress), (record.postcode, SCHEMA.postalCode),
                            (record.city, SCHEMA.addressLocality), (record.region, SCHEMA.addressRegion),
                            (record.country, SCHEMA.addressCountry)):
            if value:
                g.add((address, term, Literal(value)))
        # Each project it belongs to, through a schema.org OrganizationRole that names its
        # relation to that project (visited, participant, partner, other).
        relations = dict(record.relations)
        for slug, name in record.projects:
            project = URIRef(record.project_url(slug))
            g.add((project, RDF.type, SCHEMA.Project))
            g.add((project, SCHEMA.identifier, Literal(slug)))
            if name:
                g.add((project, SCHEMA.name, Literal(name)))
            role = BNode()
            g.add((me, SCHEMA.memberOf, role))
            g.add((role, RDF.type, SCHEMA.OrganizationRole))
            g.add((role, SCHEMA.memberOf, project))
            if relations.get(slug):
                g.add((role, SCHEMA.roleName, Literal(relations[slug])))
        if record.lat is not None:
            point = BNode()
            g.add((me, SCHEMA.geo, point))
            g.add((point, RDF.type, SCHEMA.GeoCoordinates))
            g.add((point, SCHEMA.latitude, Literal(record.lat, datatype=XSD.decimal)))
            g.add((point, SCHEMA.longitude, Literal(record.lon, datatype=XSD.decimal)))
    return g


def to_jsonld(orgs: list[dict], *, lang: str, base_url: str, contacts: bool = False) -> bytes:
    """JSON-LD (compacted with the prefixes above)."""
    found = graph(orgs, lang=lang, base_url=base_url, contacts=contacts)
    return found.serialize(format="json-ld", context=JSONLD_CONTEXT, indent=1).encode("utf-8")


def to_turtle(orgs: list[dict], *, lang: str, base_url: str, contacts: bool = False) -> bytes:
    """Turtle."""
    return graph(orgs, lang=lang, base_url=base_url, contacts=contacts).serialize(format="turtle").encode("utf-8")
