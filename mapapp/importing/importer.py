"""Spreadsheet or GeoJSON file → validated organisations → the catalogue, with a report.

The file streams through in chunks of rows: each chunk is read and checked (``rows``,
by a second process for a large file: see ``reading``), its organisations located
through the geocoder chain, then written, so memory holds a few chunks, never the whole
file. By default everything is
written in one transaction, which a dry run rolls back: a crash, Ctrl-C or a broken
line late in the file leaves the catalogue as it was. With ``batch_size`` (imports from the browser) rows are
committed in batches, so that staff edits are not locked out for the whole import;
each batch records its changes through ``on_commit`` in the same transaction, and
a failure reverts the batches already committed, so the import is still all or
nothing.
"""

from __future__ import annotations

import gc
import re
import sys
import threading
import time
from array import array
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import sqlite_utils

from .. import catalogue, geo, vocab
from ..catalogue import categories as category_tree
from ..catalogue import fields as field_store
from ..mapdata.geocode import ONLINE, Chain, Location, Outcome
from ..text import fold
from ..translate import N_, Message
from . import columns, links, normalise, readers, reading, sniff
from .categories import CategoryIndex
from .reading import ImportFailed
from .report import Report, RowOutcome
from .rows import Candidate, Checked

DUPLICATE_DISTANCE_KM = 1.0
# A row that looks like an organisation already stored: leave it out, update the stored
# organisation with it, or create it anyway.
DUPLICATE_CHOICES = ("skip", "update", "create")
# How to map a column, said the way the person importing can do it.
_HOW_TO_MAP = {
    "cli": {"unknown": N_("map it to a field in a mapping file (--mapping) or list it under 'ignore'"),
            "duplicate": N_("map one of them in a mapping file"), "name": N_("map it in a mapping file"),
            "sheet": N_("choose another sheet with --sheet")},
    "browser": {"unknown": N_("choose its field in the list of columns, or 'ignore'"),
                "duplicate": N_("choose the field of each in the list of columns"),
                "name": N_("choose 'name' for it in the list of columns"),
                "sheet": N_("to import another sheet, save it as a file of its own and upload that")},
}
ADDRESS_FIELDS = ("street", "postcode", "city", "region", "country")
SAMPLES = 10
SAMPLE_FIELDS = ("name", "street", "postcode", "city", "country", "website", "email", "lat", "lon",
                 "geo_precision", "status")
EMPTY_RELATED = {"themes": [], "needs": {}, "offers": {}, "descriptions": {}}
NEW_DEFAULTS = {"relation": "other", "lat": None, "lon": None, "geo_precision": None, "geo_source": None}


class _DryRun(Exception):
    """Raised inside the write transaction to roll a dry run back."""


@dataclass
class Options:
    """How to import (the ``mapapp import`` options)."""

    source: str | None = None
    project: str | None = None
    relation: str | None = None  # every linked row's relation to the project (a row's own cell wins)
    visit: str | None = None  # a visit's slug: every row goes to it (and to its project)
    status: str | None = None  # None: drafts for new organisations, stored status kept
    dry_run: bool = False
    geocode: bool = True
    sheet: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    mapping: str | Path | dict | None = None  # a file, or {"columns": {...}, "ignore": [...]}
    country: str | None = None  # ISO code: the country of every row that gives none
    progress: object = None  # called with (rows done, rows in all) as the import goes, in every phase
    max_rows: int | None = None  # only the first rows (a quick preview of a large file)
    batch_size: int | None = None  # rows of the first batch, then about a second's worth (None: one transaction)
    on_commit: object = None  # called (db, changes) inside each batch's transaction
    on_phase: object = None  # batches: called ("reading"|"locating"|"writing") as each begins, outside transactions
    on_revert: object = None  # called (db) inside the transaction that takes a failed import back
    where: str = "cli"  # "cli" or "browser": how messages tell a person to map a column
    keep_hand_edits: bool = False  # a sync: fields people edited here are not overwritten from the file
    second_process: bool | None = None  # read and check in a second process (None: for large files)
    # What to do with a new row that looks like an organisation already stored (DUPLICATE_CHOICES):
    # ``duplicates`` for every such row, ``duplicate_choices`` {row number: choice} for some.
    # The command line and the browser default to "skip" (nothing stored is changed or doubled).
    duplicates: str = "create"
    duplicate_choices: dict | None = None


@dataclass
class Preview:
    """What an import of a file would do: its columns and how they map, and the dry
    run's report (None, with ``error``, when the file as a whole cannot be imported)."""

    headers: list[str]
    plan: columns.ColumnPlan
    report: Report | None
    error: str | None = None


