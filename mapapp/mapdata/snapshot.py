"""The map's columns kept as files, one folder per catalogue state, that every worker
process memory-maps: one copy in memory for all of them, built by whichever needs it first.
A process starting later maps the newest folder of the same catalogue lineage and patches in
what changed since (see ``catalogue.State``: a restored backup is another lineage, or at least
another state, and never served another's columns).

A folder is named ``map-<lineage>-<version>-<state key>``.

A folder holds one ``.npy`` file per column, the facets as one 2-D array of bits, and
the low zooms' sums per grid cell (``level-<zoom>-<part>.npy``, see ``levels.zoom_level``: a
fresh worker's first low-zoom view sums nothing), and ``meta.json`` (the version, which facet
each row of bits is, and the categories' palette). It is written under
another name and renamed into place, so a reader never sees half of one.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import shutil
import subprocess  # nosec B404 # starts this interpreter, for a large catalogue's snapshot
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import sqlite_utils

from .. import catalogue
from ..processes import this_python

ARRAYS = ("ids", "lat", "lon", "merc_y", "name_order", "live", "names", "category")
KEPT = 2  # folders of older versions kept (a worker may still be reading one)
# Raised when the columns kept change (2: the structure and month added, for the insights;
# 3: each organisation's main category, and the palette that numbers them; 4: the low zooms'
# sums): folders of another format have another name, and are never read.
FORMAT = 4
LEVEL_PARTS = ("keys", "starts", "order")
# From this many organisations the columns are read by a separate process (starting one
# costs about a second; below this, reading them here takes less than that).
SEPARATE_PROCESS_FROM = 200_000
logger = logging.getLogger(__name__)


def _key(state: catalogue.State) -> str:
    """The folders' prefix: this file format, this catalogue lineage."""
    return hashlib.sha1(f"{FORMAT}|{state.lineage}".encode(), usedforsecurity=False).hexdigest()[:12]


def latest(directory: Path, db: sqlite_utils.Database):
    """The newest columns kept for this catalogue lineage before its version (to be patched
    up to date) or in its very state, or None."""
    state = catalogue.state(db)
    found = []
    for folder in directory.glob(f"map-{_key(state)}-*"):
        _map, _lineage, version, key = (folder.name.split("-") + ["", ""])[:4]
        if not version.isdigit() or not (folder / "meta.json").exists():
            continue
        if int(version) < state.version or (int(version) == state.version and key == state.key):
            found.append((int(version), folder))
    return read(max(found)[1]) if found else None


def build(directory: Path, db: sqlite_utils.Database, load: Callable):
    """Read the columns (``load``) and keep them for every process; while one process
    builds, the others wait for its files rather than building their own."""
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / f"map-{_key(catalogue.state(db))}.lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            kept = latest(directory, db)
            if kept is not None and kept.version == catalogue.state(db).version:
                return kept  # built by another process while this one waited
            folder = None
            if catalogue.organisation_count(db) >= SEPARATE_PROCESS_FROM:
                folder = _build_in_a_process(directory, db)
            if folder is None:
                folder = _write(directory, db, load(db))
            _forget_old(directory, db, keep=folder)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return read(folder)


def _build_in_a_process(directory: Path, db: sqlite_utils.Database) -> Path | None:
    """Read and write the columns in a fresh interpreter: reading a million organisations
    peaks near 3 GB, and a worker that did it itself kept about 100 MB of that heap for
    good. None when that process could not do it (the caller builds in this one)."""
    path = db.execute("PRAGMA database_list").fetchone()[2]
    command, env = this_python(f"from {__name__} import build_here; build_here()")
    try:
        done = subprocess.run(  # nosec B603 # this interpreter, this module, no shell
            command, input=json.dumps({"database": path, "directory": str(directory)}), capture_output=True,
            text=True, env=env, timeout=3600)
    except (OSError, subprocess.TimeoutExpired) as e:
        logger.warning("map snapshot: no separate process (%s); building here", e)
        return None
    folder = Path(done.stdout.strip().splitlines()[-1]) if done.returncode == 0 and done.stdout.strip() else None
    if folder is None or not (folder / "meta.json").exists():
        logger.warning("map snapshot: the separate process failed (exit %s): %s; building here",
                       done.returncode, done.stderr.strip()[-500:])
        return None
    return folder


