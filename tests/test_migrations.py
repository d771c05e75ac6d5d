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
    # (Written as that version wrote it: today's save_organisation reads later tables.)
    db.execute("INSERT INTO organisations (slug, name, status, relation, lat, lon, geo_precision, created_at,"
               " updated_at) VALUES ('kept', 'Kept', 'published', 'visited', 45.0, 5.0, 'manual', '2026', '2026')")
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
