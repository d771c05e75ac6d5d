"""Exports kept on disk per catalogue version and request.

A large export is computed once per catalogue version (and filters, language,
format), then served from its file, which the web layer streams. Computing is
bounded: one computation per key at a time across threads and worker processes
(a file lock), and at most ``max_parallel`` computations per process.
"""

from __future__ import annotations

import fcntl
import gzip
import hashlib
import os
import threading
from collections.abc import Callable
from pathlib import Path


class ExportCache:
    """Files named ``v<version>-<hash>.<extension>`` in ``folder``; older versions are
    deleted when a newer one is written (a file being streamed stays readable)."""

    def __init__(self, folder: str | Path, *, max_parallel: int = 2):
        self.folder = Path(folder)
        self._slots = threading.BoundedSemaphore(max_parallel)
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()

    def path_for(self, version: int, parts: tuple, extension: str) -> Path:
        """Where the export for ``parts`` at catalogue ``version`` is kept."""
        digest = hashlib.sha256(repr(parts).encode()).hexdigest()[:24]
        return self.folder / f"v{version}-{digest}.{extension}"


    def get(self, version: int, parts: tuple, extension: str, produce: Callable[[], bytes], *,
            gzipped: bool = False) -> Path:
        """The file for ``parts``, computing it with ``produce`` when it is not kept yet;
        with ``gzipped``, its gzip-compressed copy (compressed once)."""
        path = self._get(version, parts, extension, produce)
        if not gzipped:
            return path
        return self._get(version, parts, extension + ".gz", lambda: gzip.compress(path.read_bytes(), 6))

    def _get(self, version: int, parts: tuple, extension: str, produce: Callable[[], bytes]) -> Path:
        path = self.path_for(version, parts, extension)
        if path.exists():
            return path
        self.folder.mkdir(parents=True, exist_ok=True)
        with self._thread_lock(path.name), open(path.with_suffix(".lock"), "a") as lock_file:
            fcntl.flock(lock_file, fcntl.LOCK_EX)
            try:
                if path.exists():  # another thread or worker computed it meanwhile
                    return path
                with self._slots:
                    data = produce()
                partial = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
                partial.write_bytes(data)
                os.replace(partial, path)
            finally:
                fcntl.flock(lock_file, fcntl.LOCK_UN)
        self._prune(version)
        return path

    def _thread_lock(self, name: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault(name, threading.Lock())

    def _prune(self, version: int) -> None:
        keep = f"v{version}-"
        for old in self.folder.iterdir():
            kept_version = old.name[1:].partition("-")[0]
            if old.name.startswith("v") and kept_version.isdigit() and int(kept_version) < version:
                old.unlink(missing_ok=True)
        with self._locks_guard:
            self._locks = {k: v for k, v in self._locks.items() if k.startswith(keep)}