def import_file(db: sqlite_utils.Database, path: str | Path, options: Options, chain: Chain) -> Report:
    """Import ``path`` into the catalogue and return the report."""
    path = Path(path)
    _check_options(db, options)
    size = _ChunkSize(options)
    has_refs = catalogue.source_has_refs(db, _source(path, options))  # once: the reading process locates by it
    with _open(path, options, size, category_index(db), tuple(field_store.list_fields(db)),
               _reader_locates(path, options, chain, has_refs)) as file:
        return _import(db, path, file, options, chain, size, has_refs)


def preview(db: sqlite_utils.Database, path: str | Path, options: Options, chain: Chain, *,
            max_rows: int) -> Preview:
    """Read ``path`` once: its headers, the column plan, and a dry run of its first
    ``max_rows`` rows (its report holds the sample rows as they would be stored).
    ``ImportFailed`` only when the file cannot be read at all."""
    path = Path(path)
    options = replace(options, dry_run=True, max_rows=max_rows, batch_size=None)
    _check_options(db, options)
    size = _ChunkSize(options)
    has_refs = catalogue.source_has_refs(db, _source(path, options))
    with _open(path, options, size, category_index(db), tuple(field_store.list_fields(db)),
               _reader_locates(path, options, chain, has_refs)) as file:
        headers, plan = file.table.headers, file.plan  # ImportFailed here: the file cannot be read at all
        try:
            report = _import(db, path, file, options, chain, size, has_refs)
        except ImportFailed as e:
            return Preview(headers, plan, None, str(e))
        return Preview(headers, plan, report)


def _check_options(db: sqlite_utils.Database, options: Options) -> None:
    if options.status is not None and options.status not in vocab.IMPORT_STATUSES:
        raise ImportFailed(f"--status must be one of {', '.join(vocab.IMPORT_STATUSES)}, not '{options.status}'")
    if options.country:
        code, problem = normalise.parse_country(options.country)
        if problem or not code:
            raise ImportFailed(f"--country: {problem or 'give an ISO country code such as GB'}")
        options.country = code
    _linker(db, options)


def _linker(db: sqlite_utils.Database, options: Options) -> links.Linker:
    try:
        return links.Linker(db, project=options.project, relation=options.relation, visit=options.visit)
    except links.LinkError as e:
        raise ImportFailed(str(e)) from None


class _ChunkSize:
    """Rows for the next chunk: CHUNK_ROWS, or for batched imports about a second of writing."""

    def __init__(self, options: Options):
        self.rows = options.batch_size if _batched(options) else reading.CHUNK_ROWS
        self.fixed = False  # told once to a reading process: batched imports then keep it

    def __call__(self) -> int:
        return self.rows


def _batched(options: Options) -> bool:
    return bool(options.batch_size) and not options.dry_run


def category_index(db: sqlite_utils.Database) -> CategoryIndex:
    """The catalogue's category tree as an import matches it, read once per import."""
    return CategoryIndex.of(category_tree.all_categories(db, retired=True))


def _source(path: Path, options: Options) -> str:
    return options.source or catalogue.slugify(path.stem)


def _reader_locates(path: Path, options: Options, chain: Chain, has_refs: bool) -> tuple[str, bool] | None:
    """What a reading process needs to locate the rows itself (``ReadSpec.locate``), or None
    when the importer must: when a step needs the catalogue or the network, when rows may
    update stored organisations (``has_refs``: locating then depends on what is stored, see
    ``_locate``), or when the file is not a CSV (a workbook's reading process parses the whole
    sheet before its first chunk, then checks rows about as fast as the importer writes them:
    locating there made it the slower half, and 100,000 XLSX rows 0.9 s longer).

    Issue 31: locating the rows whose point lies outside their country, or that have none,
    was about 3 s of the importer's work on a million CSV rows, while the process reading them
    had time to spare. That process asks the same chain in the same order, so what it finds
    is what the importer would have found."""
    spec = chain.offline_spec()
    if spec is None or has_refs or readers.FORMATS.get(path.suffix.lower()) != "csv":
        return None
    return spec, options.geocode


def _open(path: Path, options: Options, size: _ChunkSize, categories: CategoryIndex, fields: tuple = (),
          locate: tuple[str, bool] | None = None):
    """The file opened for reading and checking: by a second process when it is large.
    Batched imports (from the browser) size their chunks as they go when they read the file
    themselves; a second process is told one size (CHUNK_ROWS, after a first chunk of
    FIRST_CHUNK_ROWS), and ``in_batches`` lets such chunks share a transaction (issue 31:
    reading in the job worker's own process made a browser import of a large file take about
    as long again as the command line's)."""
    spec = reading.ReadSpec(options.sheet, options.encoding, options.delimiter, options.mapping, options.max_rows,
                            options.country, categories, fields)
    second = options.second_process
    if second is None:
        second = reading.second_process_pays(path, spec)
    if second:
        spec.locate = locate  # read here, the rows are located as they are written
    if second and _batched(options):
        size.rows, size.fixed = max(size.rows, reading.CHUNK_ROWS), True
    return reading.open_checked(path, spec, size, second_process=second)


