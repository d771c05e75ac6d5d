"""Keeping in sync with other maps: ``mapapp sync`` pulls a remembered source (a CSV, XLSX,
ODS or GeoJSON file, an ESSGLOBAL CSV, a Murmurations index query, a GoGoCarto JSON export)
and applies it as an import of that source: matched on the source's identifiers, with a
report, audit entries and undo, never overwriting what people edited here, and reporting
(never deleting) the organisations the source no longer lists.

Whatever goes wrong (the network, a changed format, a source that suddenly lists nobody),
the run says so and nothing already stored changes. Sources are fetched through the guarded
fetcher (``mapapp.fetch``): no private or local address, bounded in time and size. A run
started from the staff area goes on in the background (``start``); the file fetched is
deleted once the run is done.
"""

from __future__ import annotations

import csv
import http
import io
import json
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from .. import catalogue
from .. import fetch as fetching
from ..catalogue import syncsources as store
from ..translate import N_, Message, to_data
from . import jobs

FORMATS = ("auto", "csv", "xlsx", "ods", "geojson", "essglobal", "murmurations", "gogocarto")
_SUFFIXES = {"csv": ".csv", "essglobal": ".csv", "xlsx": ".xlsx", "ods": ".ods", "geojson": ".geojson"}
_BY_TYPE = {"text/csv": "csv", "application/geo+json": "geojson",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
            "application/vnd.oasis.opendocument.spreadsheet": "ods"}
# What converted JSON sources are written as: headers the importer knows.
_HEADERS = ("ref", "name", "description", "street", "postcode", "city", "region", "country", "lat", "lon",
            "website", "email", "phone")
LISTED = 50  # organisations the source no longer lists, named in the outcome (all are counted)
# A run marked as going on for longer than this died with its process: another may start.
STALE_SECONDS = fetching.DEADLINE + jobs.STALE_SECONDS


class SyncError(Exception):
    """The source cannot be applied now; the message (a ``Message``) says why and what to do."""


def allowed(settings: dict) -> frozenset[str]:
    """The hosts on a private or local network that sources may still be on (MAPAPP_FETCH_ALLOW_HOSTS)."""
    return fetching.allow_list(settings.get("FETCH_ALLOW_HOSTS", ""))


@dataclass
class Outcome:
    """What one run of a source did."""

    source: str
    ok: bool
    message: str
    import_id: int | None = None
    counts: dict = field(default_factory=dict)
    kept_by_hand: int = 0
    gone: list[dict] = field(default_factory=list)  # no longer in the source: {slug, name, status}
    gone_count: int = 0
    at: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))

    def data(self) -> dict:
        """JSON-ready, the message kept as a template and values (shown later in any language)."""
        return {**asdict(self), "message": to_data(self.message)}


def check_source(name: str, url: str, fmt: str, status: str, *, allow: frozenset[str] = frozenset()) -> None:
    """Refuse a source that cannot work, saying what to change; ``allow``: as ``allowed``."""
    if not name or len(name) > 100 or not all(ch.isalnum() or ch in "-_." for ch in name):
        raise SyncError(Message(N_("the source's name must be 1 to 100 letters, digits, '-', '_' or '.' (it names "
                                   "the organisations' source)")))
    if not url.startswith(("http://", "https://")):
        raise SyncError(Message(N_("the source's address must start with http:// or https://, not '%(url)s'"),
                                url=url[:60]))
    if fmt not in FORMATS:
        raise SyncError(Message(N_("format: choose one of %(formats)s"), formats=", ".join(FORMATS)))
    if status not in ("draft", "published"):
        raise SyncError(Message(N_("status: new organisations from a source are 'draft' (reviewed before they are "
                                   "shown) or 'published'")))
    try:
        fetching.check_address(url, allow)
    except fetching.FetchError as e:
        raise SyncError(Message(N_("the source's address cannot be used: %(why)s"), why=e.message)) from None


