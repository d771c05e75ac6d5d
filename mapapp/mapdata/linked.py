"""Organisations as linked data: schema.org terms that search engines and other maps read,
with the ESSGLOBAL vocabulary's (the solidarity economy's initiatives, their activities and
organisational structures, as the ESSGLOBAL standard's URIs), built as an rdflib graph and
written as JSON-LD or Turtle, a batch of organisations at a time (each batch's graph written
as it is read: the triples of one organisation never span two batches, and a project named by
two batches is the same node twice, which RDF merges)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator

from rdflib import RDF, XSD, BNode, Graph, Literal, Namespace, URIRef

from .. import kinds, vocab
from ..records import ESSGLOBAL as ESSGLOBAL_URI
from ..records import Record

SCHEMA = Namespace("https://schema.org/")
ESSGLOBAL = Namespace(ESSGLOBAL_URI)
ACTIVITIES = Namespace(vocab.THEME_URI_BASE)
STRUCTURES = Namespace(vocab.STRUCTURE_URI_BASE)
# Written a batch at a time, but at about a millisecond per organisation: past this, a
# download would hold a server thread for minutes, and GeoJSON or the CSV serve better.
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


def jsonld_chunks(batches: Iterable[list[dict]], *, lang: str, base_url: str, contacts: bool = False) -> Iterator[bytes]:
    """JSON-LD (compacted with the prefixes above): one document whose ``@graph`` holds each
    batch's nodes as they are written."""
    yield ('{\n "@context": ' + json.dumps(JSONLD_CONTEXT, indent=1) + ',\n "@graph": [').encode("utf-8")
    separator = "\n"
    for orgs in batches:
        found = graph(orgs, lang=lang, base_url=base_url, contacts=contacts)
        if not len(found):
            continue
        document = json.loads(found.serialize(format="json-ld", context=JSONLD_CONTEXT))
        nodes = document.get("@graph", [{k: v for k, v in document.items() if k != "@context"}])
        yield (separator + ",\n".join(json.dumps(node, ensure_ascii=False, indent=1) for node in nodes)).encode("utf-8")
        separator = ",\n"
    yield b"\n ]\n}\n"


def turtle_chunks(batches: Iterable[list[dict]], *, lang: str, base_url: str, contacts: bool = False) -> Iterator[bytes]:
    """Turtle, a batch's statements at a time; a prefix is declared where it is first used
    (Turtle allows a directive between statements)."""
    declared: dict[str, str] = {}
    for orgs in batches:
        text = graph(orgs, lang=lang, base_url=base_url, contacts=contacts).serialize(format="turtle")
        lines = []
        for line in text.splitlines():
            if line.startswith("@prefix "):
                prefix, _, iri = line[len("@prefix "):].partition(" ")
                if declared.get(prefix) == iri:
                    continue
                declared[prefix] = iri
            lines.append(line)
        if any(line.strip() for line in lines):
            yield ("\n".join(lines) + "\n").encode("utf-8")


def to_jsonld(orgs: list[dict], *, lang: str, base_url: str, contacts: bool = False) -> bytes:
    """JSON-LD (see ``jsonld_chunks``)."""
    return b"".join(jsonld_chunks([orgs], lang=lang, base_url=base_url, contacts=contacts))


def to_turtle(orgs: list[dict], *, lang: str, base_url: str, contacts: bool = False) -> bytes:
    """Turtle (see ``turtle_chunks``)."""
    return b"".join(turtle_chunks([orgs], lang=lang, base_url=base_url, contacts=contacts))
