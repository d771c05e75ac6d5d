"""The catalogue schema, as numbered migrations applied once each.

``migrate(db)`` is safe to run any number of times: it records every applied
migration in ``_migrations`` and applies only the missing ones, each inside its
own transaction. Never change what a released migration does to a catalogue; add a new one.

Each migration states its own literal values (statuses, roles, CHECK lists) and imports
nothing from mapapp: built from the statuses of the day in code, a CHECK would accept a new status
in a fresh catalogue and refuse it in an upgraded one. A CHECK changes only through a new
migration, which rebuilds the table (see ``_rebuild``). tests/test_migrations.py proves
that a catalogue upgraded one migration at a time has exactly a fresh one's schema.
Migrations run in ``mapapp init`` and when the app starts (``catalogue.connect``), never
inside a request.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone

import sqlite_utils


class SchemaError(Exception):
    """The catalogue's schema cannot be used by this version of mapapp."""


def _m001_catalogue(db: sqlite_utils.Database) -> None:
    statements = [
        """
        CREATE TABLE organisations (
            id INTEGER PRIMARY KEY,
            slug TEXT NOT NULL UNIQUE CHECK (slug GLOB '[a-z0-9]*' AND slug NOT GLOB '*[^a-z0-9-]*'),
            name TEXT NOT NULL CHECK (length(trim(name)) > 0),
            description TEXT NOT NULL DEFAULT '',
            relation TEXT NOT NULL DEFAULT 'other' CHECK (relation IN ('visited', 'participant', 'partner', 'other')),
            structure TEXT,
            legal_form TEXT NOT NULL DEFAULT '',
            street TEXT NOT NULL DEFAULT '',
            postcode TEXT NOT NULL DEFAULT '',
            city TEXT NOT NULL DEFAULT '',
            region TEXT NOT NULL DEFAULT '',
            country TEXT CHECK (country IS NULL OR (length(country) = 2 AND country = upper(country))),
            lat REAL CHECK (lat IS NULL OR lat BETWEEN -90 AND 90),
            lon REAL CHECK (lon IS NULL OR lon BETWEEN -180 AND 180),
            geo_precision TEXT CHECK (geo_precision IS NULL OR geo_precision IN ('provided', 'address', 'street', 'postcode', 'locality', 'region', 'country', 'manual')),
            geo_source TEXT,
            website TEXT NOT NULL DEFAULT '' CHECK (website = '' OR website LIKE 'http://%' OR website LIKE 'https://%'),
            email TEXT NOT NULL DEFAULT '',
            phone TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published', 'archived')),
            source TEXT NOT NULL DEFAULT '',
            source_ref TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            CHECK ((lat IS NULL) = (lon IS NULL))
        )
        """,
        "CREATE UNIQUE INDEX organisations_source_ref ON organisations (source, source_ref)"
        " WHERE source_ref IS NOT NULL",
        "CREATE INDEX organisations_status_country ON organisations (status, country)",
        """
        CREATE TABLE organisation_descriptions (
            organisation_id INTEGER NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
            lang TEXT NOT NULL,
            description TEXT NOT NULL,
            PRIMARY KEY (organisation_id, lang)
        )
        """,
        """
        CREATE TABLE organisation_themes (
            organisation_id INTEGER NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
            theme TEXT NOT NULL,
            PRIMARY KEY (organisation_id, theme)
        )
        """,
        "CREATE INDEX organisation_themes_theme ON organisation_themes (theme, organisation_id)",
        """
        CREATE TABLE organisation_resources (
            organisation_id INTEGER NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
            kind TEXT NOT NULL CHECK (kind IN ('need', 'offer')),
            resource TEXT NOT NULL,
            detail TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (organisation_id, kind, resource)
        )
        """,
        "CREATE INDEX organisation_resources_resource ON organisation_resources"
        " (kind, resource, organisation_id)",
        """
        CREATE TABLE projects (
            id INTEGER PRIMARY KEY,
            slug TEXT NOT NULL UNIQUE,
            name TEXT NOT NULL CHECK (length(trim(name)) > 0),
            description TEXT NOT NULL DEFAULT '',
            website TEXT NOT NULL DEFAULT '' CHECK (website = '' OR website LIKE 'http://%' OR website LIKE 'https://%'),
            start_date TEXT,
            end_date TEXT,
            source TEXT NOT NULL DEFAULT ''
        )
        """,
        """
        CREATE TABLE project_organisations (
            project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
            organisation_id INTEGER NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
            PRIMARY KEY (project_id, organisation_id)
        )
        """,
        "CREATE INDEX project_organisations_organisation ON project_organisations (organisation_id)",
        """
        CREATE TABLE visits (
            id INTEGER PRIMARY KEY,
            slug TEXT NOT NULL UNIQUE,
            project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
            title TEXT NOT NULL CHECK (length(trim(title)) > 0),
            city TEXT NOT NULL DEFAULT '',
            country TEXT,
            date TEXT
        )
        """,
        """
        CREATE TABLE visit_organisations (
            visit_id INTEGER NOT NULL REFERENCES visits (id) ON DELETE CASCADE,
            organisation_id INTEGER NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
            PRIMARY KEY (visit_id, organisation_id)
        )
        """,
        "CREATE INDEX visit_organisations_organisation ON visit_organisations (organisation_id)",
        # The spatial index holds every located organisation; triggers keep it in
        # step with organisations.lat/lon, so no code path can forget it.
        "CREATE VIRTUAL TABLE organisations_rtree USING rtree (id, min_lat, max_lat, min_lon, max_lon)",
        """
        CREATE TRIGGER organisations_rtree_insert AFTER INSERT ON organisations
        WHEN new.lat IS NOT NULL BEGIN
            INSERT INTO organisations_rtree VALUES (new.id, new.lat, new.lat, new.lon, new.lon);
        END
        """,
        """
        CREATE TRIGGER organisations_rtree_update AFTER UPDATE OF lat, lon ON organisations BEGIN
            DELETE FROM organisations_rtree WHERE id = old.id;
            INSERT INTO organisations_rtree
                SELECT new.id, new.lat, new.lat, new.lon, new.lon WHERE new.lat IS NOT NULL;
        END
        """,
        """
        CREATE TRIGGER organisations_rtree_delete AFTER DELETE ON organisations BEGIN
            DELETE FROM organisations_rtree WHERE id = old.id;
        END
        """,
        # Full-text index over the organisations table (external content);
        # remove_diacritics lets "poznan" find "Poznań".
        """
        CREATE VIRTUAL TABLE organisations_fts USING fts5 (
            name, description, city,
            content = 'organisations', content_rowid = 'id',
            tokenize = 'unicode61 remove_diacritics 2'
        )
        """,
        """
        CREATE TRIGGER organisations_fts_insert AFTER INSERT ON organisations BEGIN
            INSERT INTO organisations_fts (rowid, name, description, city)
                VALUES (new.id, new.name, new.description, new.city);
        END
        """,
        """
        CREATE TRIGGER organisations_fts_update AFTER UPDATE OF name, description, city ON organisations BEGIN
            INSERT INTO organisations_fts (organisations_fts, rowid, name, description, city)
                VALUES ('delete', old.id, old.name, old.description, old.city);
            INSERT INTO organisations_fts (rowid, name, description, city)
                VALUES (new.id, new.name, new.description, new.city);
        END
        """,
        """
        CREATE TRIGGER organisations_fts_delete AFTER DELETE ON organisations BEGIN
            INSERT INTO organisations_fts (organisations_fts, rowid, name, description, city)
                VALUES ('delete', old.id, old.name, old.description, old.city);
        END
        """,
    ]
    for sql in statements:
        db.execute(sql)


