import sqlite3

import pytest
import sqlite_utils

from mapapp import catalogue
from mapapp.catalogue import migrations


def test_fresh_catalogue_has_every_table(db):
    tables = set(db.table_names())
    for name in ("organisations", "organisation_themes", "organisation_resources",
                 "organisation_descriptions", "projects", "visits", "project_organisations",
                 "visit_organisations", "organisations_rtree", "organisations_fts", "_migrations"):
        assert name in tables
    assert migrations.applied(db) == [v for v, _, _ in migrations.MIGRATIONS]


def test_migrating_again_applies_nothing_and_keeps_data(db_path):
    db = catalogue.connect(db_path)
    catalogue.save_organisation(db, {"name": "Kept", "status": "draft"})
    db.close()
    db = catalogue.connect(db_path)
    assert migrations.migrate(db) == []
    assert catalogue.organisation_count(db) == 1
    db.close()


def test_wal_mode_and_foreign_keys(db):
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1


def test_newer_schema_is_refused_with_advice(db_path):
    db = catalogue.connect(db_path)
    db.execute("INSERT INTO _migrations VALUES (999, 'future', '2030-01-01')")
    db.close()
    with pytest.raises(migrations.SchemaError, match="newer than this mapapp"):
        catalogue.connect(db_path)


def test_failed_migration_leaves_nothing_behind(tmp_path, monkeypatch):
    def broken(db):
        db.execute("CREATE TABLE half_done (x)")
        raise RuntimeError("boom")

    monkeypatch.setattr(migrations, "MIGRATIONS", [*migrations.MIGRATIONS, (99, "broken", broken)])
    path = tmp_path / "c.db"
    with pytest.raises(RuntimeError):
        catalogue.connect(path)
    db = sqlite_utils.Database(path)
    assert "half_done" not in db.table_names()
    assert migrations.applied(db) == [v for v, _, _ in migrations.MIGRATIONS if v != 99]


