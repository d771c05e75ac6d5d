"""Organisations' logos and photos (table ``organisation_images``, migration 30): at most one
logo and ``MAX_PHOTOS`` photos each, every one with its alt text; added, replaced, removed and
reordered by staff, held pending with a contribution until it is accepted, and read by the
pages, the popup and the exports.

The bytes stored are already cleaned (``mapapp.images.clean_picture``): this module only keeps
them, with the sha256 their address carries.
"""

from __future__ import annotations

import contextlib
import hashlib

import sqlite_utils

from ..images import Picture
from ..translate import N_, Message
from .base import dict_rows, now, write_transaction

MAX_PHOTOS = 4
MAX_ALT = 300
ROLES = ("logo", "photo")
_META = ("id, organisation_id, contribution_id, role, position, media_type, sha256, width, height, alt,"
         " source_url, created_at, created_by")


class PictureRefused(ValueError):
    """The picture cannot be kept (too many, no alt text); the message says what to do."""


def _atomic(db: sqlite_utils.Database):
    return contextlib.nullcontext() if db.conn.in_transaction else write_transaction(db)


def clean_alt(alt: str) -> str:
    """The alt text as kept: one line, no control characters; ``PictureRefused`` when empty
    or longer than ``MAX_ALT`` characters."""
    text = " ".join("".join(" " if (ord(c) < 32 or c in "\x7f\ufffe\uffff") else c for c in alt or "").split())
    if not text:
        raise PictureRefused(Message(N_("each picture needs a text saying what it shows (its alt text)")))
    if len(text) > MAX_ALT:
        raise PictureRefused(Message(N_("the alt text is longer than %(n)s characters: shorten it"), n=MAX_ALT))
    return text


def _owner(organisation_id: int | None, contribution_id: int | None) -> tuple[str, list]:
    if organisation_id is not None:
        return "organisation_id = ? AND contribution_id IS NULL", [organisation_id]
    return "contribution_id = ?", [contribution_id]


def add_picture(db: sqlite_utils.Database, picture: Picture, *, role: str, alt: str,
                organisation_id: int | None = None, contribution_id: int | None = None,
                source_url: str = "", created_by: str = "") -> int:
    """Keep a cleaned picture for an organisation (or pending with a contribution); a new logo
    replaces the old one. Returns its id; ``PictureRefused`` beyond ``MAX_PHOTOS`` photos."""
    if role not in ROLES:
        raise ValueError(f"unknown picture role {role!r}")
    alt = clean_alt(alt)
    where, params = _owner(organisation_id, contribution_id)
    with _atomic(db):
        if role == "logo":
            db.execute(f"DELETE FROM organisation_images WHERE {where} AND role = 'logo'", params)  # nosec B608 # clause from code
        else:
            count = db.execute(f"SELECT count(*) FROM organisation_images WHERE {where} AND role = 'photo'",  # nosec B608 # clause from code
                               params).fetchone()[0]
            if count >= MAX_PHOTOS:
                raise PictureRefused(Message(N_("an organisation has at most %(n)s photos: remove one first"),
                                             n=MAX_PHOTOS))
        position = db.execute(f"SELECT coalesce(max(position) + 1, 0) FROM organisation_images WHERE {where}"  # nosec B608 # clause from code
                              " AND role = ?", [*params, role]).fetchone()[0]
        cursor = db.execute(
            "INSERT INTO organisation_images (organisation_id, contribution_id, role, position, media_type, data,"
            " thumb, sha256, width, height, alt, source_url, created_at, created_by)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [organisation_id, contribution_id, role, position, picture.media_type, picture.data, picture.thumb,
             hashlib.sha256(picture.data).hexdigest(), picture.width, picture.height, alt, source_url[:2000],
             now(), created_by])
        return cursor.lastrowid


def replace_picture(db: sqlite_utils.Database, image_id: int, picture: Picture) -> None:
    """Put new bytes in place of a picture, keeping its place and alt text."""
    db.execute("UPDATE organisation_images SET media_type = ?, data = ?, thumb = ?, sha256 = ?, width = ?,"
               " height = ? WHERE id = ?",
               [picture.media_type, picture.data, picture.thumb, hashlib.sha256(picture.data).hexdigest(),
                picture.width, picture.height, image_id])


def set_alt(db: sqlite_utils.Database, image_id: int, alt: str) -> None:
    """Change a picture's alt text (checked as when it was added)."""
    db.execute("UPDATE organisation_images SET alt = ? WHERE id = ?", [clean_alt(alt), image_id])


def remove_picture(db: sqlite_utils.Database, image_id: int) -> None:
    """Delete one picture."""
    db.execute("DELETE FROM organisation_images WHERE id = ?", [image_id])


