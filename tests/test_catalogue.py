import pytest
from support import make_org

from mapapp import catalogue
from mapapp.filters import BBox, Filters


def rtree(db):
    return {row[0]: row[1:] for row in db.execute(
        "SELECT id, min_lat, min_lon FROM organisations_rtree")}


def test_rtree_follows_insert_update_and_delete(db):
    a = make_org(db, "A", lat=45.5, lon=4.5)
    b = make_org(db, "B", lat=None, lon=None)
    assert set(rtree(db)) == {a.id}
    assert rtree(db)[a.id] == pytest.approx((45.5, 4.5), abs=1e-4)

    catalogue.set_location(db, b.id, 50.85, 4.35, "manual", "test")
    catalogue.set_location(db, a.id, 43.12, 5.93, "manual", "test")
    assert rtree(db)[a.id] == pytest.approx((43.12, 5.93), abs=1e-4)
    assert b.id in rtree(db)

    catalogue.set_location(db, a.id, None, None, None, None)
    assert a.id not in rtree(db)
    catalogue.delete_organisation(db, b.id)
    assert rtree(db) == {}


def test_bbox_filter_uses_exact_coordinates(db):
    make_org(db, "Inside", lat=45.0, lon=5.0)
    make_org(db, "Edge", lat=46.0, lon=6.0)
    make_org(db, "Outside", lat=46.0001, lon=6.0)
    names = [o["name"] for o in catalogue.find_organisations(db, Filters(bbox=BBox(4, 44, 6, 46)))]
    assert names == ["Edge", "Inside"]


def test_full_text_search_ignores_accents_and_case(db):
    make_org(db, "Spółdzielnia Śródka", city="Poznań", country="PL")
    make_org(db, "École du Vélo", description="Réparation de bicyclettes")
    make_org(db, "Other", description="nothing to see")

    def search(text):
        return [o["name"] for o in catalogue.find_organisations(db, Filters(q=text))]

    assert search("poznan") == ["Spółdzielnia Śródka"]
    assert search("ECOLE velo") == ["École du Vélo"]
    assert search("repar") == ["École du Vélo"]  # word prefixes match
    assert search('"; DROP TABLE organisations; --') == []


def test_full_text_index_follows_renames_and_deletes(db):
    saved = make_org(db, "Old Name")
    catalogue.save_organisation(db, {"name": "New Name", "source": "test", "source_ref": "Old Name",
                                     "status": "published"})
    assert [o["slug"] for o in catalogue.find_organisations(db, Filters(q="new"))] == [saved.slug]
    assert catalogue.find_organisations(db, Filters(q="old")) == []
    catalogue.delete_organisation(db, saved.id)
    assert catalogue.find_organisations(db, Filters(q="new")) == []


def test_saving_the_same_record_twice_changes_nothing(db):
    first = make_org(db, "Coop", themes=["AM40"], needs={"funding": "a loan"})
    stamp = db.execute("SELECT updated_at FROM organisations").fetchone()[0]
    again = make_org(db, "Coop", themes=["AM40"], needs={"funding": "a loan"})
    assert (again.action, again.id, again.slug) == ("unchanged", first.id, first.slug)
    assert db.execute("SELECT updated_at FROM organisations").fetchone()[0] == stamp
    changed = make_org(db, "Coop", themes=["AM40", "AM60"], needs={"funding": "a loan"})
    assert changed.action == "updated"
    assert catalogue.get_organisation(db, first.slug)["themes"] == ["AM40", "AM60"]


def test_slugs_are_unique_and_readable_ascii(db):
    a = make_org(db, "Coopérative Łódź")
    b = make_org(db, "Coopérative Łódź!", source_ref="other")
    assert a.slug == "cooperative-lodz"
    assert b.slug == "cooperative-lodz-lyon"  # the same name: its city, then a number
    assert make_org(db, "Coopérative Łódź", source_ref="third").slug == "cooperative-lodz-lyon-2"
    assert catalogue.slugify("Κοινότητα Λεμεσού") == "koinotita-lemesou"
    assert catalogue.slugify("!!!") == "organisation"


def test_folded_text_and_slugs_are_the_words_only():
    """What search, duplicates and slugs compare: letters and digits, whatever lies between
    them (spaces, punctuation, underscores, line breaks) one separator."""
    from mapapp.text import fold_text

    for written, folded, slug in [("  A_Yard & Co.—Gent  2 ", "a yard co gent 2", "a-yard-co-gent-2"),
                                  ("__coop__", "coop", "coop"),
                                  ("Ünïon\t\nRégionale-des_Scop", "union regionale des scop", "union-regionale-des-scop"),
                                  ("Κοινότητα_Λεμεσού 2!", "κοινοτητα λεμεσου 2", "koinotita-lemesou-2")]:
        assert (fold_text(written), catalogue.slugify(written)) == (folded, slug)


def test_postcodes_keep_leading_zeros(db):
    saved = make_org(db, "Ain Coop", postcode="01000")
    assert catalogue.get_organisation(db, saved.slug)["postcode"] == "01000"


def test_deleting_an_organisation_removes_its_links(db):
    saved = make_org(db, "Gone", themes=["AM10"], offers={"funding": ""})
    catalogue.save_project(db, {"slug": "p", "name": "P"})
    catalogue.link_organisation(db, saved.id, projects=["p"])
    catalogue.delete_organisation(db, saved.id)
    for table in ("organisation_themes", "organisation_resources", "project_organisations"):
        assert db.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0


def test_only_published_organisations_are_found(db):
    make_org(db, "Public")
    make_org(db, "Draft", status="draft")
    make_org(db, "Archived", status="archived")
    assert [o["name"] for o in catalogue.find_organisations(db, Filters())] == ["Public"]
    assert catalogue.get_organisation(db, "draft") is None
    assert catalogue.get_organisation(db, "draft", published_only=False)["name"] == "Draft"