def test_unopenable_path_says_what_to_check(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(catalogue.CatalogueError, match="MAPAPP_DATABASE"):
        catalogue.connect(blocker / "sub" / "c.db")


def test_schema_refuses_unsafe_links_and_half_points(db):
    with pytest.raises(sqlite3.IntegrityError):
        catalogue.save_organisation(db, {"name": "X", "website": "javascript:alert(1)"})
    with pytest.raises(sqlite3.IntegrityError):
        catalogue.save_organisation(db, {"name": "Y", "lat": 45.0})
    assert catalogue.organisation_count(db) == 0


def test_checks_as_equalities_keep_refusing_and_keep_rows(tmp_path, monkeypatch):
    # A catalogue made before migration 13 (its CHECKs are "x IN (…)") with rows in it.
    path = tmp_path / "old.db"
    monkeypatch.setattr(migrations, "MIGRATIONS", [m for m in migrations.MIGRATIONS if m[0] < 13])
    db = catalogue.connect(path)
    catalogue.save_organisation(db, {"name": "Kept", "status": "published", "relation": "visited",
                                     "lat": 45.0, "lon": 5.0, "geo_precision": "manual"})
    assert "status IN (" in db.execute("SELECT sql FROM sqlite_master WHERE name = 'organisations'").fetchone()[0]
    db.close()
    monkeypatch.undo()
    db = catalogue.connect(path)
    assert 13 in migrations.applied(db)
    schema = db.execute("SELECT sql FROM sqlite_master WHERE name = 'organisations'").fetchone()[0]
    assert " IN (" not in schema and "status = 'published'" in schema
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert [r["name"] for r in db.query("SELECT name FROM organisations")] == ["Kept"]
    for bad in ({"status": "bogus"}, {"relation": "friend"}, {"geo_precision": "guess", "lat": 1.0, "lon": 1.0}):
        with pytest.raises(sqlite3.IntegrityError):
            catalogue.save_organisation(db, {"name": "Refused", **bad})
    catalogue.save_organisation(db, {"name": "Accepted", "status": "archived", "relation": "partner"})
    assert catalogue.organisation_count(db) == 2
    with pytest.raises(sqlite3.IntegrityError):
        db.execute("INSERT INTO geocode_cache VALUES ('p', 'q', 1, 1, 'nearby', '2026')")
    with pytest.raises(sqlite3.IntegrityError):
        db.execute("INSERT INTO users (email, password_hash, role, created_at) VALUES ('a@b.c', 'x', 'owner', '2026')")


def _fill(db) -> dict:
    """A catalogue with something in every table migration 21 rebuilds or that refers to them;
    the last organisation is deleted once its id is named in the audit log."""
    from mapapp.catalogue import audit, owners
    from mapapp.catalogue import contributions as contribution_store
    from mapapp.catalogue import subscriptions as subscription_store

    kept = catalogue.save_organisation(db, {"name": "Spółdzielnia Kept", "status": "published", "lat": 52.4,
                                            "lon": 16.9, "city": "Poznań"}, descriptions={"fr": "Gardée"})
    # (written as that schema's columns: today's writer names organisation_themes.rank, migration 30's)
    db.execute("INSERT INTO organisation_themes (organisation_id, theme) VALUES (?, 'AM60')", [kept.id])
    with catalogue.write_transaction(db):
        catalogue.add_to_project(db, catalogue.save_project(db, {"slug": "p", "name": "P"}), kept.id)
        owners.mark_checked(db, kept.id)
        gone = catalogue.save_organisation(db, {"name": "Gone", "status": "published", "lat": 1.0, "lon": 1.0})
        audit.record(db, "admin@example.org", "edit", gone.id, None, {"values": {"name": "Gone"}})
        catalogue.delete_organisation(db, gone.id)
        cid = contribution_store.add_contribution(
            db, kind="correction", organisation_id=kept.id, proposal={"values": {}}, note="", email="a@example.org",
            lang="en", token_hash="h", token_expires_at="2030-01-01T00:00:00+00:00", client="c", country="PL",
            project=None)
        subscription_store.add_subscription(db, email="s@example.org", lang="en", query="", frequency="daily",
                                            token_hash="t", token_expires_at="2030-01-01T00:00:00+00:00",
                                            unsubscribe_key="k", client="c")
    return {"kept": kept.id, "gone": gone.id, "contribution": cid}


_COUNTED = ("organisations", "organisation_themes", "organisation_descriptions", "project_organisations",
            "organisation_owners", "contributions", "subscriptions", "audit_log", "organisations_rtree",
            "withdrawn_organisations")


def _schema(db) -> list[tuple]:
    return db.execute("SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE '\\_%' ESCAPE '\\'"
                      " ORDER BY rowid").fetchall()


def test_upgraded_catalogue_keeps_its_rows_matches_a_fresh_one_and_never_reuses_ids(tmp_path, monkeypatch):
    path = tmp_path / "old.db"
    monkeypatch.setattr(migrations, "MIGRATIONS", [m for m in migrations.MIGRATIONS if m[0] < 21])
    db = catalogue.connect(path)
    ids = _fill(db)
    before = {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in _COUNTED}
    db.close()
    monkeypatch.undo()

    db = catalogue.connect(path)
    assert 21 in migrations.applied(db)
    assert {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in _COUNTED} == before
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    fresh = catalogue.connect(tmp_path / "fresh.db")
    assert _schema(db) == _schema(fresh)
    # The search index, the spatial index and the foreign keys still work on the new table.
    assert db.execute("SELECT rowid FROM organisations_fts WHERE organisations_fts MATCH 'spoldzielnia'"
                      ).fetchall() == [(ids["kept"],)]
    assert db.execute("SELECT id FROM organisations_rtree WHERE min_lat > 52").fetchall() == [(ids["kept"],)]
    # The deleted organisation's id is named in the audit log only: still never given again.
    new = catalogue.save_organisation(db, {"name": "Newcomer"})
    assert new.id > ids["gone"]
    with catalogue.write_transaction(db):
        catalogue.delete_organisation(db, ids["kept"])
    assert db.execute("SELECT count(*) FROM organisation_themes").fetchone()[0] == 0  # cascades still
    assert db.execute("SELECT organisation_id FROM contributions").fetchone()[0] is None
    assert catalogue.save_organisation(db, {"name": "Later"}).id > new.id
    db.close()
    fresh.close()


def test_fresh_catalogue_never_gives_a_deleted_organisation_id_again(db):
    first = catalogue.save_organisation(db, {"name": "First"})
    last = catalogue.save_organisation(db, {"name": "Last"})
    with catalogue.write_transaction(db):
        catalogue.delete_organisation(db, last.id)
    assert catalogue.save_organisation(db, {"name": "Next"}).id == last.id + 1
    with catalogue.write_transaction(db):
        catalogue.delete_organisation(db, last.id + 1)
        # The import's bulk writer numbers its rows itself: it too starts past every id given.
        (bulk_id, _), = catalogue.bulk_insert(db, [({"name": "Bulk"}, catalogue.related_of())], set())
    assert bulk_id == last.id + 2
    assert catalogue.save_organisation(db, {"name": "After bulk"}).id == last.id + 3
    assert first.id < last.id


def test_upgrade_seeds_each_table_past_the_ids_the_audit_log_still_names(tmp_path, monkeypatch):
    from mapapp.catalogue import audit
    from mapapp.catalogue import contributions as contribution_store

    path = tmp_path / "old.db"
    monkeypatch.setattr(migrations, "MIGRATIONS", [m for m in migrations.MIGRATIONS if m[0] < 21])
    db = catalogue.connect(path)
    with catalogue.write_transaction(db):
        # Contribution 7 was accepted, then deleted; entry 9 was undone, then forgotten.
        audit.record(db, "mod@example.org", "contribution:7", None)
        audit.record(db, "mod@example.org", "undo:9", None)
    db.close()
    monkeypatch.undo()

    db = catalogue.connect(path)
    with catalogue.write_transaction(db):
        cid = contribution_store.add_contribution(
            db, kind="new", organisation_id=None, proposal={"values": {}}, note="", email="a@example.org", lang="en",
            token_hash=None, token_expires_at=None, client="c", country=None, project=None)
        audit.record(db, "mod@example.org", "edit", None)
    assert cid == 8
    assert max(e["id"] for e in audit.entries(db)) == 10
    db.close()


def test_migrations_import_nothing_from_mapapp():
    # A migration states its own literal values: a CHECK built from today's vocab.STATUSES
    # would let a fresh catalogue accept a status that an upgraded one refuses.
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(migrations))
    imported = [node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.level]
    imported += [node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                 if (node.module or "").startswith("mapapp")]
    imported += [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
                 if alias.name.startswith("mapapp")]
    assert imported == [], f"migrations.py imports {imported}: write the values out in the migration"