def _import(db: sqlite_utils.Database, path: Path, file: reading.CheckedFile, options: Options,
            chain: Chain, size: _ChunkSize, has_refs: bool) -> Report:
    source = _source(path, options)
    context = _WriteContext.prepare(db, options, has_refs)  # while a second process reads the file
    table, plan = file.table, file.plan
    report = Report(file=path.name, source=source, dry_run=options.dry_run,
                    replaced_by=category_tree.replacements(db))
    report.notes.extend(table.notes)
    map_it = {k: Message(v) for k, v in _HOW_TO_MAP[options.where].items()}
    if len(table.sheets) > 1 and options.sheet is None:
        report.notes.append(map_it["sheet"])
    report.columns = recognised_columns(table.headers, plan)
    for header in plan.unknown:
        share = plan.filled.get(header, 0)
        if share >= sniff.IMPORTANT:
            report.add(None, header, "warning", Message(
                N_("column '%(column)s' (%(share)s %% filled) was not imported: it was not recognised; %(how)s"),
                column=header, share=round(100 * share), how=map_it["unknown"]))
            continue
        report.add(None, header, "warning", Message(N_("column not recognised, so not imported; %(how)s"),
                                                    how=map_it["unknown"]))
    for header, target, kept in plan.duplicates:
        report.add(None, header, "warning", Message(
            N_("also looks like '%(target)s', already read from column '%(kept)s'; not imported (%(how)s)"),
            target=target, kept=kept, how=map_it["duplicate"]))
    if "name" not in plan.fields.values():
        raise ImportFailed(Message(
            N_("no column holds the organisations' names; the headers are: %(headers)s. "
               "Call one 'name' (or Nom, Nome, Nazwa, Όνομα, Naam) or %(how)s"),
            headers=", ".join(table.headers), how=map_it["name"]))
    context.columns = {f: table.headers[i] for i, f in plan.fields.items()}
    run = _Run(db, options, chain, report, source, size, context)
    checked = _non_empty(file.chunks(report), path)
    with _no_cycle_collection():
        if _batched(options):
            run.in_batches(checked)
        else:
            try:
                with catalogue.write_transaction(db):
                    run.in_one_transaction(checked)
                    if options.dry_run:
                        raise _DryRun
            except _DryRun:
                pass
    total = run.rows_read + file.unread
    if total > run.rows_read:
        report.notes.append(Message(N_("only the first %(n)s of %(total)s rows were checked"),
                                    n=options.max_rows, total=total))
    for number in file.overflow[:1]:
        report.add(number, Message(readers.EXTRA_HEADER), "warning", Message(N_(
            "%(n)s row(s) from row %(row)s have cells beyond the last header; those cells were not imported"),
            n=len(file.overflow), row=number))
    report.details = _describe(table, total)
    if options.progress:
        options.progress(run.rows_read, run.rows_read)
    report.samples.sort(key=lambda s: s["row"])
    return report


def recognised_columns(headers: list[str], plan: columns.ColumnPlan) -> list[tuple[str, str, str]]:
    """(header, field, how) of each column read, in the file's order: how is "mapping",
    "name" or the evidence of its content."""
    found = {i: (headers[i], f, plan.how.get(i, "name")) for i, f in plan.fields.items()}
    for fld, more in plan.joined.items():
        found.update({i: (headers[i], fld, plan.how.get(i, "name")) for i in more})
    return [found[i] for i in sorted(found)]


def _non_empty(checked, path: Path):
    """The checked chunks, refusing a file without data rows before anything is written."""
    checked = iter(checked)
    first = next(checked, None)
    if first is None:
        raise ImportFailed(Message(N_("%(file)s has a header row but no data rows"), file=path.name))
    yield first
    yield from checked


_collector_lock = threading.Lock()
_collector_users = [0, True]  # imports running, whether the collector was on before them
# Rows between the passes an import asks of the cycle collector while it is off.
COLLECT_EVERY_ROWS = 100_000


@contextmanager
def _no_cycle_collection():
    """An import makes millions of short-lived objects that reference counting frees (an
    import of 100,000 rows leaves about ten cycles behind); the cycle collector's passes
    over them took a quarter of the import's time. While imports run it is off (a
    process-wide switch, put back when the last one ends), and each import asks for one
    pass every COLLECT_EVERY_ROWS rows instead (``_Run.collect``)."""
    with _collector_lock:
        if _collector_users[0] == 0:
            _collector_users[1] = gc.isenabled()
            gc.disable()
        _collector_users[0] += 1
    try:
        yield
    finally:
        with _collector_lock:
            _collector_users[0] -= 1
            if _collector_users[0] == 0 and _collector_users[1]:
                gc.enable()