def _m002_geocode_cache(db: sqlite_utils.Database) -> None:
    # One answer per provider and normalised query; lat/lon NULL records "not
    # found" so that a failed address is not sent to a rate-limited service again.
    db.execute(
        """
        CREATE TABLE geocode_cache (
            provider TEXT NOT NULL,
            query TEXT NOT NULL,
            lat REAL,
            lon REAL,
            precision TEXT CHECK (precision IS NULL OR precision IN ('provided', 'address', 'street', 'postcode', 'locality', 'region', 'country', 'manual')),
            created_at TEXT NOT NULL,
            PRIMARY KEY (provider, query)
        )
        """
    )
    db.execute("CREATE INDEX geocode_cache_query ON geocode_cache (query)")


_VERSIONED_TABLES = ("organisations", "organisation_themes", "organisation_resources",
                     "organisation_descriptions", "project_organisations", "visit_organisations",
                     "projects", "visits")


def _m003_catalogue_version(db: sqlite_utils.Database) -> None:
    # One number that changes with every write to what pages show: caches (the
    # map index, HTTP ETags) compare it instead of the data.
    db.execute("CREATE TABLE catalogue_version (id INTEGER PRIMARY KEY CHECK (id = 1),"
               " version INTEGER NOT NULL, changed_at TEXT NOT NULL)")
    db.execute("INSERT INTO catalogue_version VALUES (1, 1, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))")
    for table in _VERSIONED_TABLES:
        for event in ("INSERT", "UPDATE", "DELETE"):
            db.execute(
                f"CREATE TRIGGER {table}_version_{event.lower()} AFTER {event} ON {table} BEGIN"  # nosec B608 # names and ? placeholders come from code; values are bound
                " UPDATE catalogue_version SET version = version + 1,"
                " changed_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id = 1; END")


def _m004_staff(db: sqlite_utils.Database) -> None:
    db.execute(
        """
        CREATE TABLE users (
            id INTEGER PRIMARY KEY,
            email TEXT NOT NULL UNIQUE COLLATE NOCASE CHECK (email LIKE '%_@_%'),
            password_hash TEXT NOT NULL,
            role TEXT NOT NULL CHECK (role IN ('admin', 'editor')),
            active INTEGER NOT NULL DEFAULT 1,
            created_at TEXT NOT NULL,
            last_login_at TEXT
        )
        """
    )
    # Failed sign-ins per account and per address, to slow down password guessing.
    db.execute("CREATE TABLE login_failures (key TEXT PRIMARY KEY, failures INTEGER NOT NULL,"
               " last_at REAL NOT NULL)")
    db.execute(
        """
        CREATE TABLE audit_log (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            user_email TEXT NOT NULL,
            organisation_id INTEGER,
            action TEXT NOT NULL,
            before TEXT,
            after TEXT
        )
        """
    )
    db.execute("CREATE INDEX audit_log_organisation ON audit_log (organisation_id, id)")


def _m005_imports(db: sqlite_utils.Database) -> None:
    # Imports started from the browser: what, by whom, how far, and the outcome.
    db.execute(
        """
        CREATE TABLE imports (
            id INTEGER PRIMARY KEY,
            user_email TEXT NOT NULL,
            filename TEXT NOT NULL,
            stored_path TEXT NOT NULL,
            source TEXT NOT NULL,
            project TEXT,
            status_choice TEXT,
            mapping TEXT,
            state TEXT NOT NULL CHECK (state IN ('preview', 'running', 'done', 'failed', 'undone')),
            rows_total INTEGER,
            rows_done INTEGER NOT NULL DEFAULT 0,
            counts TEXT,
            report_csv TEXT,
            error TEXT,
            created_at TEXT NOT NULL,
            heartbeat_at REAL,
            finished_at TEXT
        )
        """
    )
    db.execute("CREATE TABLE saved_mappings (name TEXT PRIMARY KEY, mapping TEXT NOT NULL, updated_at TEXT NOT NULL)")


def _m006_session_version(db: sqlite_utils.Database) -> None:
    # Signing out (or losing a role) bumps the number: sessions carrying an older one
    # are refused, though their cookies are still validly signed.
    db.execute("ALTER TABLE users ADD COLUMN session_version INTEGER NOT NULL DEFAULT 1")


def _m007_import_file_hash(db: sqlite_utils.Database) -> None:
    # The uploaded file's SHA-256: the same file is not imported twice at once.
    db.execute("ALTER TABLE imports ADD COLUMN file_sha256 TEXT")
    db.execute("CREATE INDEX imports_state ON imports (state, file_sha256)")


def _m008_folded_search(db: sqlite_utils.Database) -> None:
    # The index holds folded text (mapapp_fold: lower case, no accents, ł→l, ø→o, ß→ss…),
    # which remove_diacritics alone does not give: "spoldzielnia" finds "Spółdzielnia".
    # mapapp_fold is registered on every connection by catalogue.connect.
    for trigger in ("organisations_fts_insert", "organisations_fts_update", "organisations_fts_delete"):
        db.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    db.execute("DROP TABLE organisations_fts")
    db.execute("""
        CREATE VIRTUAL TABLE organisations_fts USING fts5 (
            name, description, city,
            content = 'organisations', content_rowid = 'id',
            tokenize = 'unicode61 remove_diacritics 2'
        )""")
    db.execute("""
        CREATE TRIGGER organisations_fts_insert AFTER INSERT ON organisations BEGIN
            INSERT INTO organisations_fts (rowid, name, description, city)
                VALUES (new.id, mapapp_fold(new.name), mapapp_fold(new.description), mapapp_fold(new.city));
        END""")
    db.execute("""
        CREATE TRIGGER organisations_fts_update AFTER UPDATE OF name, description, city ON organisations BEGIN
            INSERT INTO organisations_fts (organisations_fts, rowid, name, description, city)
                VALUES ('delete', old.id, mapapp_fold(old.name), mapapp_fold(old.description), mapapp_fold(old.city));
            INSERT INTO organisations_fts (rowid, name, description, city)
                VALUES (new.id, mapapp_fold(new.name), mapapp_fold(new.description), mapapp_fold(new.city));
        END""")
    db.execute("""
        CREATE TRIGGER organisations_fts_delete AFTER DELETE ON organisations BEGIN
            INSERT INTO organisations_fts (organisations_fts, rowid, name, description, city)
                VALUES ('delete', old.id, mapapp_fold(old.name), mapapp_fold(old.description), mapapp_fold(old.city));
        END""")
    db.execute("INSERT INTO organisations_fts (rowid, name, description, city)"
               " SELECT id, mapapp_fold(name), mapapp_fold(description), mapapp_fold(city) FROM organisations")


