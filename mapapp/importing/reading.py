"""A file read and checked chunk by chunk, in this process or in a second one.

Reading and checking a row is about half of an import's work, writing it to SQLite the
other half. For a large file the rows are read and checked by a second process while
this one locates and writes the chunk before: on two cores the import takes about as
long as its slower half. Both ways run the same code (``stream``) and give the same
chunks, issues and report; the second process only sends them over a pipe.
"""

from __future__ import annotations

import gc
import itertools
import os
import pickle  # nosec B403 # only between the importer and the process it starts
import signal
import subprocess  # nosec B404
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from ..processes import this_python
from ..translate import N_, Message
from . import columns, fieldcolumns, sniff
from .categories import CategoryIndex
from .readers import FORMATS, ReadError, read_table
from .report import Report
from .rows import Checked, Validator

# Rows read, checked, located and written together: memory holds a few chunks, never the file.
CHUNK_ROWS = 5000
# A second process's first chunk: the importer waits for it while the file is opened, and
# checking 5,000 rows took 0.45 s more of that wait (issue 31).
FIRST_CHUNK_ROWS = 1000
PICTURE_SAMPLE = 20  # first rows whose cells tell a column of picture addresses (see columns.recognise_picture_columns)
# Chunks the second process may have checked ahead of the importer, waiting to be sent
# (about 1.4 MB each, pickled). Sent one by one, the importer's slower chunks held the reading
# back and its faster ones waited for it: 9 s of a million rows (issue 31).
AHEAD_CHUNKS = 4
AHEAD_BYTES = 32 * 1024 * 1024  # rows of long texts: fewer chunks ahead (one always goes)
# From these sizes a file is read by a second process (starting one costs about half a
# second; smaller files are read faster than that here).
SECOND_PROCESS_BYTES = {"csv": 4_000_000, "xlsx": 1_500_000, "ods": 1_000_000, "geojson": 8_000_000}


class ImportFailed(Exception):
    """The file as a whole cannot be imported; the message says what to fix."""


@dataclass
class ReadSpec:
    """How to read the file: the part of the import's options that reading needs (it
    crosses to the second process, so it holds only plain values)."""

    sheet: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    mapping: str | Path | dict | None = None
    max_rows: int | None = None
    country: str | None = None  # the file's country, for rows that give none
    categories: CategoryIndex | None = None  # the catalogue's tree, read once by the importer
    fields: tuple = ()  # the network's own fields (mapapp.fields.Field), for their columns
    # (the geocoder chain's offline spec, whether to geocode): the rows are located while they
    # are checked, as the importer would (see importer._reader_locates)
    locate: tuple[str, bool] | None = None


@dataclass
class TableInfo:
    """What is known of the file once its header is read."""

    headers: list[str]
    format: str
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    sheets: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, table) -> TableInfo:
        return cls(list(table.headers), table.format, table.encoding, table.delimiter, table.sheet,
                   list(table.sheets or []), list(table.notes))


def open_table(path: Path, spec: ReadSpec):
    """The file's table (its rows still to be read) and its column plan."""
    try:
        if isinstance(spec.mapping, dict):
            mapping = columns.check_mapping(spec.mapping, "the mapping")
        else:
            mapping = columns.load_mapping(spec.mapping) if spec.mapping else None
        table = read_table(path, sheet=spec.sheet, encoding=spec.encoding,
                           delimiter=spec.delimiter, score_header=columns.score_header)
    except (ReadError, columns.MappingError) as e:
        raise ImportFailed(str(e)) from None
    if mapping is None:
        known = columns.recognise_format(table.headers)
        if known:
            mapping = known.mapping
            table.notes.append(Message(N_("recognised the format '%(title)s' from its headers: its ready-made "
                                          "mapping was applied"), title=known.title))
    plan = columns.plan_columns(table.headers, mapping)
    fieldcolumns.claim(plan, table.headers, spec.fields)
    # The first rows, read ahead, show what the unrecognised columns hold; then the rows go on as they were.
    head = list(itertools.islice(table.rows, sniff.SAMPLE_ROWS))
    table.rows = itertools.chain(head, table.rows)
    if plan.unknown:  # a column of picture addresses is known by its cells, whatever its header
        columns.recognise_picture_columns(plan, table.headers, [cells for _number, cells in head[:PICTURE_SAMPLE]])
    sniff.guess(table.headers, head, plan, has_points=bool(table.points))
    return table, plan


