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
            listed: int = LISTED) -> Insights:
    """Every figure for the organisations in ``statuses`` matching ``filters``."""
    resources = {code: ResourceBalance(code) for code in vocab.resources().codes()}
    for (kind, code), n in store.resource_counts(db, filters, statuses).items():
        if code in resources:
            setattr(resources[code], "needed" if kind == "need" else "offered", n)
    out = Insights(
        total=store.total(db, filters, statuses), km=km,
        by_country={k: v for k, v in store.counts_by(db, filters, "country", statuses).items() if k},
        by_theme=store.counts_by(db, filters, "theme", statuses),
        by_structure={k: v for k, v in store.counts_by(db, filters, "structure", statuses).items() if k},
        by_relation=store.counts_by(db, filters, "relation", statuses),
        by_month=dict(sorted(store.counts_by(db, filters, "month", statuses).items())),
        resources=[r for r in resources.values()],
        points=store.located_points(db, filters, statuses))
    unmet: list[tuple[float, int, str, float | None]] = []  # (sort distance, organisation, resource, nearest km)
    pairs: list[tuple[float, int, int, str]] = []
    radius = chord(km)
    for code, rows in groupby(store.located_resources(db, filters, statuses), key=lambda r: r[1]):
        if code not in resources:
            continue
        need_ids, need_xyz, offer_ids, offer_xyz = _sides(list(rows))
        balance = resources[code]
        if not len(need_ids):
            continue
        if not len(offer_ids):
            balance.unmet = len(need_ids)
            unmet += [(math.inf, int(i), code, None) for i in need_ids]
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
        alone = self_first & (k == 1)  # it offers what it needs, and nobody else does
        best_dist = np.where(alone, np.inf, best_dist)
        near = best_dist <= radius
        balance.met_nearby = int(near.sum())
        balance.unmet = int((~near).sum())
        kms = surface_km(np.where(np.isfinite(best_dist), best_dist, 0.0))
        for i in np.flatnonzero(~near):
            unmet.append((float(kms[i]) if np.isfinite(best_dist[i]) else math.inf, int(need_ids[i]), code,
                          float(kms[i]) if np.isfinite(best_dist[i]) else None))
        for i in np.flatnonzero(near):
            pairs.append((float(kms[i]), int(need_ids[i]), int(offer_ids[best_index[i]]), code))
        # Every pair within the distance, counted (not listed) by the tree: an organisation
        # needing and offering the same thing is not a partnership with itself.
        both = len(np.intersect1d(need_ids, offer_ids))
        out.partnership_count += int(cKDTree(need_xyz).count_neighbors(tree, radius)) - both
    out.unmet_count = len(unmet)
    unmet.sort(key=lambda u: (u[2], u[1]))  # by resource, then as added
    pairs.sort()
    shown_unmet, shown_pairs = unmet[:listed], pairs[:listed]
    names = store.named(db, sorted({u[1] for u in shown_unmet} | {p[1] for p in shown_pairs}
                                   | {p[2] for p in shown_pairs}))
    out.unmet = [Need(names[i], code, nearest) for _, i, code, nearest in shown_unmet if i in names]
    out.partnerships = [Partnership(names[a], names[b], code, round(d, 1)) for d, a, b, code in shown_pairs
                        if a in names and b in names]
    return out


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