def _describe(table, rows: int) -> str:
    if table.format == "csv":
        sep = {"\t": "tab", ",": "comma", ";": "semicolon", "|": "pipe"}.get(table.delimiter, table.delimiter)
        return f"CSV, {table.encoding}, {sep}-separated, {rows} rows"
    if table.format in ("xlsx", "ods"):
        return f"{table.format.upper()}, sheet '{table.sheet}', {rows} rows"
    return f"GeoJSON, {rows} features"


class _Run:
    """One import going through the file chunk by chunk: each chunk's rows are checked,
    located and written before the next chunk is taken."""

    def __init__(self, db, options: Options, chain: Chain, report: Report, source: str, size: _ChunkSize,
                 context: _WriteContext):
        self.db, self.options, self.chain, self.report, self.source = db, options, chain, report, source
        self.context = context
        self.rows_read, self.consumed, self.collected_at = 0, 0.0, 0
        self.size = size

    def progress(self, done: int) -> None:
        """Rows done, against the file's estimated rows (from how much of it was read)."""
        if self.options.progress:
            self.options.progress(done, max(self.expected_rows(), 1))

    def expected_rows(self) -> int:
        """The rows the file holds, estimated from how much of it the rows read so far took."""
        consumed = self.consumed
        return max(round(self.rows_read / consumed) if consumed > 0 else self.rows_read, self.rows_read)

    def prepare(self, chunk: Checked) -> dict:
        """Take in one checked chunk and locate its candidates: what is stored of them."""
        self.rows_read += chunk.rows
        self.consumed = chunk.consumed
        candidates = chunk.candidates
        stored = (catalogue.stored_by_source(self.db, self.source, refs=[c.key for c in candidates])
                  if self.context.source_has_refs and candidates else {})
        _locate(candidates, stored, self.chain, self.options, self.report,
                lambda n: self.progress(self.rows_read - chunk.rows + n))
        return stored

    def collect(self) -> None:
        """One pass of the cycle collector (off during imports) every COLLECT_EVERY_ROWS rows."""
        if self.rows_read - self.collected_at >= COLLECT_EVERY_ROWS:
            gc.collect(1)
            self.collected_at = self.rows_read

    def sized_up(self) -> bool:
        """Whether enough rows were read to tell the file's size: a first chunk of 1,000 CSV
        rows has read one buffer of the file, too little to estimate its rows from."""
        return self.rows_read >= reading.CHUNK_ROWS

    def in_one_transaction(self, checked) -> None:
        set_aside = None  # the indexes a large load rebuilds at its end (decided once the file's size is known)
        for chunk in checked:
            stored = self.prepare(chunk)
            if set_aside is None and self.sized_up():
                set_aside = catalogue.set_indexes_aside(self.db, self.expected_rows())
                if set_aside:  # a large load: the stored slugs are no more than it adds
                    self.context.slugs.hold_all()
            outcomes = _write(self.db, chunk.candidates, stored, self.source, self.options, self.report,
                              self.context, keep_changes=False)
            self.report.rows.extend(sorted(chunk.skipped + outcomes, key=lambda r: r.row))
            self.progress(self.rows_read)
            self.collect()
        def rebuild() -> None:
            catalogue.rebuild_indexes(self.db, set_aside or [])
        if self.context.first_new_id is not None and not self.options.dry_run:
            # Once for the whole import (a dry run is rolled back before anything reads it); a
            # packed tree is worked out while the indexes are rebuilt.
            self.report.spatial_index = catalogue.index_new_points(self.db, self.context.first_new_id,
                                                                   self.context.new_points, meanwhile=rebuild)
        else:
            rebuild()

    def in_batches(self, checked) -> None:
        """Commit as it goes (staff can write between transactions); a first chunk of
        ``batch_size`` rows, then about BATCH_SECONDS' worth. Chunks of a fixed size (from
        the reading process: FIRST_CHUNK_ROWS, then CHUNK_ROWS) share a transaction until it
        has held the write lock BATCH_SECONDS. A failure takes back what was committed."""
        report, options = self.report, self.options
        committed = 0
        phase = options.on_phase or (lambda _phase: None)
        # Chunks of CHUNK_ROWS take a fraction of a second each: a transaction (and the pause
        # after it) per chunk made a browser import of 100,000 rows pause 20 times (issue 31).
        # Not while online geocoders may be asked: locating then takes as long as they answer.
        span = self.size.fixed and not _may_ask_online(options, self.chain.names)
        transaction = ExitStack()
        began, committed_at, hold_decided = 0.0, -BATCH_PAUSE_SECONDS, False
        paused_at = time.monotonic()  # the last turn given to writers (see UNANNOUNCED_WRITER_SECONDS)

        def commit() -> None:
            nonlocal committed
            if options.on_commit:
                options.on_commit(self.db, report.changes[committed:])
            transaction.close()
            committed = len(report.changes)

        try:
            phase("reading")
            for chunk in checked:
                open_ = self.db.conn.in_transaction
                if not open_:
                    phase("locating")
                stored = self.prepare(chunk)
                if not hold_decided and self.sized_up():
                    hold_decided = True
                    if catalogue.is_large_load(self.db, self.expected_rows()):
                        self.context.slugs.hold_all(others_may_write=True)  # staff may add some between batches
                if not open_:
                    phase("writing")
                    # A waiting writer's turn: what is left of it once this chunk was read and located.
                    _pause(max(0.0, BATCH_PAUSE_SECONDS - (time.monotonic() - committed_at)))
                    began = time.monotonic()
                    transaction.enter_context(catalogue.write_transaction(self.db))
                written = time.monotonic()
                outcomes = _write(self.db, chunk.candidates, stored, self.source, options, report,
                                  self.context, keep_changes=True)
                report.rows.extend(sorted(chunk.skipped + outcomes, key=lambda r: r.row))
                now = time.monotonic()
                if not self.size.fixed:
                    rows = self.size.rows
                    self.size.rows = max(1, min(4 * rows, int(rows * BATCH_SECONDS / max(now - written, 1e-3))))
                # Committed once it has held the lock BATCH_SECONDS: a waiting writer waits that long
                # and one chunk more at most (committing when one more chunk would pass it made half
                # as many transactions again, each with its commit and its pause).
                if not span or now - began >= BATCH_SECONDS:
                    commit()
                    committed_at = time.monotonic()
                    if committed_at - paused_at < UNANNOUNCED_WRITER_SECONDS and \
                            catalogue.writers_waiting(self.db) is False:
                        committed_at = -BATCH_PAUSE_SECONDS  # nobody waits: no turn to give
                    else:
                        paused_at = committed_at
                    phase("reading")
                self.progress(self.rows_read)
                self.collect()
            if self.db.conn.in_transaction:
                commit()
        except BaseException:
            try:
                transaction.__exit__(*sys.exc_info())  # rolls back the open transaction
            finally:  # even when SQLite had rolled it back itself and ROLLBACK fails
                revert(self.db, report.changes[:committed], after=options.on_revert)
            raise


