"""The map as a node of the ESS data commons: Murmurations profiles of the organisations and
of their needs and offers, at stable addresses that an index fetches."""

from __future__ import annotations

from flask import Blueprint, jsonify

from .. import catalogue, vocab
from ..errors import NotFound
from ..mapdata import murmurations
from ..records import Record
from .cold import public_base
from .db import get_db

bp = Blueprint("commons", __name__, url_prefix="/murmurations")
KINDS = {"want": "need", "offer": "offer"}  # in the address: Murmurations' words


def _organisation(slug: str) -> dict:
    org = catalogue.get_organisation(get_db(), slug)
    if org is None:
        raise NotFound(f"no published organisation '{slug}'")
    return org


@bp.get("/organisations/<slug>.json")
def organisation(slug: str):
    """An organisation's ``organizations_schema-v1.0.0`` profile."""
    return _profile(murmurations.organisation_profile(_record(_organisation(slug))))


@bp.get("/organisations/<slug>/<any(want, offer):kind>/<code>.json")
def offer_or_want(slug: str, kind: str, code: str):
    """One of an organisation's needs ("want") or offers as an ``offers_wants_schema-v0.1.0`` profile."""
    org = _organisation(slug)
    ours = KINDS[kind]
    if code not in vocab.resources() or code not in (org["needs"] if ours == "need" else org["offers"]):
        raise NotFound(f"'{slug}' has no {kind} '{code}'")
    return _profile(murmurations.offers_wants_profile(_record(org), ours, code))


def _record(org: dict) -> Record:
    # The configured address, never the request's Host: an index keeps what it fetched.
    return Record.of(org, base=public_base())


def _profile(profile: dict):
    response = jsonify(profile)
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
