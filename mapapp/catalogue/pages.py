"""Pages staff write (about, legal notice, privacy policy, others): one Markdown text per language.

Each change is one transaction with its audit entry (action ``page:<id>``, the values before and
after) and moves the catalogue's version on: every page's footer lists the pages, so caches keyed
on the catalogue's state follow. The HTML is made when a page is shown (``mapapp.pages``).
"""

from __future__ import annotations

import sqlite3

import sqlite_utils

from . import audit
from .base import now, write_transaction

KINDS = ("about", "legal", "privacy", "other")


class PageError(ValueError):
    """A page cannot be saved as asked (its address is taken, it is gone)."""


def _action(page_id: int) -> str:
    return f"page:{page_id}"


def _page(row) -> dict:
    return {"id": row[0], "slug": row[1], "kind": row[2], "in_footer": bool(row[3]), "position": row[4],
            "created_at": row[5], "updated_at": row[6], "texts": {}}


_COLUMNS = "id, slug, kind, in_footer, position, created_at, updated_at"


def all_pages(db: sqlite_utils.Database, *, footer_only: bool = False) -> list[dict]:
    """Every page in the footer's order (position, then age), each with ``texts``: language →
    title, updated_at, updated_by (no bodies)."""
    where = "WHERE in_footer = 1" if footer_only else ""
    pages = {row[0]: _page(row) for row in db.execute(
        f"SELECT {_COLUMNS} FROM pages {where} ORDER BY position, id")}  # nosec B608 # fixed clauses
    for page_id, lang, title, updated_at, updated_by in db.execute(
            "SELECT page_id, lang, title, updated_at, updated_by FROM page_texts ORDER BY page_id, lang"):
        if page_id in pages:
            pages[page_id]["texts"][lang] = {"title": title, "updated_at": updated_at, "updated_by": updated_by}
    return list(pages.values())


def get_page(db: sqlite_utils.Database, *, slug: str | None = None, page_id: int | None = None) -> dict | None:
    """One page by its address or id, with ``texts``: language → title, body_markdown,
    updated_at, updated_by; None when there is none."""
    if slug is not None:
        row = db.execute(f"SELECT {_COLUMNS} FROM pages WHERE slug = ?", [slug]).fetchone()  # nosec B608
    else:
        row = db.execute(f"SELECT {_COLUMNS} FROM pages WHERE id = ?", [page_id]).fetchone()  # nosec B608
    if row is None:
        return None
    page = _page(row)
    for lang, title, body, updated_at, updated_by in db.execute(
            "SELECT lang, title, body_markdown, updated_at, updated_by FROM page_texts WHERE page_id = ?", [page["id"]]):
        page["texts"][lang] = {"title": title, "body_markdown": body, "updated_at": updated_at,
                               "updated_by": updated_by}
    return page


def slug_of_kind(db: sqlite_utils.Database, kind: str) -> str | None:
    """The address of the first page of ``kind`` that has a text (the privacy policy the e-mail
    forms link to), or None."""
    row = db.execute("SELECT slug FROM pages WHERE kind = ? AND EXISTS (SELECT 1 FROM page_texts WHERE page_id = pages.id)"
                     " ORDER BY position, id LIMIT 1", [kind]).fetchone()
    return row[0] if row else None


def create_page(db: sqlite_utils.Database, *, slug: str, kind: str, user_email: str, in_footer: bool = True,
                position: int = 0) -> int:
    """A new page (no text yet); its id. Raises ``PageError`` when the address is taken."""
    with write_transaction(db):
        at = now()
        try:
            cursor = db.execute("INSERT INTO pages (slug, kind, in_footer, position, created_at, updated_at)"
                                " VALUES (?, ?, ?, ?, ?, ?)", [slug, kind, int(in_footer), position, at, at])
        except sqlite3.IntegrityError as e:
            raise PageError(slug) from e
        page_id = cursor.lastrowid
        audit.record(db, user_email, _action(page_id), None, None,
                     {"slug": slug, "kind": kind, "in_footer": bool(in_footer), "position": position})
        _moved_on(db)
    return page_id


def update_page(db: sqlite_utils.Database, page_id: int, *, in_footer: bool, position: int, user_email: str) -> bool:
    """Whether the page shows in the footer and where; True when something changed."""
    with write_transaction(db):
        row = db.execute("SELECT in_footer, position FROM pages WHERE id = ?", [page_id]).fetchone()
        if row is None:
            raise PageError(page_id)
        before = {"in_footer": bool(row[0]), "position": row[1]}
        after = {"in_footer": bool(in_footer), "position": position}
        if before == after:
            return False
        db.execute("UPDATE pages SET in_footer = ?, position = ?, updated_at = ? WHERE id = ?",
                   [int(in_footer), position, now(), page_id])
        audit.record(db, user_email, _action(page_id), None, before, after)
        _moved_on(db)
    return True


def save_text(db: sqlite_utils.Database, page_id: int, lang: str, *, title: str, body_markdown: str,
              user_email: str) -> bool:
    """Store the page's text in ``lang``; True when something changed."""
    with write_transaction(db):
        if db.execute("SELECT 1 FROM pages WHERE id = ?", [page_id]).fetchone() is None:
            raise PageError(page_id)
        row = db.execute("SELECT title, body_markdown FROM page_texts WHERE page_id = ? AND lang = ?",
                         [page_id, lang]).fetchone()
        before = {"lang": lang, "title": row[0], "body_markdown": row[1]} if row else None
        after = {"lang": lang, "title": title, "body_markdown": body_markdown}
        if before == after:
            return False
        at = now()
        db.execute("INSERT INTO page_texts (page_id, lang, title, body_markdown, updated_at, updated_by)"
                   " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (page_id, lang) DO UPDATE SET title = excluded.title,"
                   " body_markdown = excluded.body_markdown, updated_at = excluded.updated_at,"
                   " updated_by = excluded.updated_by", [page_id, lang, title, body_markdown, at, user_email])
        db.execute("UPDATE pages SET updated_at = ? WHERE id = ?", [at, page_id])
        audit.record(db, user_email, _action(page_id), None, before, after)
        _moved_on(db)
    return True


def delete_text(db: sqlite_utils.Database, page_id: int, lang: str, *, user_email: str) -> bool:
    """Remove the page's text in ``lang`` (the page then falls back to another language)."""
    with write_transaction(db):
        row = db.execute("SELECT title, body_markdown FROM page_texts WHERE page_id = ? AND lang = ?",
                         [page_id, lang]).fetchone()
        if row is None:
            return False
        db.execute("DELETE FROM page_texts WHERE page_id = ? AND lang = ?", [page_id, lang])
        audit.record(db, user_email, _action(page_id), None,
                     {"lang": lang, "title": row[0], "body_markdown": row[1]}, None)
        _moved_on(db)
    return True


def delete_page(db: sqlite_utils.Database, page_id: int, *, user_email: str) -> bool:
    """Remove the page and its texts (kept in the audit entry)."""
    with write_transaction(db):
        page = get_page(db, page_id=page_id)
        if page is None:
            return False
        db.execute("DELETE FROM pages WHERE id = ?", [page_id])
        audit.record(db, user_email, _action(page_id), None,
                     {"slug": page["slug"], "kind": page["kind"], "texts": page["texts"]}, None)
        _moved_on(db)
    return True


def _moved_on(db: sqlite_utils.Database) -> None:
    # Every page's footer lists the pages: caches keyed on the catalogue's state follow them.
    db.execute("UPDATE catalogue_version SET version = version + 1,"
               " changed_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id = 1")