# -- phase 2: locating ---------------------------------------------------------------------


# Rows between two progress reports while locating offline.
PROGRESS_ROWS = 500


def _may_ask_online(options: Options, names: list[str]) -> bool:
    """Whether locating may wait for an online geocoder (of the chain's step ``names``)."""
    return bool(options.geocode and set(names) & set(ONLINE))


def _locate(candidates: list[Candidate], stored: dict, chain: Chain, options: Options,
            report: Report, progress) -> None:
    """Locate one chunk's candidates; ``progress(n)`` after each when online geocoders may be
    asked (they make it slow, so every row reports and the callback decides how often to record
    it), else every PROGRESS_ROWS (offline, a chunk takes a fraction of a second).
    The provided points were checked against their countries with the chunk."""
    names = chain.names  # a list made per call: once, not per row
    provided_first = names[:1] == ["provided"]
    every = 1 if _may_ask_online(options, names) else PROGRESS_ROWS
    for done, c in enumerate(candidates):
        if options.progress and done % every == 0:
            progress(done)
        previous = stored.get(c.key)
        if previous and previous.values["geo_precision"] == "manual":
            continue  # placed by hand: never moved by an import
        if previous and previous.values["lat"] is not None and c.address.lat is None and all(
                c.values.get(f, previous.values[f]) == previous.values[f] for f in ADDRESS_FIELDS):
            continue  # same address as stored: keep the stored point without asking again
        if c.address.inside and provided_first:
            # Checked in bulk and inside its country: what the provided step would say.
            c.outcome = Outcome(Location(c.address.lat, c.address.lon, "provided", "provided"),
                                tried=["provided"])
            continue
        if c.outcome is None:  # else located by the reading process (never with rows stored: _reader_locates)
            # A country the row states wrongly is reported, not replaced by a guess.
            c.outcome = chain.locate_row(c.address, geocode=options.geocode,
                                         infer_country="country" not in c.rejected)
        for note in c.outcome.notes:
            report.add(c.row, "location", "warning", note)
        for fld, value in c.outcome.split.items():
            c.values[fld] = value
        if c.outcome.split:
            report.add(c.row, "street", "warning", Message(
                N_("the address was in one cell; split into street, postcode and town")))
        if c.outcome.country and not c.values.get("country"):
            c.values["country"] = c.outcome.country
            report.add(c.row, "country", "warning",
                       Message(N_("country set to %(country)s: %(why)s"), country=c.outcome.country,
                               why=c.outcome.country_from) if c.outcome.country_from else
                       Message(N_("country set to %(country)s, where the coordinates lie"),
                               country=c.outcome.country))
    if any(c.outcome and c.outcome.split for c in candidates):
        for c in candidates:  # the chunk's rows are written together: each with the split's fields
            for fld in ("street", "postcode", "city"):
                c.values.setdefault(fld, "")


