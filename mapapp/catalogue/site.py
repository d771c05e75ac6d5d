"""The site's own settings and files (its logo), as staff set them in the staff area.

Each setting is one JSON value under its key; which keys exist, their defaults and their checks
belong to ``mapapp.site``. A change is one transaction with its audit entry (action
``settings``, the values before and after), and moves the catalogue's version on, so that every
cache keyed on the catalogue's state (pages, exports, PDF reports) follows it.
"""

from __future__ import annotations

import hashlib
import json

import sqlite_utils

from .. import site as siteconf
from . import audit
from .base import now, write_transaction

AUDIT_ACTION = "settings"


def read_settings(db: sqlite_utils.Database) -> dict:
    """Every stored setting, by key (values as JSON gave them back)."""
    return {key: json.loads(value) for key, value in db.execute("SELECT key, value FROM site_settings")}


def write_settings(db: sqlite_utils.Database, changes: dict, user_email: str) -> dict:
    """Store ``changes`` (key → value; None removes the key, back to its default) in one
    transaction with one audit entry; returns what changed, key → (before, after)."""
    with write_transaction(db):
        stored = read_settings(db)
        changed = {key: (stored.get(key), value) for key, value in changes.items() if stored.get(key) != value}
        if not changed:
            return {}
        at = now()
        for key, (_, value) in changed.items():
            if value is None:
                db.execute("DELETE FROM site_settings WHERE key = ?", [key])
            else:
                db.execute("INSERT INTO site_settings (key, value, updated_at, updated_by) VALUES (?, ?, ?, ?)"
                           " ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at,"
                           " updated_by = excluded.updated_by",
                           [key, json.dumps(value, ensure_ascii=False, sort_keys=True), at, user_email])
        audit.record(db, user_email, AUDIT_ACTION, None, {k: before for k, (before, _) in changed.items()},
                     {k: after for k, (_, after) in changed.items()})
        _moved_on(db)
    return changed


def current(db: sqlite_utils.Database, config: dict) -> siteconf.Site:
    """The ``Site`` as staff set it, over the operator's ``config`` defaults."""
    return siteconf.effective(config, read_settings(db), file_digests(db))


def read_file(db: sqlite_utils.Database, name: str) -> dict | None:
    """A stored file: ``media_type``, ``data`` (bytes), ``sha256`` (for versioned addresses), or None."""
    row = db.execute("SELECT media_type, data, sha256, updated_at FROM site_files WHERE name = ?", [name]).fetchone()
    if row is None:
        return None
    return {"media_type": row[0], "data": bytes(row[1]), "sha256": row[2], "updated_at": row[3]}


def read_file_info(db: sqlite_utils.Database, name: str) -> dict | None:
    """A stored file's ``media_type`` and ``sha256`` without its data, or None."""
    row = db.execute("SELECT media_type, sha256 FROM site_files WHERE name = ?", [name]).fetchone()
    return {"media_type": row[0], "sha256": row[1]} if row else None


def file_digests(db: sqlite_utils.Database) -> dict[str, str]:
    """name → sha256 of every stored file (cheap: no file's data is read)."""
    return dict(db.execute("SELECT name, sha256 FROM site_files"))


def write_file(db: sqlite_utils.Database, name: str, media_type: str, data: bytes | None, user_email: str) -> None:
    """Store (or, with ``data`` None, remove) the file ``name``, with its audit entry. The caller
    has checked and cleaned the data (an image re-encoded, an SVG sanitised)."""
    with write_transaction(db):
        before = file_digests(db).get(name)
        if data is None:
            db.execute("DELETE FROM site_files WHERE name = ?", [name])
            after = None
        else:
            after = hashlib.sha256(data).hexdigest()
            db.execute("INSERT INTO site_files (name, media_type, data, sha256, updated_at, updated_by)"
                       " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET media_type = excluded.media_type,"
                       " data = excluded.data, sha256 = excluded.sha256, updated_at = excluded.updated_at,"
                       " updated_by = excluded.updated_by", [name, media_type, data, after, now(), user_email])
        if before != after:
            audit.record(db, user_email, AUDIT_ACTION, None, {f"file:{name}": before}, {f"file:{name}": after})
            _moved_on(db)


def _moved_on(db: sqlite_utils.Database) -> None:
    # Pages, exports and reports show the settings: their caches key on the catalogue's state.
    db.execute("UPDATE catalogue_version SET version = version + 1,"
               " changed_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id = 1")
