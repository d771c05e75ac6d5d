"""The few exports worth keeping on disk: those asked for often, within a total size.

Anyone can ask for a new filter, so keeping every export that was asked for once lets a
visitor fill the disk. Kept are the whole catalogue's exports (the usual downloads) and a
filtered export once it has been asked for ``popular_after`` times in this catalogue state;
past ``max_bytes`` the least recently used files go. Everything else is streamed as it is
computed and nothing of it stays.

Files are named ``v<state>-<hash>.<extension>``, the state being ``catalogue.state_key`` (a
restored backup at the same version number is another state); a new state's first file
deletes every other state's (a file being sent stays readable until it is closed).
"""

from __future__ import annotations

import gzip
import hashlib
import os
import threading
import time
import zlib
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from pathlib import Path

ASKED_REMEMBERED = 4096  # keys whose asks are counted (the oldest forgotten first)
ABANDONED_AFTER = 3600  # seconds after which a partial or temporary file is a dead worker's


class ExportCache:
    """Kept exports in ``folder``, at most ``max_bytes`` in all (with their gzipped copies)."""

    def __init__(self, folder: str | Path, *, max_bytes: int, popular_after: int = 3):
        self.folder = Path(folder)
        self.max_bytes, self.popular_after = max_bytes, popular_after
        self._asked: OrderedDict[str, int] = OrderedDict()
        self._guard = threading.Lock()

    def path_for(self, state: str, parts: tuple, extension: str) -> Path:
        """Where the export for ``parts`` in catalogue ``state`` (``catalogue.state_key``) is kept."""
        digest = hashlib.sha256(repr(parts).encode()).hexdigest()[:24]
        return self.folder / f"v{state}-{digest}.{extension}"

    def kept(self, path: Path) -> Path | None:
        """``path`` if it is kept (and now the most recently used), else None."""
        try:
            os.utime(path)
        except FileNotFoundError:
            return None
        return path

    def worth_keeping(self, path: Path, *, whole_catalogue: bool) -> bool:
        """Count one more ask for ``path``; true when it is asked for often enough to keep."""
        if self.max_bytes <= 0:
            return False
        if whole_catalogue:
            return True
        with self._guard:
            count = self._asked.pop(path.name, 0) + 1
            self._asked[path.name] = count
            while len(self._asked) > ASKED_REMEMBERED:
                self._asked.popitem(last=False)
        return count >= self.popular_after

    def keep_stream(self, path: Path, chunks: Iterable[bytes], *, gzip_path: Path | None = None) -> Iterator[bytes]:
        """Pass ``chunks`` on and write them to ``path`` (and gzipped to ``gzip_path``) as they
        go; the file appears only when the stream ends whole (a client that stops reading
        leaves nothing behind)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        partial = self._partial(path)
        packer = zlib.compressobj(6, zlib.DEFLATED, 31) if gzip_path else None  # 31: gzip framing
        packed = self._partial(gzip_path) if gzip_path else None
        try:
            with open(partial, "wb") as out, open(packed or os.devnull, "wb") as out_gz:
                for chunk in chunks:
                    out.write(chunk)
                    if packer:
                        out_gz.write(packer.compress(chunk))
                    yield chunk
                if packer:
                    out_gz.write(packer.flush())
            try:
                if packed:
                    os.replace(packed, gzip_path)
                os.replace(partial, path)
            except FileNotFoundError:
                return  # a client so slow that its partial file was taken for abandoned: not kept
        finally:
            partial.unlink(missing_ok=True)
            if packed:
                packed.unlink(missing_ok=True)
        self.trim(path)

    def keep_file(self, path: Path, made: Path, *, gzipped: bool = False) -> None:
        """Keep the file ``made`` (moved, not copied) as ``path``; with ``gzipped``, a gzipped
        copy beside it too."""
        self.folder.mkdir(parents=True, exist_ok=True)
        if gzipped:
            partial = self._partial(path)
            with open(made, "rb") as source, gzip.open(partial, "wb", compresslevel=6) as out:
                while block := source.read(1 << 20):
                    out.write(block)
            os.replace(partial, path.with_name(path.name + ".gz"))
        os.replace(made, path)
        self.trim(path)

    def temporary(self, extension: str) -> Path:
        """A fresh path beside the kept files, for an export built whole (same file system:
        keeping it is a rename)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        return self.folder / f".tmp-{os.getpid()}-{os.urandom(6).hex()}.{extension}"

    def _partial(self, path: Path) -> Path:
        return path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(6).hex()}")

    def trim(self, newest: Path) -> None:
        """Delete the other catalogue states' files, then the least recently used ones
        until the rest fits in ``max_bytes`` (``newest`` stays, even alone over it)."""
        state = newest.name[1:].partition("-")[0]
        files = []
        abandoned = time.time() - ABANDONED_AFTER
        for entry in os.scandir(self.folder):
            name = entry.name
            if name.startswith(".") and entry.is_file() and entry.stat().st_mtime < abandoned:
                Path(entry.path).unlink(missing_ok=True)  # left by a worker that stopped half way
                continue
            if not name.startswith("v") or not entry.is_file():
                continue
            if name[1:].partition("-")[0] != state:
                Path(entry.path).unlink(missing_ok=True)
                continue
            stat = entry.stat()
            files.append((stat.st_mtime, name, stat.st_size))
        total = sum(size for _, _, size in files)
        stem = newest.name.split(".", 1)[0]
        for _mtime, name, size in sorted(files):
            if total <= self.max_bytes:
                break
            if name.split(".", 1)[0] == stem:
                continue
            (self.folder / name).unlink(missing_ok=True)
            total -= size