# -- phase 3: writing ------------------------------------------------------------------------


@dataclass
class _WriteContext:
    """What the write phase knows of the catalogue before it starts, kept across chunks."""

    existing: _ExistingIndex | None  # None: the catalogue was empty, nothing to be a duplicate of
    source_has_refs: bool  # the source was imported before: rows may update stored organisations
    linker: links.Linker
    batched: bool  # committed batch by batch (from the browser): each batch fills the spatial index itself
    slugs: catalogue.slugs.Picker  # new organisations' slugs, chunk after chunk
    first_new_id: int | None = None  # one transaction: new points go into the spatial index at the end
    # ... from these ids, latitudes and longitudes, as written (not read back from the table; no
    # later row of the import updates them: a file's rows are unique by key, and the stored
    # organisations a row may update or duplicate are read before the import)
    new_points: tuple = field(default_factory=lambda: (array("q"), array("d"), array("d")))
    columns: dict[str, str] | None = None  # field → the file's header, for the report

    @classmethod
    def prepare(cls, db, options: Options, source_has_refs: bool) -> _WriteContext:
        return cls(_ExistingIndex.build(db), source_has_refs, _linker(db, options),
                   batched=_batched(options), slugs=catalogue.slugs.Picker(db))


class _ExistingIndex:
    """The organisations already in the catalogue, by folded name and by website, held as
    sorted hashes (16 bytes each): a million of them fit in a few dozen megabytes. A hit
    is read from the catalogue and compared in full."""

    def __init__(self, db, names: np.ndarray, name_ids: np.ndarray, sites: np.ndarray, site_ids: np.ndarray):
        self.db = db
        self.names, self.name_ids, self.sites, self.site_ids = names, name_ids, sites, site_ids

    @classmethod
    def build(cls, db) -> _ExistingIndex | None:
        names, name_ids, sites, site_ids = [], [], [], []
        for org_id, name, website in catalogue.names_and_websites(db):
            names.append(hash(fold(name)))
            name_ids.append(org_id)
            if website:
                sites.append(hash(_site_key(website)))
                site_ids.append(org_id)
        if not names:
            return None

        def sorted_pair(keys, ids):
            keys, ids = np.array(keys, dtype=np.int64), np.array(ids, dtype=np.int64)
            order = np.argsort(keys, kind="stable")
            return keys[order], ids[order]

        return cls(db, *sorted_pair(names, name_ids), *sorted_pair(sites, site_ids))

    @staticmethod
    def _ids(keys: np.ndarray, ids: np.ndarray, key: int) -> list[int]:
        start = int(np.searchsorted(keys, key, "left"))
        end = int(np.searchsorted(keys, key, "right"))
        return ids[start:end].tolist()

    def same_name(self, name: str) -> list[dict]:
        ids = self._ids(self.names, self.name_ids, hash(fold(name)))
        return [o for o in catalogue.duplicate_candidates(self.db, ids) if fold(o["name"]) == fold(name)]

    def same_site(self, website: str) -> list[dict]:
        key = _site_key(website)
        ids = self._ids(self.sites, self.site_ids, hash(key))
        return [o for o in catalogue.duplicate_candidates(self.db, ids) if o["website"] and _site_key(o["website"]) == key]


# Each batch holds the write lock about this long; then at least BATCH_PAUSE_SECONDS pass
# before the next takes it, long enough for a waiting writer (SQLite's busy handler retries
# every 100 ms at most) to get its turn. The next chunk is read and located meanwhile: an idle
# pause after every batch was a tenth of a browser import's time (issue 31).
FIRST_BATCH = 1000  # rows of a batched import's first batch (then about BATCH_SECONDS' worth)
BATCH_SECONDS = 1.0
BATCH_PAUSE_SECONDS = 0.12
# A writer that waits in ``catalogue.write_transaction`` says so (a shared lock on the
# catalogue's ``-writers`` file), and only then does a batch end with its turn; one that writes
# otherwise (autocommit) gets a turn at least this often. An idle pause after every batch was a
# tenth of a browser import's time (issue 31).
UNANNOUNCED_WRITER_SECONDS = 5.0


def _pause(seconds: float) -> None:
    """Let a waiting writer take the write lock (tests count these)."""
    if seconds > 0:
        time.sleep(seconds)


