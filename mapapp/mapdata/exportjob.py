"""The GeoPackage export, made by the job worker.

A GeoPackage is a SQLite database: it is right only once finished, so it cannot leave a row at
a time as the other exports do. The worker writes it once per catalogue state and filters
(``exportcache``'s name for it), a batch of organisations at a time, and keeps it; the web
sends the kept file (with Range support) and, until it is there, a page that asks again.
"""

from __future__ import annotations

from pathlib import Path

from .. import catalogue, coldwork, kinds
from ..catalogue import categorytree
from ..filters import Filters
from . import exportcache, exports


def cache_of(settings: dict) -> exportcache.ExportCache:
    """The export cache of the app with ``settings`` (the web's and the worker's are the same folder)."""
    return exportcache.ExportCache(Path(settings["CACHE_DIR"]) / "exports",
                                   max_bytes=int(settings["EXPORT_CACHE_MB"]) * 2**20)


def make_gpkg(settings: dict, path: Path, args: dict[str, str], *, lang: str, base_url: str,
              contacts: bool) -> None:
    """Write the GeoPackage of the organisations that ``args`` (``Filters.to_args``) choose to
    ``path`` in the export cache, unless it is there (one process writes it; the others wait)."""
    cache = cache_of(settings)
    with coldwork.LockPool(Path(settings["CACHE_DIR"]) / "locks").hold(path.name):
        if cache.kept(path):
            return
        db = catalogue.connect(settings["DATABASE"])
        made = cache.temporary(exports.EXTENSIONS["gpkg"])
        try:
            with kinds.categories_pinned(categorytree.cached(db)):  # themes labelled from the tree
                exports.write_gpkg(catalogue.iter_export_batches(db, Filters.from_args(args)), made, lang=lang,
                                   base_url=base_url, contacts=contacts)
            cache.keep_file(path, made)
        finally:
            made.unlink(missing_ok=True)
            db.close()
