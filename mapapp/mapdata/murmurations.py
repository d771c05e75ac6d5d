"""Organisations as Murmurations profiles, so that other maps of the network find them: one
``organizations_schema-v1.0.0`` profile per published organisation, and one
``offers_wants_schema-v0.1.0`` profile per need ("want") and offer; and their addresses
posted to a Murmurations index (``POST {index}/nodes``), which fetches and validates them."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from .. import fetch, kinds, vocab
from ..records import Record

ORGANISATION_SCHEMA = "organizations_schema-v1.0.0"
OFFERS_WANTS_SCHEMA = "offers_wants_schema-v0.1.0"
# Resources that are things lent or rented; the others are services given.
_GOODS = {"premises", "equipment"}
_TRANSACTIONS = {"premises": ["borrow-lend", "rent-lease"], "equipment": ["borrow-lend", "rent-lease"],
                 "funding": ["receive-donate"]}
NAME_LENGTH = 200  # the schema's limit
ANSWER_BYTES = 1024 * 1024  # an index's answer to one profile is a few hundred bytes


def organisation_profile(record: Record, *, lang: str = vocab.DEFAULT_LANGUAGE) -> dict:
    """The ``organizations_schema-v1.0.0`` profile of one organisation's public record (its
    ``url`` the page's public address), in ``lang`` where it was described in it."""
    page_url = record.url
    address = ", ".join(p for p in (record.street, " ".join(p for p in (record.postcode, record.city) if p),
                                    record.region, vocab.country_name(record.country or "", "en")) if p)
    profile = {
        "linked_schemas": [ORGANISATION_SCHEMA],
        "name": record.name[:NAME_LENGTH],
        "primary_url": record.website or page_url,
        "urls": [{"name": "map", "url": page_url}],
        "description": record.description_in(lang) or None,
        "tags": sorted({kinds.theme_label(t, "en") for t in record.themes}) or None,
        "status": "active",
        "full_address": address or None,
        "country_iso_3166": record.country or None,
        "contact_details": {"email": record.email} if record.email else None,
        "telephone": record.phone or None,
        "unique_id": page_url,
    }
    if record.lat is not None:
        profile["geolocation"] = {"lat": record.lat, "lon": record.lon}
    # Its projects, as the schema allows: a relationship (schema.org memberOf) to each project's page.
    projects = [url for url in (record.project_url(slug) for slug, _name in record.projects) if url]
    if projects and page_url and page_url.startswith(("http://", "https://")):
        profile["relationships"] = [{"predicate_url": "https://schema.org/memberOf", "object_url": url} for url in projects]
    return {k: v for k, v in profile.items() if v is not None}


def offers_wants_profile(record: Record, kind: str, code: str) -> dict:
    """The ``offers_wants_schema-v0.1.0`` profile of one of an organisation's needs
    (``kind="need"``, a want) or offers, from its public record."""
    page_url = record.url
    details = (record.needs if kind == "need" else record.offers).get(code, "")
    label = vocab.resources().label(code, "en")
    profile = {
        "linked_schemas": [OFFERS_WANTS_SCHEMA],
        "exchange_type": "want" if kind == "need" else "offer",
        "item_type": "good" if code in _GOODS else "service",
        "transaction_type": _TRANSACTIONS.get(code, ["receive-donate"]),
        "tags": [label, code],
        "title": f"{label}: {record.name}"[:NAME_LENGTH],
        "description": details or f"{record.name} {'needs' if kind == 'need' else 'offers'} {label.lower()}.",
        "details_url": page_url,
        "geographic_scope": "regional",
        "contact_details": {"email": record.email} if record.email else {"contact_form": page_url},
    }
    if record.lat is not None:
        profile["geolocation"] = {"lat": record.lat, "lon": record.lon}
    return profile


def profile_addresses(rows, link) -> list[str]:
    """The addresses of every profile the map publishes, from ``(slug, kind, resource)`` rows
    (``catalogue.changes.published_needs_and_offers``); ``link(endpoint, values)`` makes an
    absolute address of a route."""
    urls: list[str] = []
    last = None
    for slug, kind, code in rows:
        if slug != last:
            urls.append(link("commons.organisation", {"slug": slug}))
            last = slug
        if kind is not None and code in vocab.resources():
            urls.append(link("commons.offer_or_want", {"slug": slug, "kind": "want" if kind == "need" else "offer",
                                                       "code": code}))
    return urls


@dataclass
class Registration:
    """What the index said of the profiles posted: accepted (address → its node id) and
    refused (address → why)."""

    accepted: dict[str, str] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)


def register(index_url: str, profile_urls: list[str], *, allow: frozenset[str] = frozenset(),
             deadline: float = 20) -> Registration:
    """Post each profile's address to the index (``POST {index_url}/nodes``) through the
    guarded fetcher (``allow``: its ``allow_list``); a refusal or a network error is noted for
    that profile and the others go on."""
    out = Registration()
    endpoint = index_url.rstrip("/") + "/nodes"
    if not endpoint.startswith(("http://", "https://")):
        raise ValueError(f"the Murmurations index must be an http(s) address, got {index_url!r}")
    for url in profile_urls:
        try:
            answer = fetch.fetch(endpoint, allow=allow, max_bytes=ANSWER_BYTES, method="POST", deadline=deadline,
                                 body=json.dumps({"profile_url": url}).encode(),
                                 headers={"Content-Type": "application/json"})
        except fetch.FetchError as e:
            out.refused[url] = f"the index could not be reached: {e.message}"
            continue
        if answer.status >= 400:
            out.refused[url] = _reason(answer)
            continue
        try:
            out.accepted[url] = str((json.loads(answer.body or b"{}").get("data") or {}).get("node_id", ""))
        except (ValueError, AttributeError):
            out.refused[url] = "the index's answer is not JSON"
    return out


def _reason(answer: fetch.Answer) -> str:
    try:
        body = json.loads(answer.body or b"{}")
        details = "; ".join(str(e.get("detail") or e.get("title") or e) for e in body.get("errors", []))
    except (ValueError, AttributeError):
        details = ""
    return f"HTTP {answer.status}" + (f": {details}" if details else "")