def revert(db, changes: list[tuple[int, str, dict | None]], *, in_transaction: bool = False,
           after=None) -> dict[str, int]:
    """Take back an import's changes ``(organisation id, "created"|"updated", before)``:
    delete what it created, restore what it updated, in one transaction (the caller's,
    with ``in_transaction``), in which ``after(db)`` runs too. Returns how many of each."""
    if not in_transaction:
        with catalogue.write_transaction(db):
            counts = revert(db, changes, in_transaction=True)
            if after:
                after(db)
            return counts
    counts = {"deleted": 0, "restored": 0}
    for org_id, action, before in reversed(changes):
        current = catalogue.organisation_state(db, org_id)
        if current is None:
            continue
        if action == "created":
            catalogue.delete_organisation(db, org_id)
            counts["deleted"] += 1
        elif before:
            catalogue.restore_state(db, org_id, {**current, **before})
            counts["restored"] += 1
    return counts


def _write(db, candidates: list[Candidate], stored: dict, source: str, options: Options,
           report: Report, context: _WriteContext, *, keep_changes: bool) -> list[RowOutcome]:
    """Write one chunk's candidates (inside the caller's transaction); return their outcomes.
    With ``keep_changes`` what each row changed is kept in ``report.changes`` (to take a
    batched import back)."""
    new: list[tuple[Candidate, dict, dict]] = []
    outcomes: list[RowOutcome] = []
    by_hand: dict[int, set[str]] = {}
    if options.keep_hand_edits:
        by_hand = catalogue.audit.hand_edited(db, [p.id for p in (stored.get(c.key) for c in candidates) if p])
    linked: dict[int, links.Link] = {}
    for c in candidates:
        link = _link(c, context, report)
        if isinstance(link, RowOutcome):
            outcomes.append(link)
            continue
        previous = stored.get(c.key)
        duplicate_of = None
        if previous is None and context.existing is not None:
            decided = _decide_duplicate(db, c, options, context.existing, report)
            if isinstance(decided, RowOutcome):
                outcomes.append(decided)
                continue
            previous = duplicate_of = decided
        if previous is None:
            values = {**NEW_DEFAULTS, **c.values, "status": options.status or "draft"}
        else:
            values = {k: v for k, v in c.values.items() if k not in c.rejected}
        if link is not None:
            linked[c.row] = link
            # The relation a row gives is to its project; the organisation's own one only
            # takes it when it had none ('other'), as ``memberships.set_membership`` does.
            if previous is not None:
                values.pop("relation", None)
            elif link.relation and values.get("relation", "other") == "other":
                values["relation"] = link.relation
        kept = by_hand.get(previous.id, set()) if previous and by_hand else set()
        if kept and kept & {"lat", "lon", "geo_precision"}:
            kept |= {"lat", "lon", "geo_precision", "geo_source"}  # a point moved by hand stays where it was put
        values["source"] = source
        if c.outcome is not None:
            loc = c.outcome.location
            values.update(lat=loc and loc.lat, lon=loc and loc.lon,
                          geo_precision=loc and loc.precision, geo_source=loc and loc.source)
            if c.outcome.split and c.text:
                # The street, postcode and town split from one cell here: the town's slug form
                # and its search words are those of the split (the reading process had none).
                c.text = catalogue.new_row_text(c.values)
        if kept:  # edited here by hand: the source's value does not replace it
            values = {k: v for k, v in values.items() if k not in kept or k in ("source", "source_ref")}
            c.related = {k: v for k, v in c.related.items() if k not in kept}
            report.kept_by_hand += 1
        if previous is None:
            # New rows need no sorting: related_of's order only matters for comparing.
            new.append((c, values, {**EMPTY_RELATED, **c.related}))
            continue
        if options.status and "status" not in kept:
            values["status"] = options.status
        values = {**previous.values, **values}
        if duplicate_of is not None and duplicate_of.values["source_ref"] is not None:
            # Updated as a likely duplicate: it stays its own source's organisation.
            values.update(source=duplicate_of.values["source"], source_ref=duplicate_of.values["source_ref"])
        action = catalogue.update_organisation(
            db, previous, values, catalogue.related_of(**{**previous.related, **c.related}))
        if action == "updated" and keep_changes:
            report.changes.append((previous.id, "updated", {"values": previous.values,
                                                            "related": previous.related}))
        outcomes.append(_record(db, report, c, values, previous.id, previous.slug, action, linked.get(c.row)))
    if context.batched:
        context.slugs.forget_retired()  # staff may have deleted a published organisation since the last batch
    # Set-based in batches too (issue 31): the per-row triggers made a browser import take 1.8
    # times the command line's time; each batch swaps them inside its own transaction, so
    # staff writing between batches always find them in place.
    inserted = catalogue.bulk_insert(db, [(v, r, c.text) for c, v, r in new], picker=context.slugs,
                                     spatial=context.batched)
    if inserted and not context.batched and context.first_new_id is None:
        context.first_new_id = inserted[0][0]
    ids, lats, lons = context.new_points
    for (c, values, _), (org_id, slug) in zip(new, inserted):
        outcomes.append(_record(db, report, c, values, org_id, slug, "created", linked.get(c.row)))
        if values["lat"] is not None and not context.batched:
            ids.append(org_id)
            lats.append(values["lat"])
            lons.append(values["lon"])
        if keep_changes:
            report.changes.append((org_id, "created", None))
    return outcomes


