"""Lists sort by the root collation (accents and case aside first), not by code point."""

import csv
import io
import re

from support import make_org

from mapapp import catalogue, text


def _directory_names(client, query: str) -> list[str]:
    html = client.get(f"/organisations?{query}").get_data(as_text=True)
    listed = re.search(r'<ol class="directory-list".*?</ol>', html, re.S)
    return re.findall(r'<li>\s*<a href="[^"]*">([^<]*)</a>', listed.group(0)) if listed else []


def test_french_directory_sorts_accented_names_with_their_letter(app, db):
    for name in ("Zèbre", "Bulgarie Coop", "Économie solidaire", "Bélarus Coop", "Fabrique", "Eau vive", "atelier"):
        make_org(db, name)
    assert _directory_names(app.test_client(), "lang=fr") == [
        "atelier", "Bélarus Coop", "Bulgarie Coop", "Eau vive", "Économie solidaire", "Fabrique", "Zèbre"]


def test_polish_l_with_stroke_follows_l_and_greek_follows_its_alphabet(app, db):
    for name in ("Mazowsze Coop", "Łódź Coop", "Lwów Coop", "Lublin Coop", "Ωρωπός", "Άργος", "Βόλος", "Αθήνα"):
        make_org(db, name)
    assert _directory_names(app.test_client(), "lang=pl") == [
        "Lublin Coop", "Lwów Coop", "Łódź Coop", "Mazowsze Coop", "Αθήνα", "Άργος", "Βόλος", "Ωρωπός"]


def test_case_and_accents_only_break_ties(app, db):
    for name in ("economie", "Économie", "Economie", "ECONOMIE", "Economies"):
        make_org(db, name)
    names = _directory_names(app.test_client(), "lang=fr")
    assert names[-1] == "Economies"  # a longer name after every form of the shorter one
    assert sorted(names[:4]) == sorted(["economie", "Économie", "Economie", "ECONOMIE"])


def test_the_next_page_goes_on_in_the_same_order(app, db):
    for i in range(24):
        make_org(db, f"Atelier {i:02d}")
    for name in ("Zèbre", "Économie", "Eau vive"):
        make_org(db, name)
    client = app.test_client()
    first, second = _directory_names(client, "lang=fr"), _directory_names(client, "lang=fr&page=2")
    assert first[-1] == "Eau vive" and second == ["Économie", "Zèbre"]
    api = client.get("/api/organisations?limit=25").get_json()
    assert api["items"][-1]["name"] == "Eau vive"
    following = client.get(api["next"]).get_json()
    assert [o["name"] for o in following["items"]] == ["Économie", "Zèbre"]


def test_a_renamed_or_new_organisation_takes_its_place_in_the_order(app, db):
    zebra = make_org(db, "Zèbre")
    for name in ("Atelier", "Eau vive", "Fabrique"):
        make_org(db, name)
    client = app.test_client()
    assert _directory_names(client, "lang=fr")[-1] == "Zèbre"  # the map's columns are read here
    with catalogue.write_transaction(db):
        db.execute("UPDATE organisations SET name = 'Ébène' WHERE id = ?", [zebra.id])
    make_org(db, "Élan")
    assert _directory_names(client, "lang=fr") == ["Atelier", "Eau vive", "Ébène", "Élan", "Fabrique"]


def test_an_import_gives_each_new_organisation_its_key(app, db):
    with catalogue.write_transaction(db):
        catalogue.bulk_insert(db, [({"name": name, "status": "published", "lat": 45.0, "lon": 5.0},
                                    {"themes": [], "needs": {}, "offers": {}, "descriptions": {}})
                                   for name in ("Zèbre", "Économie", "Abeille")])
    assert [r[0] for r in db.execute("SELECT sort_key FROM organisations ORDER BY id")] == ["zebre", "economie", "abeille"]
    assert _directory_names(app.test_client(), "lang=fr") == ["Abeille", "Économie", "Zèbre"]


def test_exports_and_staff_lists_sort_the_same_way(app, db):
    for name in ("Zèbre", "Économie", "Abeille"):
        make_org(db, name)
    client = app.test_client()
    rows = csv.DictReader(io.StringIO(client.get("/api/organisations.csv").get_data(as_text=True).lstrip("\ufeff")))
    assert [row["name"] for row in rows] == ["Abeille", "Économie", "Zèbre"]
    assert [o["name"] for o in catalogue.find_organisations(db, catalogue.Filters())] == ["Abeille", "Économie", "Zèbre"]


def test_an_organisation_page_lists_its_projects_by_their_names_in_the_visitors_language(app, db):
    org = make_org(db, "Atelier")
    with catalogue.write_transaction(db):
        for slug, name, names in (("z", "Zero waste exchanges", {"fr": "Échanges zéro déchet"}),
                                  ("f", "Solidarity finance", {"fr": "Finance solidaire"}),
                                  ("a", "Apprentices", {"fr": "Apprentis"})):
            catalogue.add_to_project(db, catalogue.save_project(db, {"slug": slug, "name": name, "names": names}), org.id)
    html = app.test_client().get(f"/organisations/{org.slug}?lang=fr").get_data(as_text=True)
    listed = re.findall(r'<a href="/projects/[^"]*">([^<]*)</a>', html)
    assert [name for name in listed if name in ("Apprentis", "Échanges zéro déchet", "Finance solidaire")] == [
        "Apprentis", "Échanges zéro déchet", "Finance solidaire"]


def test_a_new_sort_key_is_computed_for_every_organisation_at_the_next_start(db_path, monkeypatch):
    db = catalogue.connect(db_path)
    for name in ("Zèbre", "Économie", "Abeille"):
        make_org(db, name)
    db.close()
    monkeypatch.setattr(text, "SORT_VERSION", text.SORT_VERSION + 1)
    monkeypatch.setattr(text, "sort_key", lambda name: "" if name is None else str(name)[::-1].lower())
    db = catalogue.connect(db_path)
    assert [r[0] for r in db.execute("SELECT name FROM organisations ORDER BY sort_key")] == [
        "Économie", "Abeille", "Zèbre"]  # eimonocé, ellieba, erbèz: the new keys
    assert db.execute("SELECT value FROM catalogue_meta WHERE key = 'sort_version'").fetchone()[0] == str(
        text.SORT_VERSION)
