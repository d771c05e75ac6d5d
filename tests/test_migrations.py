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


def _fill(db) -> dict:
    """A catalogue with something in every table migration 21 rebuilds or that refers to them;
    the last organisation is deleted once its id is named in the audit log."""
    from mapapp.catalogue import audit, owners
    from mapapp.catalogue import contributions as contribution_store
    from mapapp.catalogue import subscriptions as subscription_store

    kept = catalogue.save_organisation(db, {"name": "Spółdzielnia Kept", "status": "published", "lat": 52.4,
                                            "lon": 16.9, "city": "Poznań"},
                                       themes=["food"], descriptions={"fr": "Gardée"})
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