def _m009_audit_action_index(db: sqlite_utils.Database) -> None:
    # An import's entries are found by their action's prefix (import:<id>:), for undo
    # and for every history row: an index instead of a scan of the whole log.
    db.execute("CREATE INDEX audit_log_action ON audit_log (action)")


def _m010_translated_names(db: sqlite_utils.Database) -> None:
    # Project names and visit titles in each language, as JSON {lang: text}, like the
    # descriptions of organisations; the plain column stays the one every language falls back to.
    db.execute("ALTER TABLE projects ADD COLUMN names TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(names))")
    db.execute("ALTER TABLE visits ADD COLUMN titles TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(titles))")


def _m011_list_order(db: sqlite_utils.Database) -> None:
    # The lists' order (published, by name then id) as an index: the map snapshot reads it
    # without sorting a million rows, and the demo banner's question is answered by source.
    db.execute("CREATE INDEX organisations_published_name ON organisations (status, name COLLATE NOCASE, id)")
    db.execute("CREATE INDEX organisations_source_status ON organisations (source, status)")


# What the map snapshot shows of an organisation lives in these tables (its row, themes,
# needs and offers, projects, visits); a change to any of them is noted per organisation.
_CHANGE_NOTED = {"organisations": "id", "organisation_themes": "organisation_id",
                 "organisation_resources": "organisation_id", "project_organisations": "organisation_id",
                 "visit_organisations": "organisation_id"}
# A change to these changes every organisation's filter values at once: noted as organisation 0.
_STRUCTURAL = ("projects", "visits")