def test_filters_combine_and_across_kinds_or_within(db):
    make_org(db, "FR food", themes=["AM60"], needs={"funding": ""})
    make_org(db, "BE food", country="BE", themes=["AM60"])
    make_org(db, "IT energy", country="IT", themes=["AM50"], needs={"funding": ""})

    def names(**kw):
        return sorted(o["name"] for o in catalogue.find_organisations(db, Filters(**kw)))

    assert names(country=("FR", "BE")) == ["BE food", "FR food"]
    assert names(theme=("AM60",), need=("funding",)) == ["FR food"]
    assert names(theme=("AM50", "AM60"), country=("IT", "BE")) == ["BE food", "IT energy"]
    assert catalogue.count_organisations(db, Filters(need=("funding",))) == 2


@pytest.mark.parametrize("typed, stored", [("spoldzielnia", "Spółdzielnia Socjalna"), ("Orsted", "Ørsted Kooperativ"),
                                           ("strasse", "Werkstatt Straße"), ("oeuvre", "Cœur d'œuvre"),
                                           ("SPÓŁDZIELNIA", "spoldzielnia pracy"), ("poznan", "Poznań Coop")])
def test_search_folds_every_latin_letter(db, typed, stored):
    make_org(db, stored)
    make_org(db, "Something else entirely")
    assert [o["name"] for o in catalogue.find_organisations(db, Filters(q=typed))] == [stored]


def test_the_folded_index_follows_edits_and_deletes(db):
    saved = make_org(db, "Łódź Kooperatywa")
    assert catalogue.count_organisations(db, Filters(q="lodz")) == 1
    db.execute("UPDATE organisations SET name = 'Gdańsk Kooperatywa' WHERE id = ?", [saved.id])
    assert catalogue.count_organisations(db, Filters(q="lodz")) == 0
    assert catalogue.count_organisations(db, Filters(q="gdansk")) == 1
    catalogue.delete_organisation(db, saved.id)
    assert catalogue.count_organisations(db, Filters(q="gdansk")) == 0


def _fold_changed(monkeypatch, new_fold):
    """A release whose fold_text gives other words (and says so in FOLD_VERSION): every module
    holding the function sees the new one."""
    import sys

    from mapapp import text

    old = text.fold_text
    for module in [m for n, m in list(sys.modules.items()) if n.startswith("mapapp") and m is not None]:
        if getattr(module, "fold_text", None) is old:
            monkeypatch.setattr(module, "fold_text", new_fold)
    # Searches already read with the old fold were kept: a new release's process starts without them.
    from functools import lru_cache

    from mapapp import multilingual

    monkeypatch.setattr(multilingual, "meanings", lru_cache(maxsize=1024)(multilingual.meanings.__wrapped__))
    monkeypatch.setattr(text, "FOLD_VERSION", text.FOLD_VERSION + 1)
    text.fold.cache_clear()


def test_a_changed_fold_rebuilds_the_search_index_at_the_next_start(db_path, monkeypatch, caplog, request):
    from mapapp import text

    request.addfinalizer(text.fold.cache_clear)  # no folded name of this test outlives it
    db = catalogue.connect(db_path)
    kept = make_org(db, "Coop Alpha")
    gone = make_org(db, "Coop Beta")
    db.close()
    old = text.fold_text
    _fold_changed(monkeypatch, lambda value: old(value).replace("coop", "kooperativ"))

    with caplog.at_level("WARNING", logger="mapapp.catalogue.base"):
        db = catalogue.connect(db_path)
    assert "rebuilding" in caplog.text
    # Typed "coop", folded by the new release to "kooperativ": found in the rebuilt index.
    assert sorted(o["name"] for o in catalogue.find_organisations(db, Filters(q="coop"))) == ["Coop Alpha", "Coop Beta"]
    # Deleting folds the old text with the new fold: it removes exactly what was indexed.
    catalogue.delete_organisation(db, gone.id)
    assert db.execute("SELECT rowid FROM organisations_fts WHERE organisations_fts MATCH 'kooperativ'"
                      ).fetchall() == [(kept.id,)]
    # No row keeps the old fold's words (the deleted one's would have stayed for ever).
    assert db.execute("SELECT rowid FROM organisations_fts WHERE organisations_fts MATCH 'coop'").fetchall() == []
    db.execute("INSERT INTO organisations_fts (organisations_fts) VALUES ('integrity-check')")
    db.close()
    caplog.clear()
    catalogue.connect(db_path).close()  # rebuilt once: the next start says nothing
    assert "rebuilding" not in caplog.text


def test_map_columns_read_before_a_change_to_projects_categories_or_fields_are_read_again(db):
    # The map snapshot patches organisations one by one; a change every organisation's filter
    # values hang on (noted as organisation 0) must make columns read at the version before it
    # read again, and columns read after it not.
    with catalogue.write_transaction(db):
        catalogue.save_project(db, {"slug": "p", "name": "P"})
    changes = {
        "a project renamed": "UPDATE projects SET slug = 'q' WHERE slug = 'p'",
        "a category added": "INSERT INTO categories (code, labels, created_at, updated_at) VALUES ('plumbing', '{}', 'x', 'x')",
        "a field added": "INSERT INTO fields (slug, type, created_at, updated_at) VALUES ('epv', 'yes_no', 'x', 'x')",
    }
    for what, sql in changes.items():
        read_at = catalogue.version(db)
        with catalogue.write_transaction(db):
            db.execute(sql)
        assert catalogue.changed_since(db, read_at, 100) is None, what
        assert catalogue.changed_since(db, catalogue.version(db), 100) == [], what
