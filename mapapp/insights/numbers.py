"""The network at a glance, in numbers: who is on the map (by country, theme, structure,
relation, month added), who needs and offers what, the needs nobody nearby offers, and
the partnerships that could be made: for each need, the nearest organisation offering it.

Distances are great-circle distances: the organisations are points on the unit sphere,
searched with a k-d tree (scipy), where a straight-line (chord) distance maps to one
along the surface.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from itertools import groupby

import numpy as np

from .. import vocab
from ..catalogue import categorytree
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
    """One organisation offers what another needs, this far apart: for each need, the
    nearest organisation offering it (within the distance) makes one."""

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
    partnership_count: int = 0  # needs with an offer (by another organisation) within the distance
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
    unmet: list[tuple[str, int, float | None]] = []  # listed candidates: (resource, organisation, nearest km)
    pairs: list[tuple[float, int, int, str]] = []  # listed candidates: (km, needing, offering, resource)
    radius = chord(km)
    for code, need_ids, need_xyz, offer_ids, offer_xyz in sides:
        balance = resources[code]
        if not len(need_ids):
            continue
        if not len(offer_ids):
            balance.unmet = len(need_ids)
            unmet += [(code, int(i), None) for i in np.sort(need_ids)[:listed]]
            continue
        from scipy.spatial import cKDTree  # at the first count: scipy is 0.2 s and tens of MiB in every worker

        tree = cKDTree(offer_xyz)
        best_dist, best_index = _nearest_other(tree, need_ids, need_xyz, offer_ids, radius)
        near = np.isfinite(best_dist)
        balance.met_nearby = int(near.sum())
        balance.unmet = len(need_ids) - balance.met_nearby
        # Listed: the closest pairs, and the first unmet needs (the others are counted).
        close = np.flatnonzero(near)
        close = close[np.lexsort((need_ids[close], best_dist[close]))[:listed]]
        kms = surface_km(best_dist[close])
        pairs += [(float(d), int(need_ids[i]), int(offer_ids[best_index[i]]), code) for d, i in zip(kms, close)]
        far = np.flatnonzero(~near)
        far = far[np.argsort(need_ids[far], kind="stable")[:listed]]
        if len(far):  # how far their nearest offer is, beyond the distance (None: only themselves)
            beyond, _index = _nearest_other(tree, need_ids[far], need_xyz[far], offer_ids, chord(None))
            unmet += [(code, int(need_ids[i]), float(surface_km(np.array([d]))[0]) if np.isfinite(d) else None)
                      for i, d in zip(far, beyond)]
    out.unmet_count = sum(r.unmet for r in out.resources)
    out.partnership_count = sum(r.met_nearby for r in out.resources)
    shown_unmet = sorted(unmet)[:listed]  # by resource, then as added
    shown_pairs = sorted(pairs)[:listed]  # the closest first
    names = store.named(db, sorted({u[1] for u in shown_unmet} | {p[1] for p in shown_pairs}
                                   | {p[2] for p in shown_pairs}))
    out.unmet = [Need(names[i], code, nearest) for code, i, nearest in shown_unmet if i in names]
    out.partnerships = [Partnership(names[a], names[b], code, round(d, 1)) for d, a, b, code in shown_pairs
                        if a in names and b in names]
    return out


def _nearest_other(tree, need_ids: np.ndarray, need_xyz: np.ndarray, offer_ids: np.ndarray,
                   radius: float) -> tuple[np.ndarray, np.ndarray]:
    """For each need, the chord distance to the nearest offer within ``radius`` made by
    another organisation (inf: none) and that offer's index. Two neighbours are asked for:
    the nearest may be the organisation itself."""
    k = min(2, len(offer_ids))
    dist, index = tree.query(need_xyz, k=k, distance_upper_bound=radius, workers=-1)
    dist, index = dist.reshape(len(need_ids), k), index.reshape(len(need_ids), k)
    found = np.isfinite(dist)
    itself = found & (offer_ids[np.minimum(index, len(offer_ids) - 1)] == need_ids[:, None])
    dist = np.where(itself, np.inf, dist)
    best = np.argmin(dist, axis=1)
    rows = np.arange(len(need_ids))
    return dist[rows, best], index[rows, best]


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
        by_theme=_with_parents(store.counts_by(db, filters, "theme", statuses),
                               store.family_counts(db, filters, categorytree.cached(db).families, statuses)),
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

    def family_counted() -> dict[str, int]:
        themes, out = columns.facets["theme"], {}
        for parent, codes in categorytree.cached(db).families.items():
            bits = np.zeros(len(selected), dtype=np.uint64)
            for code in codes:
                if code in themes:
                    bits |= mapindex._widened(themes[code], len(selected))[:len(selected)]
            out[parent] = mapindex.count_bits(bits & selected)
        return out

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
                   by_theme=_with_parents(counted("theme"), family_counted()), by_structure=counted("structure"), by_relation=counted("relation"),
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


def _with_parents(by_theme: dict[str, int], families: dict[str, int]) -> dict[str, int]:
    """Counts per category where a parent's count is of the organisations in it or in any
    of its children, each once (what choosing the parent in the filter selects)."""
    out = dict(by_theme)
    out.update({parent: n for parent, n in families.items() if n})
    return out


def _sides(rows: list[tuple]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Ids and unit vectors of the organisations needing, and of those offering, one resource."""
    sides = {}
    for kind in ("need", "offer"):
        chosen = sorted((r for r in rows if r[0] == kind), key=lambda r: r[2])  # by id, as the map's columns
        ids = np.array([r[2] for r in chosen], dtype=np.int64)
        lat = np.array([r[3] for r in chosen], dtype=np.float64)
        lon = np.array([r[4] for r in chosen], dtype=np.float64)
        sides[kind] = (ids, unit_vectors(lat, lon) if len(ids) else np.empty((0, 3)))
    return sides["need"][0], sides["need"][1], sides["offer"][0], sides["offer"][1]
