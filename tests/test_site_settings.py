"""Site settings: stored by staff, merged over the operator's defaults, audited, and moving the
catalogue's state on so that every cache follows."""

from __future__ import annotations

from mapapp import catalogue, site
from mapapp.catalogue import audit
from mapapp.catalogue import site as store
from mapapp.config import from_environment


def test_stored_settings_win_over_the_operators_defaults_and_removing_one_restores_it(db):
    config = from_environment({"MAPAPP_SITE_NAME": "Operator's name"})
    assert site.effective(config, store.read_settings(db)).name == "Operator's name"

    store.write_settings(db, {"site_name": "Réseau ESS Provence", "tagline": {"fr": "Les artisans"}}, "a@example.org")
    shown = site.effective(config, store.read_settings(db))
    assert shown.name == "Réseau ESS Provence"
    assert shown.text(shown.tagline, "fr") == ("Les artisans", None)
    assert shown.text(shown.tagline, "el") == ("Les artisans", "fr")

    store.write_settings(db, {"site_name": None}, "a@example.org")
    assert site.effective(config, store.read_settings(db)).name == "Operator's name"


def test_a_change_is_audited_with_before_and_after_and_moves_the_state_on(db):
    before = catalogue.state_key(db)
    changed = store.write_settings(db, {"primary_colour": "#003399"}, "admin@example.org")
    assert changed == {"primary_colour": (None, "#003399")}
    assert catalogue.state_key(db) != before
    entry = audit.entries(db, action=store.AUDIT_ACTION, limit=1)[0]
    assert entry["user_email"] == "admin@example.org"
    assert (entry["before"], entry["after"]) == ({"primary_colour": None}, {"primary_colour": "#003399"})

    unchanged = catalogue.state_key(db)
    assert store.write_settings(db, {"primary_colour": "#003399"}, "admin@example.org") == {}
    assert catalogue.state_key(db) == unchanged


def test_files_are_kept_in_the_catalogue_with_their_digest(db):
    store.write_file(db, "logo", "image/png", b"\x89PNG...", "admin@example.org")
    kept = store.read_file(db, "logo")
    assert kept["data"] == b"\x89PNG..." and kept["media_type"] == "image/png"
    assert site.effective(from_environment({}), {}, store.file_digests(db)).logo == kept["sha256"]
    store.write_file(db, "logo", "image/png", None, "admin@example.org")
    assert store.read_file(db, "logo") is None