def move_picture(db: sqlite_utils.Database, image_id: int, step: int) -> None:
    """Move a photo one place earlier (``step`` -1) or later (+1) among its organisation's."""
    with _atomic(db):
        found = picture_info(db, image_id)
        if found is None:
            return
        siblings = [p["id"] for p in _pictures(db, found["organisation_id"], found["contribution_id"])
                    if p["role"] == found["role"]]
        at = siblings.index(image_id)
        to = max(0, min(len(siblings) - 1, at + step))
        siblings.insert(to, siblings.pop(at))
        for position, sibling in enumerate(siblings):
            db.execute("UPDATE organisation_images SET position = ? WHERE id = ?", [position, sibling])


def _pictures(db: sqlite_utils.Database, organisation_id: int | None, contribution_id: int | None) -> list[dict]:
    where, params = _owner(organisation_id, contribution_id)
    return dict_rows(db.execute(
        f"SELECT {_META} FROM organisation_images WHERE {where}"  # nosec B608 # columns and clause from code
        " ORDER BY role = 'photo', position, id", params))


def pictures_of(db: sqlite_utils.Database, organisation_id: int) -> list[dict]:
    """An organisation's pictures (not the pending ones), the logo first then the photos in
    order: every column but the bytes."""
    return _pictures(db, organisation_id, None)


def pictures_of_contribution(db: sqlite_utils.Database, contribution_id: int) -> list[dict]:
    """The pictures sent with a contribution, waiting for moderation."""
    return _pictures(db, None, contribution_id)


def first_pictures(db: sqlite_utils.Database, organisation_ids: list[int]) -> dict[int, dict]:
    """Per organisation, the picture a small card shows: its logo, else its first photo."""
    if not organisation_ids:
        return {}
    found: dict[int, dict] = {}
    for start in range(0, len(organisation_ids), 500):
        chunk = organisation_ids[start:start + 500]
        marks = ", ".join("?" * len(chunk))
        for row in dict_rows(db.execute(
                f"SELECT {_META} FROM organisation_images WHERE contribution_id IS NULL"  # nosec B608 # columns from code, ? placeholders
                f" AND organisation_id IN ({marks}) ORDER BY role = 'photo', position, id", chunk)):
            found.setdefault(row["organisation_id"], row)
    return found


def picture_info(db: sqlite_utils.Database, image_id: int) -> dict | None:
    """One picture's columns but its bytes; None when there is none."""
    rows = dict_rows(db.execute(f"SELECT {_META} FROM organisation_images WHERE id = ?", [image_id]))  # nosec B608 # columns from code
    return rows[0] if rows else None


def read_picture(db: sqlite_utils.Database, image_id: int, *, thumb: bool = False) -> dict | None:
    """One picture with its bytes (``data``: the picture, or its thumbnail)."""
    column = "thumb" if thumb else "data"
    rows = dict_rows(db.execute(
        f"SELECT {_META}, {column} AS data FROM organisation_images WHERE id = ?", [image_id]))  # nosec B608 # columns from code
    return rows[0] if rows else None


def attach_contribution_pictures(db: sqlite_utils.Database, contribution_id: int, organisation_id: int) -> int:
    """An accepted contribution's pictures become its organisation's: its logo replaces the old
    one, its photos follow the existing ones while there is room (the rest are dropped).
    Returns how many were attached."""
    attached = 0
    with _atomic(db):
        for picture in pictures_of_contribution(db, contribution_id):
            where, params = _owner(organisation_id, None)
            if picture["role"] == "logo":
                db.execute(f"DELETE FROM organisation_images WHERE {where} AND role = 'logo'", params)  # nosec B608 # clause from code
            elif db.execute(f"SELECT count(*) FROM organisation_images WHERE {where} AND role = 'photo'",  # nosec B608 # clause from code
                            params).fetchone()[0] >= MAX_PHOTOS:
                db.execute("DELETE FROM organisation_images WHERE id = ?", [picture["id"]])
                continue
            position = db.execute(f"SELECT coalesce(max(position) + 1, 0) FROM organisation_images WHERE {where}"  # nosec B608 # clause from code
                                  " AND role = ?", [*params, picture["role"]]).fetchone()[0]
            db.execute("UPDATE organisation_images SET organisation_id = ?, contribution_id = NULL, position = ?"
                       " WHERE id = ?", [organisation_id, position, picture["id"]])
            attached += 1
    return attached


def delete_contribution_pictures(db: sqlite_utils.Database, contribution_id: int) -> None:
    """A rejected (or withdrawn) contribution's pictures are deleted."""
    db.execute("DELETE FROM organisation_images WHERE contribution_id = ?", [contribution_id])


def add_pictures_to(conn, by_id: dict[int, dict], chosen: str, params: list) -> None:
    """Give each organisation of ``by_id`` its ``pictures`` (no bytes), for an export: ``chosen``
    is SQL that selects their ids (``?`` placeholders, with ``params``)."""
    for org in by_id.values():
        org["pictures"] = []
    cursor = conn.execute(
        f"SELECT {_META} FROM organisation_images WHERE contribution_id IS NULL"  # nosec B608 # columns and clause from code; values bound
        f" AND organisation_id IN ({chosen}) ORDER BY organisation_id, role = 'photo', position, id", params)
    for row in dict_rows(cursor):
        by_id[row["organisation_id"]]["pictures"].append(row)
