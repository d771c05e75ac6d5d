"""The geocoding cache and the organisations to (re)locate."""

from __future__ import annotations

import sqlite_utils

from .base import dict_rows, now

# -- geocoding -------------------------------------------------------------------


def cached_geocode(db: sqlite_utils.Database, provider: str, query: str) -> tuple | None:
    """``(lat, lon, precision)`` stored for this provider and query (all None when the
    provider found nothing), or None when it was never asked."""
    row = db.execute("SELECT lat, lon, precision FROM geocode_cache WHERE provider = ? AND query = ?",
                     [provider, query]).fetchone()
    return tuple(row) if row else None


def best_cached_geocode(db: sqlite_utils.Database, query: str, providers: list[str]) -> tuple | None:
    """The most precise cached answer for ``query`` among ``providers``:
    ``(lat, lon, precision, provider)``, or None."""
    if not providers:
        return None
    rank = " ".join(f"WHEN '{p}' THEN {i}" for i, p in enumerate(
        ("address", "street", "postcode", "locality", "region", "country")))
    return db.execute(
        "SELECT lat, lon, precision, provider FROM geocode_cache WHERE query = ? AND lat IS NOT NULL"  # nosec B608 # names and ? placeholders come from code; values are bound
        f" AND provider IN ({', '.join('?' * len(providers))})"
        f" ORDER BY CASE precision {rank} ELSE 9 END LIMIT 1",
        [query, *providers]).fetchone()


def has_cached_geocodes(db: sqlite_utils.Database) -> bool:
    """True when any online geocoder's answer has been cached."""
    return db.execute("SELECT 1 FROM geocode_cache LIMIT 1").fetchone() is not None


def store_geocode(db: sqlite_utils.Database, provider: str, query: str, lat: float | None,
                  lon: float | None, precision: str | None) -> None:
    """Remember a provider's answer (or that it found nothing)."""
    db.execute(
        "INSERT INTO geocode_cache (provider, query, lat, lon, precision, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (provider, query) DO UPDATE SET"
        " lat = excluded.lat, lon = excluded.lon, precision = excluded.precision,"
        " created_at = excluded.created_at",
        [provider, query, lat, lon, precision, now()])


def organisations_to_locate(db: sqlite_utils.Database, *, pending_only: bool) -> list[dict]:
    """Organisations for ``mapapp geocode``: every one, or only those with no point.
    Manually placed ones are never included."""
    where = "(geo_precision IS NULL OR geo_precision != 'manual')"
    if pending_only:
        where += " AND lat IS NULL"
    return dict_rows(db.execute(
        "SELECT id, slug, name, street, postcode, city, region, country, lat, lon, geo_precision,"  # nosec B608 # names and ? placeholders come from code; values are bound
        f" status FROM organisations WHERE {where} ORDER BY id"))
