"""One ``Filters`` object, parsed from a query string, for pages, API and embed.

Within a kind values are OR-ed (``country=FR,BE``), across kinds AND-ed.
Repeated parameters and comma-separated values are equivalent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, make_dataclass

from . import kinds
from .errors import BadRequest
from .translate import N_, Message

MAX_QUERY_LENGTH = 200
KINDS = kinds.NAMES  # the filters with values, in the registry's order


@dataclass(frozen=True)
class BBox:
    """A lon/lat box in the order of the ``bbox`` parameter (GeoJSON order)."""

    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float


# One field per kind of the registry (``country``, ``theme``…), a tuple of values each:
# a new kind is a new field without an edit here.
_KindValues = make_dataclass("_KindValues", [(k, tuple[str, ...], field(default=())) for k in KINDS],
                             frozen=True, namespace={"__module__": __name__})


@dataclass(frozen=True)
class Filters(_KindValues):
    """What a visitor asked to see: the values of each kind (``filters.country``…), a
    search and a box. Empty tuples mean "no restriction"."""

    q: str = ""
    bbox: BBox | None = field(default=None)
    # The catalogue's filter fields asked for (``f-<slug>``, see ``kinds.registry``), each with
    # its kind, so that a query built after the request (a streamed export) still has it.
    extra: tuple[tuple[kinds.Kind, tuple[str, ...]], ...] = ()

    def values(self, kind: str) -> tuple[str, ...]:
        """The values asked for ``kind`` (a registry kind or a filter field's ``f-<slug>``)."""
        if kind in KINDS:
            return getattr(self, kind)
        return next((values for k, values in self.extra if k.name == kind), ())

    @classmethod
    def from_args(cls, args: Mapping) -> "Filters":
        """Parse query-string arguments; raise ``BadRequest`` naming a bad parameter.

        ``args`` may be a werkzeug ``MultiDict`` (repeated keys) or a plain dict.
        Unknown parameters are ignored so that pages can carry their own
        (``lang``, ``page``, …).
        """

        def values(name: str) -> tuple[str, ...]:
            raw = args.getlist(name) if hasattr(args, "getlist") else [args.get(name) or ""]
            items = [v.strip() for value in raw for v in str(value).split(",")]
            return tuple(dict.fromkeys(v for v in items if v))

        parsed: dict[str, tuple[str, ...]] = {}
        extra: list[tuple[kinds.Kind, tuple[str, ...]]] = []
        for kind in kinds.registry():
            given = values(kind.name)
            given = tuple(dict.fromkeys(kind.vocabulary.canonical(v) for v in given))
            for value in given:
                problem = kind.vocabulary.check(kind.name, value)
                if problem is not None:
                    raise BadRequest(problem, parameter=kind.name)
            if kind.name in KINDS:
                parsed[kind.name] = given
            elif given:
                extra.append((kind, given))
        q = " ".join(str(args.get("q") or "").split())
        if len(q) > MAX_QUERY_LENGTH:
            raise BadRequest(
                Message(N_("q: the search text is longer than %(max)s characters"), max=MAX_QUERY_LENGTH),
                parameter="q")
        return cls(q=q, bbox=_parse_bbox(args.get("bbox")), extra=tuple(extra), **parsed)

    def to_args(self) -> dict[str, str]:
        """The query-string form (comma-joined), omitting empty filters."""
        out: dict[str, str] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "extra":
                continue
            if isinstance(value, tuple) and value:
                out[f.name] = ",".join(value)
            elif isinstance(value, BBox):
                out[f.name] = f"{value.min_lon},{value.min_lat},{value.max_lon},{value.max_lat}"
            elif isinstance(value, str) and value:
                out[f.name] = value
        for kind, values in self.extra:
            out[kind.name] = ",".join(values)
        return out

    @property
    def is_empty(self) -> bool:
        return not self.to_args()


def parse_lock(raw: str | None, filters: Filters) -> tuple[str, ...]:
    """The filter kinds an embed locks (``lock=country,project``); each must have values."""
    locked = tuple(dict.fromkeys(k.strip() for k in str(raw or "").split(",") if k.strip()))
    names = [k.name for k in kinds.registry()]
    for kind in locked:
        if kind not in names:
            raise BadRequest(Message(N_("lock: '%(kind)s' is not a filter; lock one of %(kinds)s"), kind=kind,
                                     kinds=", ".join(names)), parameter="lock")
        if not filters.values(kind):
            raise BadRequest(Message(N_("lock: '%(kind)s' is locked but has no value; add %(kind)s=… to the "
                                        "address"), kind=kind), parameter="lock")
    return locked


def _parse_bbox(raw: str | None) -> BBox | None:
    if not raw:
        return None
    parts = str(raw).split(",")
    try:
        numbers = [float(p) for p in parts]
    except ValueError:
        numbers = []
    if len(numbers) != 4 or any(n != n for n in numbers):
        raise BadRequest(
            Message(N_("bbox: expected four numbers minLon,minLat,maxLon,maxLat (for example 2.2,48.8,2.5,48.9)")),
            parameter="bbox",
        )
    box = BBox(*numbers)
    if not (-180 <= box.min_lon <= 180 and -180 <= box.max_lon <= 180):
        raise BadRequest(Message(N_("bbox: longitudes must be between -180 and 180")), parameter="bbox")
    if not (-90 <= box.min_lat <= box.max_lat <= 90):
        raise BadRequest(Message(N_("bbox: latitudes must be between -90 and 90, minLat first")), parameter="bbox")
    if box.min_lon > box.max_lon:
        raise BadRequest(
            Message(N_("bbox: minLon is greater than maxLon; boxes crossing the antimeridian are not supported")),
            parameter="bbox",
        )
    return box