def _record(db, report: Report, c: Candidate, values: dict, org_id: int, slug: str, action: str,
            link: links.Link | None) -> RowOutcome:
    if c.fields:
        field_store.set_values(db, org_id, c.fields)
    if link is not None:
        links.write(db, link, org_id)
        report.add_link(link.project, link.relation, link.visit)
    if c.pictures and not report.dry_run:
        report.pictures.append((c.row, org_id, values["name"], c.pictures))
    if values.get("lat") is None:
        report.add_not_located(c.row, values["name"], c.address.query())
    if len(report.samples) < SAMPLES:
        report.samples.append({"row": c.row, **{k: values.get(k) for k in SAMPLE_FIELDS},
                               "themes": c.related.get("themes", []),
                               "linked": link and {"project": link.project, "relation": link.relation,
                                                   "visit": link.visit}})
    return RowOutcome(c.row, values["name"], action, slug, values.get("geo_precision"), values.get("geo_source"))


def _link(c: Candidate, context: _WriteContext, report: Report) -> links.Link | RowOutcome | None:
    """Where the row goes (None: nowhere), or its outcome when its project is unknown."""
    if not c.links and not context.linker.active and context.linker.visit is None:
        return None  # most files: no project column and none chosen (asking was 4% of a profile's writing)
    header = (context.columns or {}).get
    link = context.linker.link(c.links, lambda fld, message: report.add(c.row, header(fld, fld), "warning", message))
    if isinstance(link, links.Link) or link is None:
        return link
    report.add(c.row, header("project", "project"), "error", link)
    return RowOutcome(c.row, c.values["name"], "skipped")


def _site_key(url: str) -> str:
    host_path = re.sub(r"^https?://(www\.)?", "", url.lower()).rstrip("/")
    return host_path


def _decide_duplicate(db, c: Candidate, options: Options, existing: _ExistingIndex,
                      report: Report) -> catalogue.Stored | RowOutcome | None:
    """A new row that looks like organisations already stored is reported with them, then
    what was chosen for it happens: its outcome when it is skipped, the stored organisation
    it updates, or None (created, anyway or because it is no duplicate)."""
    probe = dict(c.values)
    if c.outcome is not None:
        loc = c.outcome.location
        probe.update(lat=loc and loc.lat, lon=loc and loc.lon)
    found = _report_duplicates(c, probe, existing, report)
    if not found:
        return None
    choice = (options.duplicate_choices or {}).get(c.row) or options.duplicates
    choice = choice if choice in DUPLICATE_CHOICES else "skip"
    slug, org_id = next(iter(found.items()))
    report.decide_duplicate(c.row, choice, slug)
    if choice == "skip":
        report.add(c.row, "", "warning", Message(N_("skipped as a duplicate of %(slug)s"), slug=slug))
        return RowOutcome(c.row, c.values["name"], "skipped", slug)
    if choice == "update":
        stored = catalogue.stored_by_id(db, org_id)
        if stored is not None:
            report.add(c.row, "", "warning", Message(N_("updated %(slug)s, its likely duplicate"), slug=slug))
            return stored
    report.add(c.row, "", "warning", Message(N_("created anyway, though it looks like %(slug)s"), slug=slug))
    return None


def _report_duplicates(c: Candidate, values: dict, existing: _ExistingIndex, report: Report) -> dict[str, int]:
    """Report the stored organisations the row looks like; return them, {slug: id}."""
    found: dict[str, str] = {}
    ids: dict[str, int] = {}
    for org in existing.same_name(values["name"]):
        if org["lat"] is not None and values.get("lat") is not None:
            km = geo.distance_km((org["lat"], org["lon"]), (values["lat"], values["lon"]))
            if km <= DUPLICATE_DISTANCE_KM:
                found[org["slug"]] = Message(N_("same name, %(km)s km apart"), km=f"{km:.1f}")
                ids[org["slug"]] = org["id"]
        elif org["country"] == values.get("country") and fold(org["city"]) == fold(values.get("city") or ""):
            found.setdefault(org["slug"], Message(N_("same name and place, one of them not located")))
            ids[org["slug"]] = org["id"]
    if values.get("website"):
        for org in existing.same_site(values["website"]):
            found.setdefault(org["slug"], Message(N_("same website")))
            ids[org["slug"]] = org["id"]
    for slug, why in found.items():
        report.add_duplicate(c.row, values["name"], slug, why)
    return {slug: ids[slug] for slug in found}
