from mapapp import catalogue, vocab
from mapapp.filters import Filters
from mapapp.importing import demo


def test_demo_loads_once_and_again_changes_nothing(db):
    first = demo.load_demo(db)
    assert first["created"] >= 60 and first["updated"] == first["unchanged"] == 0
    second = demo.load_demo(db)
    assert second == {"created": 0, "updated": 0, "unchanged": first["created"]}
    assert catalogue.organisation_count(db) == first["created"]
    assert db.execute("SELECT count(*) FROM project_organisations").fetchone()[0] > 0
    counts = catalogue.stats(db)
    assert (counts["projects"], counts["visits"]) == (2, 7)


def test_demo_covers_the_countries_and_every_vocabulary_term(db):
    demo.load_demo(db)
    stats = catalogue.stats(db)
    assert set(stats["by_country"]) == {"FR", "BE", "IT", "PL", "CY"}
    themes = {r[0] for r in db.execute("SELECT theme FROM organisation_themes")}
    assert themes == set(vocab.themes().codes())
    for kind in ("need", "offer"):
        used = {r[0] for r in db.execute(
            "SELECT resource FROM organisation_resources WHERE kind = ?", [kind])}
        assert used == set(vocab.resources().codes()), kind


def test_some_demo_organisations_belong_to_both_projects(db):
    demo.load_demo(db)
    both = catalogue.count_organisations(
        db, Filters(project=("demo-study-visits",))) + catalogue.count_organisations(
        db, Filters(project=("demo-provence-crafts",))) - catalogue.count_organisations(
        db, Filters(project=("demo-study-visits", "demo-provence-crafts")))
    assert both >= 3


def test_demo_is_marked_fictional(db):
    demo.load_demo(db)
    assert catalogue.has_fictional(db)
    org = catalogue.find_organisations(db, Filters(country=("CY",)))[0]
    assert "fictional" in org["description"].lower()
    assert org["website"].startswith("https://") and ".example.org" in org["website"]