def stream(path: Path, spec: ReadSpec, size: Callable[[], int]) -> Iterator[tuple]:
    """The file read and checked, as messages: ``("table", TableInfo, plan)`` first, then
    ``("chunk", Checked, issues)`` for each ``size()`` rows, then ``("end", overflow,
    rows not read)`` (rows past ``max_rows``; their cells beyond the last header)."""
    table, plan = open_table(path, spec)
    yield "table", TableInfo.of(table), plan
    log = Report(file=path.name, source="")
    rows = rest = iter(table.rows)
    if spec.max_rows is not None:
        rows = itertools.islice(rows, spec.max_rows)
    try:
        for checked in Validator(table, plan, log, spec.categories, country=spec.country,
                                 fields=spec.fields, locate=spec.locate).chunks(rows, size):
            yield "chunk", checked, log.issues
            log.issues = []
        unread = sum(1 for _ in rest) if spec.max_rows is not None else 0
    except ReadError as e:  # found late in the file: nothing of it is kept
        raise ImportFailed(e.args[0] if e.args else str(e)) from None
    yield "end", list(table.overflow), unread


class CheckedFile:
    """An open file: its ``table`` and column ``plan`` (waited for when first asked, so the
    importer can prepare meanwhile), its checked chunks (``chunks``), and once they are all
    taken, ``overflow`` and ``unread`` (see ``stream``)."""

    def __init__(self, messages: Iterator[tuple]):
        self._messages = messages
        self._opened: tuple | None = None
        self.overflow: list[int] = []
        self.unread = 0

    def _first(self) -> tuple:
        if self._opened is None:
            _, table, plan = next(self._messages)
            self._opened = (table, plan)
        return self._opened

    @property
    def table(self) -> TableInfo:
        return self._first()[0]

    @property
    def plan(self) -> columns.ColumnPlan:
        return self._first()[1]

    def chunks(self, report: Report) -> Iterator[Checked]:
        """The checked chunks; the problems found in each go into ``report`` before it is taken."""
        self._first()
        for kind, *payload in self._messages:
            if kind == "end":
                self.overflow, self.unread = payload
                return
            checked, issues = payload
            for issue in issues:
                report.add(issue.row, issue.column, issue.level, issue.message)
            for row, column, value, retired, kind in checked.unknown_categories:
                report.add_unknown_category(row, column, value, retired, kind)
            yield checked


def second_process_pays(path: Path, spec: ReadSpec) -> bool:
    """Whether reading ``path`` in a second process is worth starting one."""
    limit = SECOND_PROCESS_BYTES.get(FORMATS.get(path.suffix.lower(), ""))
    if limit is None or not sys.executable or (spec.max_rows is not None and spec.max_rows <= 2 * CHUNK_ROWS):
        return False  # (an embedded interpreter may not know its own executable)
    try:
        return path.stat().st_size >= limit
    except OSError:
        return False  # read_table says what is wrong with it


@contextmanager
def open_checked(path: Path, spec: ReadSpec, size: Callable[[], int], *, second_process: bool):
    """The ``CheckedFile`` of ``path``, read here (chunks of ``size()`` rows, asked before
    each) or by a second process (chunks of ``size()`` rows, asked once); ``ImportFailed``
    when it cannot be read. The second process is stopped on leaving, whatever happened."""
    messages = None
    if second_process:
        messages = _from_second_process(path, spec, size())
        try:
            next(messages)  # started: it reads the file while the importer prepares
        except OSError:  # no process can be started here (limits, no executable): read here
            messages = None
    if messages is None:
        messages = stream(path, spec, size)
    try:
        yield CheckedFile(messages)
    finally:
        messages.close()


# The reading process of a table reads no pandas, which sqlite-utils loads whenever it can
# (0.6 s of the process's start, before its first chunk: issue 31); GeoJSON is read with
# geopandas, which needs it.
_WITHOUT_PANDAS = "import sys; sys.modules.setdefault('pandas', None); "