_VOCAB_TUPLES = ("STATUSES", "ROLES", "PRECISIONS", "RELATIONS", "CONTRIBUTION_KINDS", "CONTRIBUTION_STATES")


def test_a_changed_vocabulary_does_not_change_a_fresh_catalogue(tmp_path, monkeypatch):
    import sys

    from mapapp import vocab

    before = catalogue.connect(tmp_path / "before.db")
    # Someone adds a value to every small vocabulary: every module that holds the tuple sees it.
    for name in _VOCAB_TUPLES:
        old = getattr(vocab, name)
        for module in [m for n, m in list(sys.modules.items()) if n.startswith("mapapp") and m is not None]:
            if getattr(module, name, None) is old:
                monkeypatch.setattr(module, name, (*old, "added-later"))
    after = catalogue.connect(tmp_path / "after.db")
    assert _schema(after) == _schema(before)
    with pytest.raises(sqlite3.IntegrityError):  # only a new migration lets it in
        after.execute("INSERT INTO organisations (slug, name, status, created_at, updated_at)"
                      " VALUES ('x', 'X', 'added-later', '2026', '2026')")
    before.close()
    after.close()


def _behind(path, below: int) -> None:
    """A catalogue at ``path`` holding migrations below ``below`` only, with one organisation."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(migrations, "MIGRATIONS", [m for m in migrations.MIGRATIONS if m[0] < below])
        db = catalogue.connect(path)
        catalogue.save_organisation(db, {"name": "Spółdzielnia Kept", "status": "published"})
        db.close()


def test_start_up_migrates_once_and_requests_never_do(tmp_path, monkeypatch):
    from mapapp import create_app
    from mapapp.catalogue import base

    path = tmp_path / "behind.db"
    _behind(path, 20)
    calls = []
    real = base.migrate
    monkeypatch.setattr(base, "migrate", lambda db: calls.append(db) or real(db))
    app = create_app({"TESTING": True, "DATABASE": str(path), "SECRET_KEY": "test", "CACHE_DIR": str(tmp_path / "c")})
    assert len(calls) == 1
    db = sqlite_utils.Database(path)
    assert migrations.applied(db) == [v for v, _, _ in migrations.MIGRATIONS]
    db.close()
    client = app.test_client()
    assert client.get("/healthz").get_json()["organisations"] == 1
    assert client.get("/api/organisations?q=spoldzielnia").get_json()["total"] == 1
    assert client.get("/").status_code == 200
    assert len(calls) == 1


def test_a_request_on_a_catalogue_behind_says_to_run_init_and_changes_nothing(tmp_path):
    path = tmp_path / "behind.db"
    _behind(path, 20)
    with pytest.raises(catalogue.CatalogueError, match="run `mapapp init`"):
        catalogue.connect(path, upgrade=False)
    db = sqlite_utils.Database(path)
    assert max(migrations.applied(db)) == 19
    db.close()
    with pytest.raises(migrations.SchemaError, match="newer than this mapapp"):
        db = catalogue.connect(path)
        db.execute("INSERT INTO _migrations VALUES (999, 'future', '2030-01-01')")
        db.close()
        catalogue.connect(path, upgrade=False)


@pytest.mark.slow  # seconds of processes, workers or PDFs: make test runs it, the fast loop does not
def test_workers_starting_together_upgrade_the_catalogue_once(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    path = tmp_path / "behind.db"
    _behind(path, 8)  # the search index is rebuilt twice on the way (migration 8, then the fold)
    root = Path(__file__).resolve().parent.parent
    code = "import sys; from mapapp import catalogue; catalogue.connect(sys.argv[1]).close()"
    workers = [subprocess.Popen([sys.executable, "-c", code, str(path)], cwd=root, stderr=subprocess.PIPE, text=True)
               for _ in range(3)]
    for worker in workers:
        assert worker.wait(120) == 0, worker.stderr.read()
    db = catalogue.connect(path, upgrade=False)
    assert migrations.applied(db) == [v for v, _, _ in migrations.MIGRATIONS]
    assert db.execute("SELECT count(*) FROM organisations_fts WHERE organisations_fts MATCH 'spoldzielnia'"
                      ).fetchone()[0] == 1
    db.execute("INSERT INTO organisations_fts (organisations_fts) VALUES ('integrity-check')")
    db.close()


_T = "2026-01-02T03:04:05+00:00"
# One row for each table, with the columns it had when its migration created it. A new
# migration's table needs a row here: the test below says so.
# Bookkeeping a data migration may change on purpose: 29 copies each member's relation to its
# projects, and the triggers note those organisations as changed (the map's change log).
# 30: the default category tree, seeded as it is applied (noted in catalogue_meta), is a change for all.
_NOTED_BY = {29: {"organisation_changes"}, 30: {"organisation_changes", "catalogue_meta"},
             32: {"organisation_changes", "catalogue_meta"}}
# Tables that triggers write when this test adds its rows to a new table (30's note changes).
_WRITTEN_BY_TRIGGERS = ("organisation_changes",)
_ROWS = {
    "organisations": [{"id": 1, "slug": "spoldzielnia-kept", "name": "Spółdzielnia Kept", "city": "Poznań",
                       "status": "published", "relation": "partner", "country": "PL", "lat": 52.4, "lon": 16.9,
                       "geo_precision": "manual", "website": "https://example.org", "created_at": _T,
                       "updated_at": _T},
                      {"id": 2, "slug": "draft-unlocated", "name": "Draft Unlocated", "created_at": _T,
                       "updated_at": _T}],
    "organisation_descriptions": [{"organisation_id": 1, "lang": "fr", "description": "Gardée"}],
    "organisation_themes": [{"organisation_id": 1, "theme": "AM40"}],
    "organisation_resources": [{"organisation_id": 1, "kind": "need", "resource": "funding", "detail": "a loan"}],
    "projects": [{"id": 1, "slug": "p", "name": "P", "website": "https://example.org/p"}],
    "project_organisations": [{"project_id": 1, "organisation_id": 1}],
    "visits": [{"id": 1, "slug": "v", "project_id": 1, "title": "V", "city": "Gent", "country": "BE"}],
    "visit_organisations": [{"visit_id": 1, "organisation_id": 1}],
    "geocode_cache": [{"provider": "nominatim", "query": "poznan", "lat": 52.4, "lon": 16.9,
                       "precision": "locality", "created_at": _T},
                      {"provider": "nominatim", "query": "nowhere", "lat": None, "lon": None,
                       "precision": None, "created_at": _T}],
    "users": [{"id": 1, "email": "admin@example.org", "password_hash": "x", "role": "admin", "created_at": _T}],
    "login_failures": [{"key": "admin@example.org", "failures": 2, "last_at": 1.5}],
    "audit_log": [{"id": 1, "at": _T, "user_email": "admin@example.org", "organisation_id": 1, "action": "edit",
                   "before": None, "after": "{}"}],
    "imports": [{"id": 1, "user_email": "admin@example.org", "filename": "a.csv", "stored_path": "/tmp/a.csv",
                 "source": "a", "state": "done", "created_at": _T}],
    "saved_mappings": [{"name": "m", "mapping": "{}", "updated_at": _T}],
    "organisation_changes": [{"organisation_id": 99, "version": 1}],
    "contributions": [{"id": 1, "kind": "correction", "organisation_id": 1, "proposal": "{}", "email": "a@example.org",
                       "lang": "en", "created_at": _T}],
    "used_challenges": [{"signature": "s", "expires_at": 1}],
    "organisation_owners": [{"organisation_id": 1, "checked_at": _T}],
    "subscriptions": [{"id": 1, "email": "s@example.org", "lang": "en", "frequency": "daily", "unsubscribe_key": "k",
                       "created_at": _T}],
    "withdrawn_organisations": [{"id": 1, "organisation_id": 98, "slug": "gone", "at": _T}],
    "sync_sources": [{"id": 1, "name": "s", "url": "https://example.org/a.csv", "format": "csv", "created_at": _T}],
    "owner_link_requests": [{"id": 1, "organisation_id": 1, "client": "c", "requested_at": _T}],
    "catalogue_meta": [{"key": "note", "value": "kept"}],
    "site_settings": [{"key": "site_name", "value": '"Réseau Kept"', "updated_at": _T, "updated_by": "a@example.org"}],
    "password_resets": [{"id": 1, "user_id": 1, "address": "a", "token_hash": "h", "expires_at": _T, "client": "c",
                         "created_at": _T}],
    "site_files": [{"name": "logo", "media_type": "image/png", "data": b"\x89PNG kept", "sha256": "0" * 64,
                    "updated_at": _T}],
    "pages": [{"id": 1, "slug": "privacy", "kind": "privacy", "created_at": _T, "updated_at": _T}],
    "page_texts": [{"page_id": 1, "lang": "fr", "title": "Confidentialité", "body_markdown": "# Kept",
                    "updated_at": _T}],
    "categories": [{"id": 100, "code": "plumbing", "labels": '{"fr": "Plomberie"}', "colour": "#aa3300",
                    "icon": "droplet", "essglobal": "AM70", "created_at": _T, "updated_at": _T}],
    "fields": [{"id": 1, "slug": "epv-label", "type": "yes_no", "labels": '{"fr": "Label EPV"}', "filter": 1,
                "created_at": _T, "updated_at": _T}],
    "organisation_fields": [{"organisation_id": 1, "field_id": 1, "value": "yes"}],
    "organisation_images": [{"id": 1, "organisation_id": 1, "role": "logo", "media_type": "image/webp",
                             "data": b"RIFF kept", "thumb": b"RIFF thumb", "sha256": "0" * 64, "width": 10,
                             "height": 10, "alt": "Logo", "created_at": _T}],
}


def _tables(db) -> list[str]:
    """The tables that hold rows of their own: not SQLite's, not the migrations' record, not the
    shadow tables of the virtual ones (checked through what they find)."""
    virtual = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE sql LIKE 'CREATE VIRTUAL TABLE%'")]
    return [name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY rowid")
            if not name.startswith(("sqlite_", "_migrations")) and not any(name.startswith(v) for v in virtual)]


def _rows(db, table: str, columns: list[str]) -> list[tuple]:
    listed = ", ".join(columns)
    return sorted(db.execute(f"SELECT {listed} FROM {table}").fetchall(), key=repr)  # nosec B608 # names from the test


def _normalised_schema(db) -> list[tuple]:
    return [(kind, name, table, " ".join(sql.split()) if sql else None) for kind, name, table, sql in db.execute(
        "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY rowid")]


def test_a_catalogue_upgraded_one_migration_at_a_time_keeps_every_row_and_matches_a_fresh_one(tmp_path, monkeypatch):
    path = tmp_path / "old.db"
    kept: dict[str, tuple[list[str], list[tuple]]] = {}  # table → its columns then and its rows
    for version, _name, _apply in migrations.MIGRATIONS:
        monkeypatch.setattr(migrations, "MIGRATIONS", [m for m in migrations.MIGRATIONS if m[0] <= version])
        db = catalogue.connect(path)
        for table, (columns, rows) in kept.items():
            if table in _NOTED_BY.get(version, ()):
                kept[table] = (columns, _rows(db, table, columns))
                continue
            assert _rows(db, table, columns) == rows, f"migration {version} changed the rows of {table}"
        for table in _tables(db):
            if table in kept or table == "catalogue_version":  # catalogue_version: its one row counts writes
                continue
            assert table in _ROWS, f"migration {version} created {table}: add a row for it to _ROWS"
            with catalogue.write_transaction(db):
                for row in _ROWS[table]:  # one by one: insert_all gives a missing key NULL, not its default
                    db[table].insert(row)
            columns = [c.name for c in db[table].columns]
            kept[table] = (columns, _rows(db, table, columns))
        for table in _WRITTEN_BY_TRIGGERS:  # what the rows just written noted
            if table in kept:
                kept[table] = (kept[table][0], _rows(db, table, kept[table][0]))
        db.close()
        monkeypatch.undo()
    assert set(kept) == set(_ROWS)

    db = catalogue.connect(path)
    fresh = catalogue.connect(tmp_path / "fresh.db")
    assert _normalised_schema(db) == _normalised_schema(fresh)
    for table, (columns, rows) in kept.items():
        assert _rows(db, table, columns) == rows, table
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    # The indexes that triggers keep still find what they hold, with today's fold.
    assert db.execute("SELECT rowid FROM organisations_fts WHERE organisations_fts MATCH 'spoldzielnia poznan'"
                      ).fetchall() == [(1,)]
    db.execute("INSERT INTO organisations_fts (organisations_fts) VALUES ('integrity-check')")
    assert db.execute("SELECT id FROM organisations_rtree").fetchall() == [(1,)]
    assert db.execute("SELECT sort_key FROM organisations ORDER BY id").fetchall() == [("spol~dzielnia kept",),
                                                                                        ("draft unlocated",)]
    # Every CHECK still refuses what it refused: a fresh catalogue's and this one's are the same text.
    with pytest.raises(sqlite3.IntegrityError):
        db.execute("UPDATE organisations SET status = 'bogus' WHERE id = 1")
    with pytest.raises(sqlite3.IntegrityError):
        db.execute("UPDATE geocode_cache SET precision = 'nearby' WHERE query = 'poznan'")
    db.close()
    fresh.close()


def test_members_keep_their_relation_as_their_relation_to_each_project(tmp_path, monkeypatch):
    path = tmp_path / "before-29.db"
    monkeypatch.setattr(migrations, "MIGRATIONS", [m for m in migrations.MIGRATIONS if m[0] < 29])
    db = catalogue.connect(path)
    org_id, _ = catalogue.insert_organisation(db, {"name": "Atelier Vélo", "relation": "visited"},
                                              catalogue.related_of())
    project = catalogue.save_project(db, {"slug": "visits-2026", "name": "Visits 2026"})
    catalogue.add_to_project(db, project, org_id)
    db.conn.commit()
    db.close()
    monkeypatch.undo()

    db = catalogue.connect(path)
    assert db.execute("SELECT relation, role FROM project_organisations").fetchall() == [("visited", None)]
    with pytest.raises(sqlite3.IntegrityError):
        db.execute("UPDATE project_organisations SET relation = 'sponsor'")
    db.close()
