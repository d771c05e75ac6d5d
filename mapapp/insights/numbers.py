"""The network at a glance, in numbers: who is on the map (by country, theme, structure,
relation, month added), who needs and offers what, the needs nobody nearby offers, and
the partnerships that could be made (one organisation offers what another needs).

Distances are great-circle distances: the organisations are points on the unit sphere,
searched with a k-d tree (scipy), where a straight-line (chord) distance maps to one
along the surface.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from itertools import groupby

import numpy as np
from scipy.spatial import cKDTree

from .. import vocab
from ..catalogue import insights as store
from ..filters import Filters

EARTH_KM = 6371.0088
DEFAULT_KM = 50  # "nearby": a day's return trip for a visit or a shared workshop
MAX_KM = 5000
LISTED = 50  # unmet needs and partnerships listed (the nearest first); all are counted


@dataclass(frozen=True)
class Need:
    """An organisation's need that nobody within the distance offers."""

    organisation: dict
    resource: str
    nearest_km: float | None  # the nearest organisation offering it, further away (None: nobody)


@dataclass(frozen=True)
class Partnership:
    """One organisation offers what another needs, this far apart."""

    needs: dict
    offers: dict
    resource: str
    km: float


@dataclass
class ResourceBalance:
    code: str
    needed: int = 0
    offered: int = 0
    unmet: int = 0  # needs of located organisations with no offer within the distance
    met_nearby: int = 0  # needs with an offer within it


@dataclass
class Insights:
    """Every figure of the stats page and the project report, for one selection."""

    total: int
    km: float | None  # None: anywhere
    by_country: dict[str, int]
    by_theme: dict[str, int]
    by_structure: dict[str, int]
    by_relation: dict[str, int]
    by_month: dict[str, int]
    resources: list[ResourceBalance]
    unmet: list[Need] = field(default_factory=list)
    unmet_count: int = 0
    partnerships: list[Partnership] = field(default_factory=list)
    partnership_count: int = 0  # pairs (needing, offering, resource) within the distance
    points: list[tuple[float, float]] = field(default_factory=list)


