"""Visits' queries: slugs, organisations' roles, the audit entry and undoing a deletion, what
an organisation's page reads, and the catalogue's version moving on."""

from support import make_org

from mapapp import catalogue
from mapapp.catalogue import visitreads, visits


def _project(db):
    catalogue.save_project(db, {"slug": "erasmus", "name": "Erasmus", "names": {"fr": "Érasme"}})


def test_create_update_delete_and_undo(db):
    _project(db)
    host = make_org(db, "Spółdzielnia Poznań", city="Poznań", country="PL")
    guest = make_org(db, "Coop Lyon", city="Lyon", country="FR")
    version = catalogue.version(db)
    values = {"kind": "study-visit", "title": "Study visit", "titles": {"fr": "Visite d'étude"},
              "date": "2025-05-12", "end_date": "2025-05-14", "place": "Poznań, PL", "lat": 52.4, "lon": 16.9,
              "geo_precision": "locality", "descriptions": {"fr": "Trois jours"}, "links": {"report": "https://r.example"}}
    slug = visits.create_visit(db, "erasmus", values, [(host.id, "host"), (guest.id, "participant")],
                               user_email="e@example.org")
    assert slug == "erasmus-2025-05-12-poznan-pl"
    assert catalogue.version(db) > version
    assert visits.create_visit(db, "erasmus", values, [], user_email="e@example.org") == slug + "-2"

    seen = visitreads.visits_of_organisation(db, guest.id)  # what the organisation's page reads
    assert [(v["titles"]["fr"], v["title"], v["role"], v["project_names"].get("fr"), v["descriptions"])
            for v in seen] == [("Visite d'étude", "Study visit", "participant", "Érasme", {"fr": "Trois jours"})]

    assert not visits.update_visit(db, slug, values, [(host.id, "host"), (guest.id, "participant")],
                                   user_email="e@example.org")
    assert visits.update_visit(db, slug, {**values, "kind": "seminar"}, [(host.id, "visited")],
                               user_email="e@example.org")
    stored = visits.get_visit(db, slug)
    assert stored["kind"] == "seminar" and [(o["name"], o["role"]) for o in stored["organisations"]] == [
        ("Spółdzielnia Poznań", "visited")]

    version = catalogue.version(db)
    entry = visits.delete_visit(db, slug, user_email="e@example.org")
    assert visits.get_visit(db, slug) is None and visitreads.visits_of_organisation(db, host.id) == []
    assert catalogue.version(db) > version
    assert visits.undo_delete(db, entry, user_email="e@example.org") == slug
    back = visits.get_visit(db, slug)
    assert back["kind"] == "seminar" and back["links"] == {"report": "https://r.example"}
    assert [o["role"] for o in back["organisations"]] == ["visited"]
    assert [e["after"] is None for e in visits.history(db, "erasmus")][:2] == [False, True]


def test_online_meeting_slug_uses_the_kind_and_search_folds_accents(db):
    _project(db)
    make_org(db, "Spółdzielnia Poznań", city="Poznań", country="PL")
    make_org(db, "Coop Lyon", city="Lyon", country="FR")
    slug = visits.create_visit(db, "erasmus", {"kind": "online", "title": "Call", "date": "2025-01-02"}, [],
                               user_email="e@example.org")
    assert slug == "erasmus-2025-01-02-online"
    assert [o["name"] for o in visits.pickable_organisations(db, "Pozn")] == ["Spółdzielnia Poznań"]
    assert visits.pickable_organisations(db, "Pozn", scope=(("FR",), ())) == []
    assert [o["name"] for o in visits.pickable_organisations(db, "lyon", scope=(("FR",), ()))] == ["Coop Lyon"]