def _from_second_process(path: Path, spec: ReadSpec, size: int) -> Iterator[tuple]:
    without = "" if FORMATS.get(path.suffix.lower()) == "geojson" else _WITHOUT_PANDAS
    command, env = this_python(f"{without}from {__name__} import second_process; second_process()")
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)  # nosec B603 # this interpreter, this module, no shell
    try:
        try:
            pickle.dump((str(path), spec, size), process.stdin, protocol=pickle.HIGHEST_PROTOCOL)
            process.stdin.close()
        except BrokenPipeError:
            pass  # it stopped at once: reading its answer says so
        yield ("started",)
        while True:
            try:
                kind, *payload = pickle.load(process.stdout)  # nosec B301 # from the process started above
            except EOFError:
                code = process.wait()
                raise ImportFailed(f"the process reading {path.name} stopped before the end of the file "
                                   f"(exit code {code}); nothing was imported. Run the import again; if it "
                                   "stops again, the machine may be short of memory") from None
            if kind == "failed":
                raise payload[0]
            yield (kind, *payload)
            if kind == "end":
                return
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
        for pipe in (process.stdin, process.stdout):
            try:
                pipe.close()
            except BrokenPipeError:
                pass  # what was left to send had nowhere to go


class _Sender:
    """Sends the second process's pickled messages from a thread of their own, so that it
    checks the next chunks (up to AHEAD_CHUNKS, and AHEAD_BYTES of them) while the importer is
    still taking one in."""

    def __init__(self, out):
        self.out, self.failed = out, None
        self.waiting: deque[bytes | None] = deque()
        self.waiting_bytes = 0
        self.turn = threading.Condition()
        self.thread = threading.Thread(target=self._send, name="mapapp-reading-sender", daemon=True)
        self.thread.start()

    def _send(self) -> None:
        while True:
            with self.turn:
                while not self.waiting:
                    self.turn.wait()
                data = self.waiting.popleft()
                self.waiting_bytes -= len(data or b"")
                self.turn.notify_all()
            if data is None:
                return
            if self.failed is None:
                try:
                    self.out.write(data)
                    self.out.flush()  # the whole chunk now: the importer can write it
                except BaseException as e:  # noqa: BLE001 # the importer stopped listening (BrokenPipeError), or worse
                    self.failed = e  # the rest is taken and dropped: put never waits for good

    def _full(self, size: int) -> bool:
        return bool(self.waiting) and (len(self.waiting) >= AHEAD_CHUNKS or self.waiting_bytes + size > AHEAD_BYTES)

    def put(self, message) -> None:
        data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        with self.turn:
            while self.failed is None and self._full(len(data)):
                self.turn.wait()
            if self.failed is not None:
                raise self.failed
            self.waiting.append(data)
            self.waiting_bytes += len(data)
            self.turn.notify_all()

    def close(self) -> None:
        """Wait until everything put was sent; raise what stopped the sending, if anything."""
        with self.turn:
            self.waiting.append(None)
            self.turn.notify_all()
        self.thread.join()
        if self.failed is not None:
            raise self.failed


def second_process() -> None:
    """The second process: read what to read from standard input, write ``stream``'s
    messages (or the error that stopped it) to standard output, pickled."""
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # a stray print goes to standard error, never into the messages
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the importer too: it stops us
    gc.disable()  # as in the importer (see importer._no_cycle_collection); the process is short-lived
    path, spec, size = pickle.load(sys.stdin.buffer)  # nosec B301 # written by the importer that started us
    sender = _Sender(out)
    try:
        sizes = itertools.chain([min(FIRST_CHUNK_ROWS, size)], itertools.repeat(size))
        for message in stream(Path(path), spec, sizes.__next__):
            sender.put(message)
        sender.close()
    except OSError as e:
        if isinstance(e, BrokenPipeError) or e is sender.failed:
            return  # the importer stopped listening: it failed or was interrupted
        _send_failure(sender, e, path)
    except BaseException as e:  # noqa: BLE001 # sent to the importer, which raises it there
        _send_failure(sender, e, path)


def _send_failure(sender: _Sender, error: BaseException, path: str) -> None:
    failure = error if isinstance(error, ImportFailed) else ImportFailed(
        f"reading {Path(path).name} failed: {type(error).__name__}: {error}")
    try:
        sender.put(("failed", failure))
        sender.close()
    except OSError:
        pass