def unit_vectors(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Points on the unit sphere."""
    phi, lam = np.radians(lat), np.radians(lon)
    return np.column_stack((np.cos(phi) * np.cos(lam), np.cos(phi) * np.sin(lam), np.sin(phi)))


def chord(km: float | None) -> float:
    """The straight-line distance between unit vectors ``km`` apart on the surface."""
    if km is None:
        return 2.0 + 1e-9  # the whole sphere
    return 2.0 * math.sin(min(km / (2 * EARTH_KM), math.pi / 2))


def surface_km(chords: np.ndarray) -> np.ndarray:
    """The distances on the surface of straight-line (chord) distances."""
    return 2 * EARTH_KM * np.arcsin(np.clip(chords / 2.0, 0.0, 1.0))


def compute(db, filters: Filters, *, km: float | None = DEFAULT_KM, statuses: tuple[str, ...] = ("published",),
            listed: int = LISTED, columns=None, with_points: bool = False) -> Insights:
    """Every figure for the organisations in ``statuses`` matching ``filters``. With the map's
    ``columns`` (``mapindex.MapColumns``), published organisations are counted from their bits
    (a million in milliseconds); otherwise, and for drafts, in SQL. ``with_points``: keep
    where each located organisation is (for a map of them)."""
    if columns is not None and statuses == ("published",):
        out, sides = _from_columns(db, columns, filters, with_points)
    else:
        out, sides = _from_sql(db, filters, statuses, with_points)
    out.km = km
    resources = {r.code: r for r in out.resources}
    unmet: list[tuple[int, str, float | None]] = []  # (organisation, resource, nearest offer's km)
    pairs: list[tuple[float, int, int, str]] = []
    radius = chord(km)
    for code, need_ids, need_xyz, offer_ids, offer_xyz in sides:
        balance = resources[code]
        if not len(need_ids):
            continue
        if not len(offer_ids):
            balance.unmet = len(need_ids)
            unmet += [(int(i), code, None) for i in need_ids]
            continue
        tree = cKDTree(offer_xyz)
        # The two nearest offers of each need: the nearest may be the organisation itself.
        k = min(2, len(offer_ids))
        dist, index = tree.query(need_xyz, k=k)
        dist, index = dist.reshape(len(need_ids), k), index.reshape(len(need_ids), k)
        self_first = offer_ids[index[:, 0]] == need_ids
        best = np.where(self_first, 1 if k == 2 else 0, 0)
        rows_ = np.arange(len(need_ids))
        best_dist, best_index = dist[rows_, best], index[rows_, best]
        best_dist = np.where(self_first & (k == 1), np.inf, best_dist)  # it alone offers what it needs
        near = best_dist <= radius
        balance.met_nearby = int(near.sum())
        balance.unmet = int((~near).sum())
        found = np.isfinite(best_dist)
        kms = surface_km(np.where(found, best_dist, 0.0))
        unmet += [(int(need_ids[i]), code, float(kms[i]) if found[i] else None) for i in np.flatnonzero(~near)]
        pairs += [(float(kms[i]), int(need_ids[i]), int(offer_ids[best_index[i]]), code) for i in np.flatnonzero(near)]
        # Every pair within the distance, counted (not listed) by the trees: an organisation
        # needing and offering the same thing is no partnership with itself.
        both = len(np.intersect1d(need_ids, offer_ids))
        out.partnership_count += int(cKDTree(need_xyz).count_neighbors(tree, radius)) - both
    out.unmet_count = len(unmet)
    unmet.sort(key=lambda u: (u[1], u[0]))  # by resource, then as added
    pairs.sort()
    shown_unmet, shown_pairs = unmet[:listed], pairs[:listed]
    names = store.named(db, sorted({u[0] for u in shown_unmet} | {p[1] for p in shown_pairs}
                                   | {p[2] for p in shown_pairs}))
    out.unmet = [Need(names[i], code, nearest) for i, code, nearest in shown_unmet if i in names]
    out.partnerships = [Partnership(names[a], names[b], code, round(d, 1)) for d, a, b, code in shown_pairs
                        if a in names and b in names]
    return out


def _balances() -> dict[str, ResourceBalance]:
    return {code: ResourceBalance(code) for code in vocab.resources().codes()}


def _from_sql(db, filters: Filters, statuses: tuple[str, ...], with_points: bool):
    """The counts, and each resource's needing and offering sides, read in SQL."""
    resources = _balances()
    for (kind, code), n in store.resource_counts(db, filters, statuses).items():
        if code in resources:
            setattr(resources[code], "needed" if kind == "need" else "offered", n)
    out = Insights(
        total=store.total(db, filters, statuses), km=None,
        by_country={k: v for k, v in store.counts_by(db, filters, "country", statuses).items() if k},
        by_theme=store.counts_by(db, filters, "theme", statuses),
        by_structure={k: v for k, v in store.counts_by(db, filters, "structure", statuses).items() if k},
        by_relation=store.counts_by(db, filters, "relation", statuses),
        by_month=dict(sorted(store.counts_by(db, filters, "month", statuses).items())),
        resources=list(resources.values()),
        points=store.located_points(db, filters, statuses) if with_points else [])

    def sides():
        for code, rows in groupby(store.located_resources(db, filters, statuses), key=lambda r: r[1]):
            if code in resources:
                yield (code, *_sides(list(rows)))

    return out, sides()


def _from_columns(db, columns, filters: Filters, with_points: bool):
    """The same from the map's columns: a count of bits per value, and the positions of the
    selected organisations needing and offering each resource."""
    from ..mapdata import mapindex

    selected = mapindex.selection_bits(columns, filters, db)

    def counted(kind: str) -> dict[str, int]:
        counts = {value: mapindex.count_bits(bits & selected) for value, bits in columns.facets[kind].items()}
        return {value: n for value, n in counts.items() if n and value}

    resources = _balances()
    need, offer = columns.facets["need"], columns.facets["offer"]
    for code, balance in resources.items():
        balance.needed = mapindex.count_bits(need[code] & selected) if code in need else 0
        balance.offered = mapindex.count_bits(offer[code] & selected) if code in offer else 0
    located = ~np.isnan(columns.lat)
    points = []
    if with_points:
        chosen = mapindex.unpack(selected, columns.size) & located
        points = list(zip(columns.lat[chosen].tolist(), columns.lon[chosen].tolist()))
    out = Insights(total=mapindex.count_bits(selected), km=None, by_country=counted("country"),
                   by_theme=counted("theme"), by_structure=counted("structure"), by_relation=counted("relation"),
                   by_month=dict(sorted(counted("month").items())), resources=list(resources.values()), points=points)

    def side(bits) -> tuple[np.ndarray, np.ndarray]:
        if bits is None:
            return np.empty(0, dtype=np.int64), np.empty((0, 3))
        chosen = mapindex.unpack(bits & selected, columns.size) & located
        return columns.ids[chosen], unit_vectors(columns.lat[chosen], columns.lon[chosen])

    def sides():
        for code in resources:
            if resources[code].needed:
                yield (code, *side(need.get(code)), *side(offer.get(code)))

    return out, sides()


def _sides(rows: list[tuple]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Ids and unit vectors of the organisations needing, and of those offering, one resource."""
    sides = {}
    for kind in ("need", "offer"):
        chosen = [r for r in rows if r[0] == kind]
        ids = np.array([r[2] for r in chosen], dtype=np.int64)
        lat = np.array([r[3] for r in chosen], dtype=np.float64)
        lon = np.array([r[4] for r in chosen], dtype=np.float64)
        sides[kind] = (ids, unit_vectors(lat, lon) if len(ids) else np.empty((0, 3)))
    return sides["need"][0], sides["need"][1], sides["offer"][0], sides["offer"][1]
