"""Work a request computes from scratch (an export, a chart, a PDF report), kept within bounds.

Anyone can ask for a new filter, distance or language, so each such computation is:

- done once per key: concurrent requests for the same key wait for the first one's result
  (``SingleFlight`` across the threads of a process, ``LockPool`` across processes, with
  the result in a file);
- limited per client and in all (``ColdLimiter``): beyond its slots, a request is refused
  with 429 and a Retry-After rather than queued behind others' work.

Every table here holds only what is running now, or is of fixed size: asking for many
distinct keys cannot grow them.
"""

from __future__ import annotations

import fcntl
import hashlib
import ipaddress
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from .errors import MapappError
from .translate import N_, Message

T = TypeVar("T")
RETRY_AFTER = 10  # seconds: about what a cold export or drawing takes
DRAWING_WAIT = 20  # seconds a chart or report may wait for a slot: a page asks for all its charts at once


class Busy(MapappError):
    """This client (or everyone together) already has as much cold work running as allowed."""

    status = 429

    def __init__(self, message: str, *, retry_after: int = RETRY_AFTER):
        super().__init__(message)
        self.retry_after = retry_after


def client_key(address: str, secret: str) -> str:
    """Who is asking, for the limits: the address hashed with the site's secret; an IPv6
    address by its /64 (one host usually holds a whole /64 and could rotate through it)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        ip = None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is None:
        # From the integer: a scoped address's text ("fe80::1%eth0/64") is no network's.
        address = str(ipaddress.IPv6Network((int(ip) >> 64 << 64, 64)))
    elif isinstance(ip, ipaddress.IPv6Address):
        address = str(ip.ipv4_mapped)
    return hashlib.sha256(f"{secret}|{address}".encode()).hexdigest()[:32]


class ColdLimiter:
    """At most ``per_client`` cold computations of one client at a time, and ``total`` of
    everyone's, in this process. A request may wait a little for a slot (a page's charts
    are asked for together), but only ``waiting_per_client`` of a client at once (and so many
    times the total of everyone's: waiting holds a server thread)."""

    def __init__(self, *, per_client: int = 2, total: int = 4, waiting_per_client: int = 8):
        self.per_client, self.total, self.waiting_per_client = per_client, total, waiting_per_client
        self._changed = threading.Condition()
        self._running: dict[str, int] = {}  # only clients with work running now
        self._waiting: dict[str, int] = {}  # only clients with requests waiting now

    def _refusal(self, client: str) -> Busy | None:
        if self._running.get(client, 0) >= self.per_client:
            return Busy(Message(N_("Your connection is already computing as much as it may at once; "
                                   "wait for it to finish, then try again.")))
        if sum(self._running.values()) >= self.total:
            return Busy(Message(N_("The server is busy computing other requests; try again in a few seconds.")))
        return None

    def enter(self, client: str, *, wait: float = 0.0) -> Callable[[], None]:
        """Take a slot for ``client`` (waiting up to ``wait`` seconds for one) or raise
        ``Busy``; returns the function that gives it back (safe to call more than once: a
        streamed answer may be closed twice)."""
        with self._changed:
            refusal = self._refusal(client)
            if (refusal and wait > 0 and self._waiting.get(client, 0) < self.waiting_per_client
                    and sum(self._waiting.values()) < self.waiting_per_client * self.total):
                self._waiting[client] = self._waiting.get(client, 0) + 1
                try:
                    self._changed.wait_for(lambda: self._refusal(client) is None, timeout=wait)
                finally:
                    left = self._waiting[client] - 1
                    if left:
                        self._waiting[client] = left
                    else:
                        del self._waiting[client]
                refusal = self._refusal(client)
            if refusal:
                raise refusal
            self._running[client] = self._running.get(client, 0) + 1
        released = threading.Event()

        def release() -> None:
            with self._changed:
                if released.is_set():
                    return
                released.set()
                left = self._running.get(client, 1) - 1
                if left > 0:
                    self._running[client] = left
                else:
                    self._running.pop(client, None)
                self._changed.notify_all()
        return release

    @contextmanager
    def slot(self, client: str, *, wait: float = 0.0) -> Iterator[None]:
        """A slot for the duration of a ``with`` block (see ``enter``)."""
        release = self.enter(client, wait=wait)
        try:
            yield
        finally:
            release()


class _Call:
    def __init__(self):
        self.done = threading.Event()
        self.value = None
        self.error: BaseException | None = None


class SingleFlight:
    """``do(key, make)``: one call of ``make`` per key at a time; the callers that arrive
    meanwhile get its result (or its error) instead of computing it again."""

    def __init__(self):
        self._lock = threading.Lock()
        self._calls: dict[object, _Call] = {}  # only keys being computed now

    def do(self, key: object, make: Callable[[], T]) -> T:
        with self._lock:
            call = self._calls.get(key)
            leader = call is None
            if leader:
                call = self._calls[key] = _Call()
        if not leader:
            call.done.wait()
            if call.error is not None:
                raise call.error
            return call.value
        try:
            call.value = make()
        except BaseException as e:
            call.error = e
            raise
        finally:
            with self._lock:
                del self._calls[key]
            call.done.set()
        return call.value


class LockPool:
    """A fixed number of lock files in ``folder``: a key takes the one its hash names, so
    that any number of keys needs no more files (two keys may share one and wait for each
    other, which is only slower). An ``flock`` excludes other processes and other threads."""

    def __init__(self, folder: str | Path, size: int = 64):
        self.folder, self.size = Path(folder), size

    @contextmanager
    def hold(self, key: str) -> Iterator[None]:
        number = int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) % self.size
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / f"{number:02d}.lock", "a") as lock_file:
            fcntl.flock(lock_file, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock_file, fcntl.LOCK_UN)


def file_once(path: Path, make: Callable[[], bytes], locks: LockPool) -> Path:
    """``path``, written with ``make()`` by the first process or thread that needs it; the
    others wait for it and read it (atomic: a reader never sees half a file)."""
    if path.exists():
        return path
    with locks.hold(str(path)):
        if path.exists():  # made meanwhile by whoever held the lock
            return path
        data = make()
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
        partial.write_bytes(data)
        os.replace(partial, path)
    return path
