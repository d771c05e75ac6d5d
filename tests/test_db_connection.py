"""A worker thread keeps its catalogue connection between requests (opening one parses the
whole schema: milliseconds per request, issue 31), and opens another for another file."""

from __future__ import annotations

import os
import shutil
import sqlite3

import pytest

from mapapp.web.db import get_db


def test_a_thread_keeps_its_connection_and_opens_another_for_a_restored_file(app, db_path):
    with app.test_request_context("/"):
        first = get_db()
        first.execute("BEGIN")
        first.execute("INSERT INTO catalogue_meta (key, value) VALUES ('left', 'open')")
    with app.test_request_context("/"):
        assert get_db() is first  # kept, with what the last request left uncommitted rolled back
        assert not first.conn.in_transaction
        assert first.execute("SELECT count(*) FROM catalogue_meta WHERE key = 'left'").fetchone()[0] == 0
    restored = db_path.with_name("restored.db")
    shutil.copy(db_path, restored)
    os.replace(restored, db_path)  # a backup put back in place: another file at the same path
    with app.test_request_context("/"):
        assert get_db() is not first
    with pytest.raises(sqlite3.ProgrammingError):  # the old file's connection was closed
        first.execute("SELECT 1")