def pull(url: str, *, max_bytes: int, allow: frozenset[str] = frozenset(),
         deadline: float = fetching.DEADLINE) -> tuple[bytes, str]:
    """The source's bytes and media type, through the guarded fetcher."""
    try:
        answer = fetching.fetch(url, allow=allow, max_bytes=max_bytes, deadline=deadline,
                                headers={"User-Agent": "mapapp-sync"})
    except fetching.TooLarge:
        raise SyncError(Message(N_("the source is larger than %(mb)s MB (MAPAPP_UPLOAD_MAX_MB); nothing was "
                                   "changed."), mb=max_bytes // (1024 * 1024))) from None
    except fetching.FetchError as e:
        raise SyncError(Message(N_("the source could not be fetched: %(why)s. Nothing was changed; the next run "
                                   "tries again."), why=e.message)) from None
    if not 200 <= answer.status < 300:
        try:
            reason = http.HTTPStatus(answer.status).phrase
        except ValueError:
            reason = "?"
        raise SyncError(Message(N_("the source answered HTTP %(code)s (%(reason)s); check its address. Nothing was "
                                   "changed."), code=answer.status, reason=reason))
    return answer.body, answer.media


def detect(fmt: str, url: str, media: str, data: bytes) -> str:
    """The source's format: as configured, else from its media type, address and content."""
    if fmt != "auto":
        return fmt
    if media in _BY_TYPE:
        return _BY_TYPE[media]
    path = url.split("?", 1)[0].lower()
    for suffix, name in ((".csv", "csv"), (".xlsx", "xlsx"), (".ods", "ods"), (".geojson", "geojson")):
        if path.endswith(suffix):
            return name
    if media == "application/json" or path.endswith(".json") or data[:1] in (b"{", b"["):
        try:
            body = json.loads(data)
        except ValueError:
            raise SyncError(Message(N_("the source sent something that is not JSON, though it looks like it; "
                                       "nothing was changed."))) from None
        items = body.get("data") if isinstance(body, dict) else body
        if isinstance(body, dict) and body.get("type") == "FeatureCollection":
            return "geojson"
        if isinstance(items, list) and items and isinstance(items[0], dict):
            if "profile_url" in items[0]:
                return "murmurations"
            if "geo" in items[0] or "address" in items[0]:
                return "gogocarto"
    raise SyncError(Message(N_("the format of the source could not be told from its answer (%(media)s); set it "
                               "(one of %(formats)s). Nothing was changed."), media=media,
                            formats=", ".join(FORMATS[1:])))


def to_file(data: bytes, fmt: str, media: str, folder: Path, stem: str) -> Path:
    """The source as a new file in ``folder`` that the importer reads: as it came, or converted
    from JSON to CSV. The caller deletes it."""
    if media == "text/html" and fmt not in ("murmurations", "gogocarto"):
        raise SyncError(Message(N_("the source sent a web page (text/html), not data: its address may have "
                                   "changed. Nothing was changed.")))
    folder.mkdir(parents=True, exist_ok=True)
    if fmt in ("csv", "essglobal") and data.lstrip(b"\xef\xbb\xbf").startswith(b"Identifier,"):
        data = _essglobal_points(data)
    if fmt in _SUFFIXES:
        return _new_file(folder, stem, _SUFFIXES[fmt], data)
    try:
        body = json.loads(data)
    except ValueError:
        raise SyncError(Message(N_("the source should be %(format)s JSON but is not JSON: has its address or "
                                   "format changed? Nothing was changed."), format=fmt)) from None
    rows = _murmurations_rows(body) if fmt == "murmurations" else _gogocarto_rows(body)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(_HEADERS)
    writer.writerows([row.get(h, "") for h in _HEADERS] for row in rows)
    return _new_file(folder, stem, ".csv", out.getvalue().encode("utf-8"))


def _new_file(folder: Path, stem: str, suffix: str, data: bytes) -> Path:
    with tempfile.NamedTemporaryFile(dir=folder, prefix=f"{stem}-", suffix=suffix, delete=False) as f:
        f.write(data)
    return Path(f.name)


def _essglobal_points(data: bytes) -> bytes:
    """An ESSGLOBAL CSV gives a point as Latitude/Longitude or as its Geo Container's (the
    importer's ready-made mapping reads the latter): the first where the second is empty."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data  # the importer reports the encoding
    rows = list(csv.DictReader(io.StringIO(text)))
    if not rows or "Latitude" not in rows[0] or "Geo Container Latitude" not in rows[0]:
        return data
    for row in rows:
        for axis in ("Latitude", "Longitude"):
            if not (row.get(f"Geo Container {axis}") or "").strip():
                row[f"Geo Container {axis}"] = row.get(axis) or ""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def _items(body, fmt: str) -> list[dict]:
    items = body.get("data") if isinstance(body, dict) else body
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise SyncError(Message(N_("the source is not a %(format)s list of organisations (no 'data' list): has "
                                   "its format changed? Nothing was changed."), format=fmt))
    return items


def _murmurations_rows(body) -> list[dict]:
    """A Murmurations index's nodes (``GET /v2/nodes?schema=…``) as rows; the profile's address
    identifies each."""
    rows = []
    for node in _items(body, "Murmurations"):
        if node.get("status") == "deleted" or not node.get("profile_url"):
            continue
        rows.append({"ref": node["profile_url"], "name": node.get("name") or "",
                     "website": node.get("primary_url") or "", "city": node.get("locality") or "",
                     "region": node.get("region") or "", "country": node.get("country") or "",
                     "lat": node.get("latitude", ""), "lon": node.get("longitude", ""),
                     "description": node.get("description") or ""})
    return rows


def _gogocarto_rows(body) -> list[dict]:
    """A GoGoCarto JSON API export (``/api/elements.json``) as rows; its element ids identify them."""
    rows = []
    for element in _items(body, "GoGoCarto"):
        address = element.get("address") or {}
        geo = element.get("geo") or {}
        rows.append({"ref": str(element.get("id") or ""), "name": element.get("name") or "",
                     "description": element.get("description") or element.get("descriptionMore") or "",
                     "street": address.get("streetAddress") or "", "postcode": address.get("postalCode") or "",
                     "city": address.get("addressLocality") or "", "country": address.get("addressCountry") or "",
                     "lat": geo.get("latitude", ""), "lon": geo.get("longitude", ""),
                     "website": element.get("website") or "", "email": element.get("email") or "",
                     "phone": element.get("telephone") or ""})
    return rows


def claim(db, name: str) -> float:
    """Mark the source as being pulled (``SyncError`` if a run of it is going on); return the
    run's start, which ``run`` takes as ``claimed``."""
    started = time.time()
    with catalogue.write_transaction(db):
        if not store.claim_run(db, name, started, started - STALE_SECONDS):
            raise SyncError(Message(N_("the source %(name)s is being pulled already; wait until that run has "
                                       "finished"), name=name))
    return started


def start(database: str | Path, name: str, settings: dict) -> float:
    """Claim the source for a run in the job worker (``SyncError`` if there is none of that name,
    or it is being pulled); return the claim's start, for ``run``'s ``claimed``."""
    db = catalogue.connect(database)
    try:
        if store.source(db, name) is None:
            raise SyncError(Message(N_("no source '%(name)s'; the sources are: %(known)s"), name=name,
                                    known=", ".join(s["name"] for s in store.sources(db)) or "none yet"))
        started = claim(db, name)
    finally:
        db.close()
    return started


def run(database: str | Path, name: str, settings: dict, *, claimed: float | None = None,
        deadline: float = fetching.DEADLINE) -> Outcome:
    """Pull one source and apply it; the outcome is also kept with the source. Never raises
    for what the source does: a failure is an outcome that says why. ``claimed``: the start
    ``claim`` returned, when the caller claimed the source; ``deadline``: seconds for fetching it."""
    db = catalogue.connect(database)
    try:
        found = store.source(db, name)
        if found is None:
            known = ", ".join(s["name"] for s in store.sources(db)) or "none yet (mapapp sync add)"
            return Outcome(name, False, Message(N_("no source '%(name)s'; the sources are: %(known)s"), name=name,
                                                known=known))
        try:
            started = claimed if claimed is not None else claim(db, name)
        except SyncError as e:  # not recorded: the run going on records its own outcome
            return Outcome(name, False, e.args[0])
        try:
            try:
                outcome = _run(database, db, found, settings, deadline)
            except SyncError as e:
                outcome = Outcome(name, False, e.args[0])
            except Exception as e:  # a source's surprise stops this source, not the next ones (cron)
                outcome = Outcome(name, False, Message(N_("not applied: %(error)s"), error=str(e) or type(e).__name__))
            with catalogue.write_transaction(db):
                store.record_outcome(db, name, outcome.data())
        finally:
            with catalogue.write_transaction(db):
                store.end_run(db, name, started)
        return outcome
    finally:
        db.close()


def _run(database, db, found: dict, settings: dict, deadline: float) -> Outcome:
    name = found["name"]
    data, media = pull(found["url"], max_bytes=int(settings["UPLOAD_MAX_MB"]) * 1024 * 1024, allow=allowed(settings),
                       deadline=deadline)
    fmt = detect(found["format"], found["url"], media, data)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
    path = to_file(data, fmt, media, Path(settings["UPLOAD_DIR"]) / "sync", f"{name}-{stamp}")
    try:
        return _apply(database, db, found, path, settings)
    finally:  # the import keeps its report; the source's copy is not kept
        path.unlink(missing_ok=True)


def _apply(database, db, found: dict, path: Path, settings: dict) -> Outcome:
    name = found["name"]
    with catalogue.write_transaction(db):
        import_id = jobs.create(db, user_email=f"sync:{name}", filename=path.name, stored_path=str(path),
                                source=name, project=found["project"], status_choice=found["status"])
        if found["mapping"]:
            jobs.set_mapping(db, import_id, found["mapping"])
    try:
        report = jobs.run_now(database, import_id, settings, keep_hand_edits=True)
    except jobs.ImportBusy as e:
        raise SyncError(Message(N_("%(why)s; nothing was changed"), why=str(e))) from None
    if report is None:
        record = jobs.get(db, import_id)
        error = record["error"] if record else "the import failed"
        if "no data rows" in error:
            return Outcome(name, False, Message(N_("the source lists 0 organisations (%(error)s); nothing was "
                                                   "changed. If they really are all gone, forget the source and "
                                                   "archive them"), error=error), import_id=import_id)
        return Outcome(name, False, Message(N_("not applied: %(error)s"), error=error), import_id=import_id)
    seen = {row.slug for row in report.rows if row.slug}
    gone = [{"slug": slug, "name": title, "status": status}
            for slug, title, status, _ref in store.refs_of_source(db, name) if slug not in seen and status != "archived"]
    counts = report.counts
    message = Message(N_("%(counts)s%(kept)s%(gone)s"), counts=Message(
        N_("%(created)s created, %(updated)s updated, %(unchanged)s unchanged, %(skipped)s skipped"),
        created=counts["created"], updated=counts["updated"], unchanged=counts["unchanged"],
        skipped=counts["skipped"]),
        kept=Message(N_("; organisations whose fields edited here stayed as they were (the source's values for those fields were not applied): %(n)s"), n=report.kept_by_hand) if report.kept_by_hand else "",
        gone=Message(N_("; %(n)s no longer in the source (kept here: review them)"), n=len(gone)) if gone else "")
    return Outcome(name, True, message, import_id=import_id, counts=dict(counts), kept_by_hand=report.kept_by_hand,
                   gone=gone[:LISTED], gone_count=len(gone))