def _m012_organisation_changes(db: sqlite_utils.Database) -> None:
    # Which organisations changed at which catalogue version: the map snapshot of every
    # worker applies just those rows instead of reading a million again.
    db.execute("CREATE TABLE organisation_changes (organisation_id INTEGER PRIMARY KEY, version INTEGER NOT NULL)")
    db.execute("CREATE INDEX organisation_changes_version ON organisation_changes (version)")
    note = ("INSERT INTO organisation_changes VALUES ({who}, (SELECT version FROM catalogue_version WHERE id = 1))"
            " ON CONFLICT (organisation_id) DO UPDATE SET version = excluded.version;")
    for table, column in _CHANGE_NOTED.items():
        for event, row in (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD")):
            db.execute(f"CREATE TRIGGER {table}_changes_{event.lower()} AFTER {event} ON {table} BEGIN "  # nosec B608 # names come from code
                       + note.format(who=f"{row}.{column}") + " END")
        if table == "organisations":  # an id changed by an UPDATE: the old one changed too
            db.execute("CREATE TRIGGER organisations_changes_update_id AFTER UPDATE OF id ON organisations BEGIN "
                       + note.format(who="OLD.id") + " END")
    for table in _STRUCTURAL:
        for event in ("INSERT", "UPDATE", "DELETE"):
            db.execute(f"CREATE TRIGGER {table}_changes_{event.lower()} AFTER {event} ON {table} BEGIN "  # nosec B608 # names come from code
                       + note.format(who="0") + " END")


def _m013_cheaper_checks(db: sqlite_utils.Database) -> None:
    # A CHECK of "x IN (three or more values)" builds a small temporary index for every row
    # written: 2 µs a row each, a tenth of an import's time at a million rows; the same checks
    # as equalities cost nothing. This migration once rewrote those CHECKs in place through
    # writable_schema. Catalogues that ran it keep its effect; for the others the equalities
    # now come from documented table rebuilds that state them literally: migration 21 for
    # organisations, migration 24 for geocode_cache (users' role list has two values and
    # was never rewritten). Nothing is left for it to do, and its number stays taken.
    pass


def _m014_contributions(db: sqlite_utils.Database) -> None:
    # What visitors send in. Never public: an accepted one is written to organisations
    # by a moderator (its audit entry can be undone); the token's hash, never the token.
    db.execute("""
        CREATE TABLE contributions (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind = 'new' OR kind = 'correction' OR kind = 'closed'),
            organisation_id INTEGER REFERENCES organisations (id) ON DELETE SET NULL,
            proposal TEXT NOT NULL CHECK (json_valid(proposal)),
            note TEXT NOT NULL DEFAULT '',
            email TEXT NOT NULL,
            lang TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT 'unconfirmed' CHECK (state = 'unconfirmed' OR state = 'pending' OR state = 'accepted' OR state = 'rejected'),
            token_hash TEXT UNIQUE,
            token_expires_at TEXT,
            client TEXT NOT NULL DEFAULT '',
            country TEXT,
            project TEXT,
            created_at TEXT NOT NULL,
            confirmed_at TEXT,
            decided_at TEXT,
            decided_by TEXT,
            reason TEXT NOT NULL DEFAULT '',
            result_organisation_id INTEGER
        )""")
    db.execute("CREATE INDEX contributions_state ON contributions (state, id)")
    db.execute("CREATE INDEX contributions_client ON contributions (client, created_at)")
    db.execute("CREATE INDEX contributions_email ON contributions (email COLLATE NOCASE, created_at)")
    # Proof-of-work answers already used: each is good for one form only.
    db.execute("CREATE TABLE used_challenges (signature TEXT PRIMARY KEY, expires_at INTEGER NOT NULL)")


def _m015_owners(db: sqlite_utils.Database) -> None:
    # An organisation's owner (whoever reads its e-mail) edits through signed links that
    # carry link_version: raising it revokes every link sent. checked_at: last "still
    # correct" or owner edit; reminded_at: the last reminder sent.
    db.execute("""
        CREATE TABLE organisation_owners (
            organisation_id INTEGER PRIMARY KEY REFERENCES organisations (id) ON DELETE CASCADE,
            link_version INTEGER NOT NULL DEFAULT 1,
            checked_at TEXT,
            reminded_at TEXT
        )""")


def _m016_moderation_scope(db: sqlite_utils.Database) -> None:
    # A partner's editor moderates only their part of the queue: these countries (ISO codes)
    # or projects (slugs), comma-separated; empty for both: the whole queue.
    db.execute("ALTER TABLE users ADD COLUMN scope_countries TEXT NOT NULL DEFAULT ''")
    db.execute("ALTER TABLE users ADD COLUMN scope_projects TEXT NOT NULL DEFAULT ''")


def _m017_subscriptions(db: sqlite_utils.Database) -> None:
    # "Tell me about new organisations here": the map's filters and area as a query string,
    # confirmed by e-mail (token_hash, forgotten once used); unsubscribe_key is in every
    # digest's one-click link.
    db.execute("""
        CREATE TABLE subscriptions (
            id INTEGER PRIMARY KEY,
            email TEXT NOT NULL,
            lang TEXT NOT NULL,
            query TEXT NOT NULL DEFAULT '',
            frequency TEXT NOT NULL CHECK (frequency = 'daily' OR frequency = 'weekly'),
            state TEXT NOT NULL DEFAULT 'unconfirmed' CHECK (state = 'unconfirmed' OR state = 'active'),
            token_hash TEXT UNIQUE,
            token_expires_at TEXT,
            unsubscribe_key TEXT NOT NULL UNIQUE,
            client TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            confirmed_at TEXT,
            last_sent_at TEXT
        )""")
    db.execute("CREATE INDEX subscriptions_due ON subscriptions (state, frequency, last_sent_at)")
    db.execute("CREATE INDEX subscriptions_client ON subscriptions (client, created_at)")


def _m018_owner_freshness(db: sqlite_utils.Database) -> None:
    # An entry confirmed by its owner is no longer faded on the map: the public pages'
    # caches (ETags, compare the catalogue's version) must see it. link_sent_at: the last
    # edit link sent, so that nobody floods an organisation's mailbox with them.
    db.execute("ALTER TABLE organisation_owners ADD COLUMN link_sent_at TEXT")
    bump = (" UPDATE catalogue_version SET version = version + 1,"
            " changed_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id = 1; END")
    db.execute("CREATE TRIGGER organisation_owners_checked_insert AFTER INSERT ON organisation_owners"
               " WHEN NEW.checked_at IS NOT NULL BEGIN" + bump)
    db.execute("CREATE TRIGGER organisation_owners_checked_update AFTER UPDATE OF checked_at ON organisation_owners"
               " BEGIN" + bump)


def _m019_change_feed(db: sqlite_utils.Database) -> None:
    # What left the public map (unpublished, archived or deleted) and when: the change feed
    # (/api/changes) tells machines to remove it. New and changed organisations are read by
    # their updated_at, through the index below.
    db.execute("CREATE TABLE withdrawn_organisations (id INTEGER PRIMARY KEY, organisation_id INTEGER NOT NULL,"
               " slug TEXT NOT NULL, at TEXT NOT NULL)")
    db.execute("CREATE INDEX withdrawn_organisations_at ON withdrawn_organisations (at, id)")
    note = (" BEGIN INSERT INTO withdrawn_organisations (organisation_id, slug, at)"
            " VALUES (OLD.id, OLD.slug, strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now')); END")
    db.execute("CREATE TRIGGER organisations_withdrawn_status AFTER UPDATE OF status ON organisations"
               " WHEN OLD.status = 'published' AND NEW.status <> 'published'" + note)
    db.execute("CREATE TRIGGER organisations_withdrawn_delete AFTER DELETE ON organisations"
               " WHEN OLD.status = 'published'" + note)
    db.execute("CREATE INDEX organisations_published_updated ON organisations (status, updated_at, id)")


def _m020_sync_sources(db: sqlite_utils.Database) -> None:
    # Sources pulled on a schedule (mapapp sync): where, in which format, mapped how, into
    # which project and status; and what their last run did (JSON), for staff and cron.
    db.execute("""
        CREATE TABLE sync_sources (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 100),
            url TEXT NOT NULL CHECK (url LIKE 'http://%' OR url LIKE 'https://%'),
            format TEXT NOT NULL,
            mapping TEXT CHECK (mapping IS NULL OR json_valid(mapping)),
            project TEXT,
            status TEXT NOT NULL DEFAULT 'draft' CHECK (status = 'draft' OR status = 'published'),
            created_at TEXT NOT NULL,
            last_run_at TEXT,
            last_outcome TEXT CHECK (last_outcome IS NULL OR json_valid(last_outcome))
        )""")


# Migration 21's tables, as they stand after migrations 1–20, with every CHECK of three or more
# values as equalities (see migration 13) and with AUTOINCREMENT: literal, so that a fresh
# catalogue and an upgraded one are identical.
_AUTOINCREMENT_TABLES = {
    "organisations": """CREATE TABLE organisations (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            slug TEXT NOT NULL UNIQUE CHECK (slug GLOB '[a-z0-9]*' AND slug NOT GLOB '*[^a-z0-9-]*'),
            name TEXT NOT NULL CHECK (length(trim(name)) > 0),
            description TEXT NOT NULL DEFAULT '',
            relation TEXT NOT NULL DEFAULT 'other' CHECK ((relation = 'visited' OR relation = 'participant' OR relation = 'partner' OR relation = 'other')),
            structure TEXT,
            legal_form TEXT NOT NULL DEFAULT '',
            street TEXT NOT NULL DEFAULT '',
            postcode TEXT NOT NULL DEFAULT '',
            city TEXT NOT NULL DEFAULT '',
            region TEXT NOT NULL DEFAULT '',
            country TEXT CHECK (country IS NULL OR (length(country) = 2 AND country = upper(country))),
            lat REAL CHECK (lat IS NULL OR lat BETWEEN -90 AND 90),
            lon REAL CHECK (lon IS NULL OR lon BETWEEN -180 AND 180),
            geo_precision TEXT CHECK (geo_precision IS NULL OR (geo_precision = 'provided' OR geo_precision = 'address' OR geo_precision = 'street' OR geo_precision = 'postcode' OR geo_precision = 'locality' OR geo_precision = 'region' OR geo_precision = 'country' OR geo_precision = 'manual')),
            geo_source TEXT,
            website TEXT NOT NULL DEFAULT '' CHECK (website = '' OR website LIKE 'http://%' OR website LIKE 'https://%'),
            email TEXT NOT NULL DEFAULT '',
            phone TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL DEFAULT 'draft' CHECK ((status = 'draft' OR status = 'published' OR status = 'archived')),
            source TEXT NOT NULL DEFAULT '',
            source_ref TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            CHECK ((lat IS NULL) = (lon IS NULL))
        )""",
    "contributions": """CREATE TABLE contributions (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            kind TEXT NOT NULL CHECK (kind = 'new' OR kind = 'correction' OR kind = 'closed'),
            organisation_id INTEGER REFERENCES organisations (id) ON DELETE SET NULL,
            proposal TEXT NOT NULL CHECK (json_valid(proposal)),
            note TEXT NOT NULL DEFAULT '',
            email TEXT NOT NULL,
            lang TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT 'unconfirmed' CHECK (state = 'unconfirmed' OR state = 'pending' OR state = 'accepted' OR state = 'rejected'),
            token_hash TEXT UNIQUE,
            token_expires_at TEXT,
            client TEXT NOT NULL DEFAULT '',
            country TEXT,
            project TEXT,
            created_at TEXT NOT NULL,
            confirmed_at TEXT,
            decided_at TEXT,
            decided_by TEXT,
            reason TEXT NOT NULL DEFAULT '',
            result_organisation_id INTEGER
        )""",
    "subscriptions": """CREATE TABLE subscriptions (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            email TEXT NOT NULL,
            lang TEXT NOT NULL,
            query TEXT NOT NULL DEFAULT '',
            frequency TEXT NOT NULL CHECK (frequency = 'daily' OR frequency = 'weekly'),
            state TEXT NOT NULL DEFAULT 'unconfirmed' CHECK (state = 'unconfirmed' OR state = 'active'),
            token_hash TEXT UNIQUE,
            token_expires_at TEXT,
            unsubscribe_key TEXT NOT NULL UNIQUE,
            client TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            confirmed_at TEXT,
            last_sent_at TEXT
        )""",
    "audit_log": """CREATE TABLE audit_log (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            at TEXT NOT NULL,
            user_email TEXT NOT NULL,
            organisation_id INTEGER,
            action TEXT NOT NULL,
            before TEXT,
            after TEXT
        )""",
}
# The highest id each table has ever given, including ids of rows deleted before migration
# 21 that other tables, the audit log's actions or e-mailed links still name.
_HIGHEST_EVER = {
    "organisations": """SELECT max(coalesce((SELECT max(id) FROM organisations), 0),
            coalesce((SELECT max(organisation_id) FROM audit_log), 0),
            coalesce((SELECT max(organisation_id) FROM contributions), 0),
            coalesce((SELECT max(result_organisation_id) FROM contributions), 0),
            coalesce((SELECT max(organisation_id) FROM withdrawn_organisations), 0),
            coalesce((SELECT max(organisation_id) FROM organisation_changes), 0),
            coalesce((SELECT max(organisation_id) FROM organisation_owners), 0))""",
    "contributions": """SELECT max(coalesce((SELECT max(id) FROM contributions), 0),
            coalesce((SELECT max(CAST(substr(action, length('contribution:') + 1) AS INTEGER)) FROM audit_log
                      WHERE action GLOB 'contribution:[0-9]*'), 0),
            coalesce((SELECT max(CAST(substr(action, length('contribution-rejected:') + 1) AS INTEGER)) FROM audit_log
                      WHERE action GLOB 'contribution-rejected:[0-9]*'), 0))""",
    "subscriptions": "SELECT coalesce(max(id), 0) FROM subscriptions",
    "audit_log": """SELECT max(coalesce((SELECT max(id) FROM audit_log), 0),
            coalesce((SELECT max(CAST(substr(action, length('undo:') + 1) AS INTEGER)) FROM audit_log
                      WHERE action GLOB 'undo:[0-9]*'), 0))""",
}


def _rebuild(db: sqlite_utils.Database, table: str, create: str) -> None:
    """Rebuild ``table`` as ``create`` says, the way SQLite documents (foreign keys off, see
    migrate): the old table is renamed without touching the references to it
    (legacy_alter_table), the new one takes its rows, then its indexes and triggers are created
    again from their stored text, in their order (a version trigger must still fire before the
    change-noting one)."""
    kept = [row[0] for row in db.execute(
        "SELECT sql FROM sqlite_master WHERE tbl_name = ? AND type IN ('index', 'trigger')"
        " AND sql IS NOT NULL ORDER BY rowid", [table])]
    db.execute("PRAGMA legacy_alter_table = ON")
    try:
        db.execute(f"ALTER TABLE {table} RENAME TO _{table}_before_rebuild")
    finally:
        db.execute("PRAGMA legacy_alter_table = OFF")
    db.execute(create)
    db.execute(f"INSERT INTO {table} SELECT * FROM _{table}_before_rebuild")  # nosec B608 # names come from code
    db.execute(f"DROP TABLE _{table}_before_rebuild")
    for sql in kept:
        db.execute(sql)


def _m021_ids_never_reused(db: sqlite_utils.Database) -> None:
    # A deleted organisation's id given to the next one let an old owner's link, the old
    # history and its Undo act on the new organisation; likewise for contributions (named by
    # id in the audit log and the moderation pages), subscriptions and audit entries (named
    # by undo entries). AUTOINCREMENT never gives an id twice; adding it means rebuilding
    # each table, seeded past the highest id it ever gave.
    for table, create in _AUTOINCREMENT_TABLES.items():
        highest = db.execute(_HIGHEST_EVER[table]).fetchone()[0]
        _rebuild(db, table, create)
        db.execute("DELETE FROM sqlite_sequence WHERE name = ?", [table])
        db.execute("INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", [table, highest])


def _m022_owner_link_requests(db: sqlite_utils.Database) -> None:
    # "Is this your organisation?" asked from a page: by which client (hashed address, an
    # IPv6 /64 as one) and when, so that one client, and the whole site, send a bounded
    # number of edit links per hour. Rows older than a day are of no use and are deleted.
    db.execute("""
        CREATE TABLE owner_link_requests (
            id INTEGER PRIMARY KEY,
            organisation_id INTEGER NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
            client TEXT NOT NULL,
            requested_at TEXT NOT NULL
        )""")
    db.execute("CREATE INDEX owner_link_requests_at ON owner_link_requests (requested_at)")
    db.execute("CREATE INDEX owner_link_requests_client ON owner_link_requests (client, requested_at)")


def _m023_sync_running(db: sqlite_utils.Database) -> None:
    # A source being pulled (from the staff area, in the background, or by cron) says so, from
    # when (seconds since the epoch), so that the Sources page shows it and two runs do not overlap.
    db.execute("ALTER TABLE sync_sources ADD COLUMN running_since REAL")


# geocode_cache as it stood after migration 13's rewrite: its precision CHECK as equalities.
_GEOCODE_CACHE = """CREATE TABLE geocode_cache (
            provider TEXT NOT NULL,
            query TEXT NOT NULL,
            lat REAL,
            lon REAL,
            precision TEXT CHECK (precision IS NULL OR (precision = 'provided' OR precision = 'address' OR precision = 'street' OR precision = 'postcode' OR precision = 'locality' OR precision = 'region' OR precision = 'country' OR precision = 'manual')),
            created_at TEXT NOT NULL,
            PRIMARY KEY (provider, query)
        )"""


def _m024_literal_geocode_checks(db: sqlite_utils.Database) -> None:
    # Migration 13 rewrote this table's CHECK through writable_schema, with text computed
    # from whatever the CHECK said; it no longer does. Every catalogue, whichever way it
    # came, is rebuilt here to the one literal table, so that fresh and upgraded ones are
    # identical without editing sqlite_master by hand.
    _rebuild(db, "geocode_cache", _GEOCODE_CACHE)


def _m025_catalogue_meta(db: sqlite_utils.Database) -> None:
    # Facts about the catalogue that are not rows of the map, by key. fold_version: the
    # version of text.fold_text the search index was built with (see catalogue.base.connect);
    # left unset here, so that the first start-up after this migration rebuilds the index
    # with the fold of the day, whatever fold built it before.
    db.execute("CREATE TABLE catalogue_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")


def _m026_site_settings(db: sqlite_utils.Database) -> None:
    # The site's own settings, set by its staff (identity, colours, the map's defaults, funding,
    # contact): one JSON value per key, so that a new setting needs no migration; and the files
    # they name (the logo), kept in the catalogue so that one backup holds the whole site.
    db.execute("""
        CREATE TABLE site_settings (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL CHECK (json_valid(value)),
            updated_at TEXT NOT NULL,
            updated_by TEXT NOT NULL DEFAULT ''
        )""")
    db.execute("""
        CREATE TABLE site_files (
            name TEXT PRIMARY KEY,
            media_type TEXT NOT NULL,
            data BLOB NOT NULL,
            sha256 TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            updated_by TEXT NOT NULL DEFAULT ''
        )""")


def _m027_pages(db: sqlite_utils.Database) -> None:
    # Pages staff write (about, legal notice, privacy policy, others), one text per language in
    # Markdown; the HTML is made from it when shown, never stored. kind decides who may edit
    # (legal and privacy: admins) and which page the e-mail forms link to.
    db.execute("""
        CREATE TABLE pages (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            slug TEXT NOT NULL UNIQUE CHECK (slug GLOB '[a-z0-9]*' AND slug NOT GLOB '*[^a-z0-9-]*'
                                             AND length(slug) <= 80),
            kind TEXT NOT NULL CHECK (kind = 'about' OR kind = 'legal' OR kind = 'privacy' OR kind = 'other'),
            in_footer INTEGER NOT NULL DEFAULT 1 CHECK (in_footer = 0 OR in_footer = 1),
            position INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )""")
    db.execute("""
        CREATE TABLE page_texts (
            page_id INTEGER NOT NULL REFERENCES pages (id) ON DELETE CASCADE,
            lang TEXT NOT NULL,  -- checked by mapapp.vocab: a new language needs no migration
            title TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
            body_markdown TEXT NOT NULL DEFAULT '' CHECK (length(body_markdown) <= 100000),
            updated_at TEXT NOT NULL,
            updated_by TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (page_id, lang)
        )""")


def _m028_staff_account(db: sqlite_utils.Database) -> None:
    # Each staff member's language (their messages are written in it), whether they want the
    # moderation digest and when the last one went (at most one an hour).
    db.execute("ALTER TABLE users ADD COLUMN lang TEXT NOT NULL DEFAULT 'en'")
    db.execute("ALTER TABLE users ADD COLUMN notify_moderation INTEGER NOT NULL DEFAULT 1")
    db.execute("ALTER TABLE users ADD COLUMN last_moderation_digest_at TEXT")
    # "Forgot your password?": one row per request, whether or not the address is an active
    # account's (user_id NULL), so that requests are limited per client and per address
    # (both hashed) alike. The link's token is stored hashed with the password hash of the
    # day: a new password kills every earlier link. AUTOINCREMENT: the link names its row.
    db.execute("""
        CREATE TABLE password_resets (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            user_id INTEGER REFERENCES users (id) ON DELETE CASCADE,
            address TEXT NOT NULL DEFAULT '',
            token_hash TEXT NOT NULL UNIQUE,
            expires_at TEXT NOT NULL,
            used_at TEXT,
            client TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL
        )""")
    db.execute("CREATE INDEX password_resets_client ON password_resets (client, created_at)")
    db.execute("CREATE INDEX password_resets_address ON password_resets (address, created_at)")


def _m029_projects_and_visits(db: sqlite_utils.Database) -> None:
    # Projects and their visits and events, run by staff (#27). A project: descriptions and
    # its funding line per language ({lang: text}), links ({"website": …, "results": …}),
    # archived, a logo (a row of site_files, by name). A member's relation is to each project
    # (the organisation's own relation stays what the map filters on); a partner has a role.
    db.execute("ALTER TABLE projects ADD COLUMN descriptions TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(descriptions))")
    db.execute("ALTER TABLE projects ADD COLUMN links TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(links))")
    db.execute("ALTER TABLE projects ADD COLUMN funding TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(funding))")
    db.execute("ALTER TABLE projects ADD COLUMN show_eu_funding INTEGER NOT NULL DEFAULT 0"
               " CHECK (show_eu_funding = 0 OR show_eu_funding = 1)")
    db.execute("ALTER TABLE projects ADD COLUMN archived INTEGER NOT NULL DEFAULT 0 CHECK (archived = 0 OR archived = 1)")
    db.execute("ALTER TABLE projects ADD COLUMN logo_file TEXT")
    db.execute("ALTER TABLE project_organisations ADD COLUMN relation TEXT NOT NULL DEFAULT 'other'"
               " CHECK (relation = 'visited' OR relation = 'participant' OR relation = 'partner' OR relation = 'other')")
    db.execute("ALTER TABLE project_organisations ADD COLUMN role TEXT"
               " CHECK (role IS NULL OR role = 'coordinator' OR role = 'partner')")
    # Until now an organisation had one relation, to every project it is in.
    db.execute("UPDATE project_organisations SET relation = (SELECT o.relation FROM organisations o"
               " WHERE o.id = project_organisations.organisation_id)")
    # A visit or event: its kind, a date range, a place (text, and a point located by the
    # geocoder chain or a pin), descriptions per language and links ({"programme": …, …}).
    db.execute("ALTER TABLE visits ADD COLUMN kind TEXT NOT NULL DEFAULT 'study-visit'"
               " CHECK (kind = 'study-visit' OR kind = 'seminar' OR kind = 'online' OR kind = 'event')")
    db.execute("ALTER TABLE visits ADD COLUMN end_date TEXT")
    db.execute("ALTER TABLE visits ADD COLUMN place TEXT NOT NULL DEFAULT ''")
    db.execute("ALTER TABLE visits ADD COLUMN lat REAL CHECK (lat IS NULL OR lat BETWEEN -90 AND 90)")
    db.execute("ALTER TABLE visits ADD COLUMN lon REAL CHECK (lon IS NULL OR lon BETWEEN -180 AND 180)")
    db.execute("ALTER TABLE visits ADD COLUMN geo_precision TEXT CHECK (geo_precision IS NULL OR (geo_precision = 'provided'"
               " OR geo_precision = 'address' OR geo_precision = 'street' OR geo_precision = 'postcode'"
               " OR geo_precision = 'locality' OR geo_precision = 'region' OR geo_precision = 'country'"
               " OR geo_precision = 'manual'))")
    db.execute("ALTER TABLE visits ADD COLUMN descriptions TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(descriptions))")
    db.execute("ALTER TABLE visits ADD COLUMN links TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(links))")
    # Who hosted, was visited, or took part: one role per organisation and visit.
    db.execute("ALTER TABLE visit_organisations ADD COLUMN role TEXT NOT NULL DEFAULT 'visited'"
               " CHECK (role = 'host' OR role = 'visited' OR role = 'participant')")


def _m030_categories_fields_pictures(db: sqlite_utils.Database) -> None:
    # The network's own category tree (#28), two levels deep: a category's code is what
    # organisation_themes.theme holds and what ?theme= names (the ESSGLOBAL codes AM10… for
    # the default tree, which the app seeds from data/vocab/themes.csv on a fresh catalogue;
    # staff-made ones get a slug). labels: {lang: text}; aliases: other names imports
    # recognise, '|'-separated; essglobal: the ESSGLOBAL activity it maps to (AM code), for
    # exports and linked data; retired_at: hidden from forms and filters, kept for history.
    # Two levels and "a parent has no parent" are checked by the app.
    db.execute("""
        CREATE TABLE categories (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            code TEXT NOT NULL UNIQUE CHECK (length(code) BETWEEN 1 AND 60 AND code NOT GLOB '*[^A-Za-z0-9-]*'),
            parent_id INTEGER REFERENCES categories (id),
            position INTEGER NOT NULL DEFAULT 0,
            labels TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(labels)),
            aliases TEXT NOT NULL DEFAULT '',
            colour TEXT NOT NULL DEFAULT '#1f6f8b'
                CHECK (length(colour) = 7 AND colour GLOB '#[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]'),
            icon TEXT NOT NULL DEFAULT '' CHECK (length(icon) <= 60 AND icon NOT GLOB '*[^a-z0-9-]*'),
            essglobal TEXT,
            retired_at TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )""")
    db.execute("CREATE INDEX categories_parent ON categories (parent_id, position)")
    # Which of an organisation's categories is its main one (its marker's colour and icon):
    # the lowest rank, then the tree's order.
    db.execute("ALTER TABLE organisation_themes ADD COLUMN rank INTEGER NOT NULL DEFAULT 0")
    # Fields of the network's own, typed; choices: [{"value": slug, "labels": {lang: text}}]
    # for one choice / several choices; categories: codes of the categories it applies to
    # ([] for every organisation); filter: a choice or yes/no field offered as a filter;
    # in_popup: shown in map popups; public 0: staff only (never exported publicly).
    db.execute("""
        CREATE TABLE fields (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            slug TEXT NOT NULL UNIQUE CHECK (length(slug) BETWEEN 1 AND 60 AND slug GLOB '[a-z]*'
                                             AND slug NOT GLOB '*[^a-z0-9-]*'),
            type TEXT NOT NULL CHECK (type = 'text' OR type = 'long_text' OR type = 'number' OR type = 'date'
                                      OR type = 'yes_no' OR type = 'choice' OR type = 'choices' OR type = 'url'),
            labels TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(labels)),
            choices TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(choices)),
            categories TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(categories)),
            required INTEGER NOT NULL DEFAULT 0 CHECK (required = 0 OR required = 1),
            public INTEGER NOT NULL DEFAULT 1 CHECK (public = 0 OR public = 1),
            filter INTEGER NOT NULL DEFAULT 0 CHECK (filter = 0 OR filter = 1),
            in_popup INTEGER NOT NULL DEFAULT 0 CHECK (in_popup = 0 OR in_popup = 1),
            position INTEGER NOT NULL DEFAULT 0,
            retired_at TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )""")
    # An organisation's values: one row per value (several for "several choices"); numbers,
    # dates (YYYY-MM-DD), yes/no ('yes'/'no') and choices (their slug) as text, checked by the app.
    db.execute("""
        CREATE TABLE organisation_fields (
            organisation_id INTEGER NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
            field_id INTEGER NOT NULL REFERENCES fields (id) ON DELETE CASCADE,
            value TEXT NOT NULL CHECK (length(value) <= 10000),
            PRIMARY KEY (organisation_id, field_id, value)
        )""")
    db.execute("CREATE INDEX organisation_fields_value ON organisation_fields (field_id, value, organisation_id)")
    # A logo and up to four photos per organisation, re-encoded by mapapp.images (EXIF gone)
    # and kept in the catalogue like site_files: data (at most 1600 px) and thumb (320 px).
    # A picture sent with a contribution waits with its contribution (organisation_id NULL for
    # a new organisation) until a moderator accepts it.
    db.execute("""
        CREATE TABLE organisation_images (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            organisation_id INTEGER REFERENCES organisations (id) ON DELETE CASCADE,
            contribution_id INTEGER REFERENCES contributions (id) ON DELETE CASCADE,
            role TEXT NOT NULL CHECK (role = 'logo' OR role = 'photo'),
            position INTEGER NOT NULL DEFAULT 0,
            media_type TEXT NOT NULL,
            data BLOB NOT NULL,
            thumb BLOB NOT NULL,
            sha256 TEXT NOT NULL,
            width INTEGER NOT NULL,
            height INTEGER NOT NULL,
            alt TEXT NOT NULL CHECK (length(trim(alt)) BETWEEN 1 AND 300),
            source_url TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            created_by TEXT NOT NULL DEFAULT '',
            CHECK (organisation_id IS NOT NULL OR contribution_id IS NOT NULL)
        )""")
    db.execute("CREATE INDEX organisation_images_organisation ON organisation_images (organisation_id, role, position)")
    db.execute("CREATE INDEX organisation_images_contribution ON organisation_images (contribution_id)")
    # Pages show these: a change moves the catalogue version (caches, ETags) …
    for table in ("categories", "fields", "organisation_fields", "organisation_images"):
        for event in ("INSERT", "UPDATE", "DELETE"):
            db.execute(
                f"CREATE TRIGGER {table}_version_{event.lower()} AFTER {event} ON {table} BEGIN"  # nosec B608 # names come from code
                " UPDATE catalogue_version SET version = version + 1,"
                " changed_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id = 1; END")
    # … and the map snapshot: a field value per organisation; the tree or the fields for all
    # (noted as organisation 0, as projects and visits are).
    note = ("INSERT INTO organisation_changes VALUES ({who}, (SELECT version FROM catalogue_version WHERE id = 1))"
            " ON CONFLICT (organisation_id) DO UPDATE SET version = excluded.version;")
    for table, who in (("organisation_fields", "{row}.organisation_id"), ("categories", "0"), ("fields", "0")):
        for event, row in (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD")):
            db.execute(f"CREATE TRIGGER {table}_changes_{event.lower()} AFTER {event} ON {table} BEGIN "  # nosec B608 # names come from code
                       + note.format(who=who.format(row=row)) + " END")


def _m031_whole_catalogue_changes_noted_after_the_version(db: sqlite_utils.Database) -> None:
    # A change to projects, visits, categories or fields (what every organisation's filter values
    # hang on) is noted as organisation 0 at the catalogue version it brings, so that map columns
    # read at the version before are read again. Two triggers did it (one moved the version, one
    # noted it); SQLite fires the later-created first, so the note carried the version from before
    # the change and columns read at that version never saw it. One trigger now does both, in order.
    for table in ("projects", "visits", "categories", "fields"):
        for event in ("INSERT", "UPDATE", "DELETE"):
            db.execute(f"DROP TRIGGER {table}_version_{event.lower()}")
            db.execute(f"DROP TRIGGER {table}_changes_{event.lower()}")
            db.execute(
                f"CREATE TRIGGER {table}_changes_{event.lower()} AFTER {event} ON {table} BEGIN"  # nosec B608 # names come from code
                " UPDATE catalogue_version SET version = version + 1,"
                " changed_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id = 1;"
                " INSERT INTO organisation_changes VALUES (0, (SELECT version FROM catalogue_version WHERE id = 1))"
                " ON CONFLICT (organisation_id) DO UPDATE SET version = excluded.version; END")


def _m032_name_sort_key(db: sqlite_utils.Database) -> None:
    # The lists sort by each name's collation key (mapapp_sort_key, registered on every connection
    # by catalogue.connect): "Économie" among the E, not after Z as NOCASE put it. The key is
    # filled here with the two per-row change triggers set aside (a million rows noted one by one
    # took most of the time); one note of organisation 0 has every map column read again instead.
    db.execute("ALTER TABLE organisations ADD COLUMN sort_key TEXT NOT NULL DEFAULT ''")
    db.execute("DROP TRIGGER organisations_version_update")
    db.execute("DROP TRIGGER organisations_changes_update")
    db.execute("UPDATE organisations SET sort_key = mapapp_sort_key(name)")
    db.execute("CREATE TRIGGER organisations_version_update AFTER UPDATE ON organisations BEGIN"
               " UPDATE catalogue_version SET version = version + 1,"
               " changed_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id = 1; END")
    db.execute("CREATE TRIGGER organisations_changes_update AFTER UPDATE ON organisations BEGIN"
               " INSERT INTO organisation_changes VALUES (NEW.id, (SELECT version FROM catalogue_version WHERE id = 1))"
               " ON CONFLICT (organisation_id) DO UPDATE SET version = excluded.version; END")
    db.execute("UPDATE catalogue_version SET version = version + 1,"
               " changed_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id = 1")
    db.execute("INSERT INTO organisation_changes VALUES (0, (SELECT version FROM catalogue_version WHERE id = 1))"
               " ON CONFLICT (organisation_id) DO UPDATE SET version = excluded.version")
    db.execute("INSERT INTO catalogue_meta (key, value) VALUES ('sort_version', '1')"
               " ON CONFLICT (key) DO UPDATE SET value = excluded.value")
    db.execute("DROP INDEX organisations_published_name")
    db.execute("CREATE INDEX organisations_published_sort ON organisations (status, sort_key, name, id)")
    # Writers give the key with the name (catalogue.writes); these keep it right for any other.
    db.execute("CREATE TRIGGER organisations_sort_key_insert AFTER INSERT ON organisations"
               " WHEN new.sort_key = '' AND new.name <> '' BEGIN"
               " UPDATE organisations SET sort_key = mapapp_sort_key(new.name) WHERE id = new.id; END")
    db.execute("CREATE TRIGGER organisations_sort_key_update AFTER UPDATE OF name ON organisations"
               " WHEN new.sort_key = old.sort_key BEGIN"
               " UPDATE organisations SET sort_key = mapapp_sort_key(new.name)"
               " WHERE id = new.id AND sort_key IS NOT mapapp_sort_key(new.name); END")


MIGRATIONS: list[tuple[int, str, Callable[[sqlite_utils.Database], None]]] = [
    (1, "catalogue", _m001_catalogue),
    (2, "geocode_cache", _m002_geocode_cache),
    (3, "catalogue_version", _m003_catalogue_version),
    (4, "staff", _m004_staff),
    (5, "imports", _m005_imports),
    (6, "session_version", _m006_session_version),
    (7, "import_file_hash", _m007_import_file_hash),
    (8, "folded_search", _m008_folded_search),
    (9, "audit_action_index", _m009_audit_action_index),
    (10, "translated_names", _m010_translated_names),
    (11, "list_order", _m011_list_order),
    (12, "organisation_changes", _m012_organisation_changes),
    (13, "cheaper_checks", _m013_cheaper_checks),
    (14, "contributions", _m014_contributions),
    (15, "owners", _m015_owners),
    (16, "moderation_scope", _m016_moderation_scope),
    (17, "subscriptions", _m017_subscriptions),
    (18, "owner_freshness", _m018_owner_freshness),
    (19, "change_feed", _m019_change_feed),
    (20, "sync_sources", _m020_sync_sources),
    (21, "ids_never_reused", _m021_ids_never_reused),
    (22, "owner_link_requests", _m022_owner_link_requests),
    (23, "sync_running", _m023_sync_running),
    (24, "literal_geocode_checks", _m024_literal_geocode_checks),
    (25, "catalogue_meta", _m025_catalogue_meta),
    (26, "site_settings", _m026_site_settings),
    (27, "pages", _m027_pages),
    (28, "staff_account", _m028_staff_account),
    (29, "projects_and_visits", _m029_projects_and_visits),
    (30, "categories_fields_pictures", _m030_categories_fields_pictures),
    (31, "whole_catalogue_changes_noted_after_the_version", _m031_whole_catalogue_changes_noted_after_the_version),
    (32, "name_sort_key", _m032_name_sort_key),
]
# Migrations that rebuild tables run with foreign keys off, as SQLite documents: with them
# on, dropping the old table would cascade its deletion to every row that refers to it.
_WITHOUT_FOREIGN_KEYS = {21, 24}


def applied(db: sqlite_utils.Database) -> list[int]:
    """Versions of the migrations already applied to ``db``."""
    if not db["_migrations"].exists():
        return []
    return [row[0] for row in db.execute("SELECT version FROM _migrations ORDER BY version")]


def migrate(db: sqlite_utils.Database) -> list[str]:
    """Apply every pending migration; return the names of those applied now.

    Each migration runs in a ``BEGIN IMMEDIATE`` transaction and re-checks that
    it is still pending, so two processes starting together apply it once.
    """
    done = set(applied(db))
    newest = MIGRATIONS[-1][0]
    if done and max(done) > newest:
        raise SchemaError(
            f"the catalogue is at schema version {max(done)}, newer than this mapapp "
            f"knows ({newest}); upgrade mapapp or point MAPAPP_DATABASE at another file"
        )
    names = []
    for version, name, apply in MIGRATIONS:
        if version in done:
            continue
        foreign_keys = db.execute("PRAGMA foreign_keys").fetchone()[0]
        if version in _WITHOUT_FOREIGN_KEYS:
            db.execute("PRAGMA foreign_keys = OFF")  # no effect inside a transaction: set before it
        db.conn.execute("BEGIN IMMEDIATE")
        try:
            db.execute(
                "CREATE TABLE IF NOT EXISTS _migrations ("
                " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
            )
            if version not in applied(db):
                apply(db)
                db.execute(
                    "INSERT INTO _migrations (version, name, applied_at) VALUES (?, ?, ?)",
                    [version, name, datetime.now(timezone.utc).isoformat(timespec="seconds")],
                )
                names.append(f"{version:03d}_{name}")
                if version in _WITHOUT_FOREIGN_KEYS:
                    broken = db.execute("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise SchemaError(f"migration {version} left rows that refer to missing ones: {broken[:5]}")
            db.conn.execute("COMMIT")
        except BaseException:
            db.conn.execute("ROLLBACK")
            raise
        finally:
            db.execute(f"PRAGMA foreign_keys = {int(foreign_keys)}")
    return names