def build_here() -> None:
    """The separate process of ``_build_in_a_process``: build and print the folder."""
    from .mapindex import load  # the reading lives with the columns' operations

    orders = json.loads(sys.stdin.read())
    db = catalogue.connect(orders["database"])
    try:
        print(_write(Path(orders["directory"]), db, load(db)))
    finally:
        db.close()


def _write(directory: Path, db: sqlite_utils.Database, columns) -> Path:
    state = catalogue.state(db)
    # Columns read at an earlier version than the catalogue's now: patched from, never current.
    key = state.key if state.version == columns.version else "past"
    folder = directory / f"map-{_key(state)}-{columns.version:012d}-{key}"
    if (folder / "meta.json").exists():
        return folder
    work = Path(tempfile.mkdtemp(prefix=".building-", dir=directory))
    try:
        for name in ARRAYS:
            np.save(work / f"{name}.npy", getattr(columns, name))
        keys = [(kind, value) for kind, values in columns.facets.items() for value in values]
        words = -(-columns.size // 64)
        stack = np.zeros((len(keys), words), dtype=np.uint64)
        for row, (kind, value) in enumerate(keys):
            stack[row] = columns.facets[kind][value]
        np.save(work / "facets.npy", stack)
        _write_levels(work, columns)
        colours = columns.palette
        (work / "meta.json").write_text(json.dumps({"version": columns.version, "facets": keys,
                                                    "kinds": list(columns.facets),
                                                    "palette": {"codes": list(colours.codes), "top": colours.top.tolist(),
                                                                "tops": colours.tops.tolist()}}))
        os.rename(work, folder)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return folder


def _write_levels(work: Path, columns) -> None:
    """The low zooms summed per grid cell (summed here when not yet), one file per part."""
    from .levels import LEVELS_MAX_ZOOM, Sums, zoom_level

    for zoom in range(LEVELS_MAX_ZOOM + 1):
        level = zoom_level(columns, zoom)
        for part in LEVEL_PARTS:
            np.save(work / f"level-{zoom}-{part}.npy", getattr(level, part))
        for part in Sums.__dataclass_fields__:
            np.save(work / f"level-{zoom}-{part}.npy", getattr(level.sums, part))


def _read_levels(folder: Path) -> dict:
    """The low zooms kept in ``folder``, memory-mapped."""
    from .levels import LEVELS_MAX_ZOOM, Level, Sums

    load = lambda zoom, part: np.load(folder / f"level-{zoom}-{part}.npy", mmap_mode="r")  # noqa: E731
    return {zoom: Level(*(load(zoom, part) for part in LEVEL_PARTS[:2]),
                         Sums(*(load(zoom, part) for part in Sums.__dataclass_fields__)), load(zoom, "order"))
            for zoom in range(LEVELS_MAX_ZOOM + 1)}


def read(folder: Path):
    """The columns kept in ``folder``, memory-mapped read-only (their pages are shared by
    every process that maps them; patches copy what they change)."""
    from .mapindex import MapColumns  # the dataclass lives with its operations
    from .markers import Palette

    meta = json.loads((folder / "meta.json").read_text())
    arrays = {name: np.load(folder / f"{name}.npy", mmap_mode="r") for name in ARRAYS}
    stack = np.load(folder / "facets.npy", mmap_mode="r")
    facets: dict[str, dict[str, np.ndarray]] = {kind: {} for kind in meta["kinds"]}
    for row, (kind, value) in enumerate(meta["facets"]):
        facets[kind][value] = stack[row]
    colours = meta["palette"]
    return MapColumns(meta["version"], arrays["ids"], arrays["lat"], arrays["lon"], arrays["merc_y"], facets,
                      name_order=arrays["name_order"], live=arrays["live"], names=arrays["names"],
                      levels=_read_levels(folder),
                      category=arrays["category"], palette=Palette(tuple(colours["codes"]),
                                                                   np.array(colours["top"], dtype=np.uint16),
                                                                   np.array(colours["tops"], dtype=np.uint16)))


def _forget_old(directory: Path, db: sqlite_utils.Database, keep: Path) -> None:
    """Remove all but the newest folders (open maps of removed files stay readable)."""
    folders = sorted(p for p in directory.glob(f"map-{_key(catalogue.state(db))}-*") if p.is_dir())
    for old in folders[:-(KEPT + 1)]:
        if old != keep:
            shutil.rmtree(old, ignore_errors=True)
