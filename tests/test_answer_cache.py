"""Each web worker keeps the public answers a shared cache may keep (issue 31: throughput
without nginx), under the same contract as their ``Cache-Control``: per URL, language and
encoding, for ``MAP_CACHE_SECONDS``, never a staff member's nor one that sets a cookie, and
emptied when the catalogue is another one."""

from __future__ import annotations

import gzip

import pytest
from support import make_org, sign_in

from mapapp import create_app
from mapapp.web import answercache

LIST = "/api/organisations?limit=50&lang=en"


@pytest.fixture
def clock(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(answercache, "clock", lambda: now[0])
    return now


def _app(db_path, tmp_path, **config):
    return create_app({"TESTING": True, "DATABASE": str(db_path), "SECRET_KEY": "test",
                       "CACHE_DIR": str(tmp_path / "cache"), "ANSWER_CACHE_MB": 64, **config})


def _counted(app, endpoint: str) -> list:
    calls = []
    view = app.view_functions[endpoint]

    def counting(*args, **kwargs):
        calls.append(1)
        return view(*args, **kwargs)

    app.view_functions[endpoint] = counting
    return calls


def _names(response) -> set[str]:
    return {o["name"] for o in response.get_json()["items"]}


def test_a_repeat_is_sent_the_kept_answer_until_its_max_age(db, db_path, tmp_path, clock):
    make_org(db, "Coop Alpha")
    app = _app(db_path, tmp_path)
    calls = _counted(app, "api.organisations")
    client = app.test_client()
    first = client.get(LIST)
    # The same parameters in another order are the same answer.
    again = client.get("/api/organisations?lang=en&limit=50")
    assert calls == [1] and again.data == first.data and again.headers["ETag"] == first.headers["ETag"]
    assert client.get(LIST, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
    make_org(db, "Coop Beta")  # an edit: visitors may see it up to max-age late, as behind a proxy
    clock[0] += 59
    assert _names(client.get(LIST)) == {"Coop Alpha"} and calls == [1]
    clock[0] += 2
    assert _names(client.get(LIST)) == {"Coop Alpha", "Coop Beta"} and calls == [1, 1]


def test_languages_and_encodings_are_never_mixed(demo_db_path, tmp_path, clock):
    app = _app(demo_db_path, tmp_path)
    calls = _counted(app, "views.directory")
    client = app.test_client()
    french = client.get("/organisations", headers={"Accept-Language": "fr", "Accept-Encoding": "identity"})
    english = client.get("/organisations", headers={"Accept-Language": "en", "Accept-Encoding": "identity"})
    packed = client.get("/organisations", headers={"Accept-Language": "fr", "Accept-Encoding": "gzip"})
    assert '<html lang="fr">' in french.text and '<html lang="en">' in english.text
    assert packed.headers["Content-Encoding"] == "gzip" and b'<html lang="fr">' in gzip.decompress(packed.data)
    assert len(calls) == 3
    assert client.get("/organisations?lang=en", headers={"Accept-Encoding": "identity"}).status_code == 200
    repeats = [client.get("/organisations", headers={"Accept-Language": lang, "Accept-Encoding": encoding})
               for lang, encoding in (("fr", "identity"), ("en", "identity"), ("fr", "gzip"))]
    assert len(calls) == 4  # the three repeats were kept copies
    assert repeats[0].data == french.data and "Content-Encoding" not in repeats[0].headers
    assert repeats[1].data == english.data
    assert repeats[2].data == packed.data and repeats[2].headers["Content-Encoding"] == "gzip"


def test_staff_are_never_served_nor_stored(db, db_path, tmp_path, staff, clock):
    make_org(db, "Coop Alpha")
    app = _app(db_path, tmp_path)
    calls = _counted(app, "views.index")
    anonymous, signed_in = app.test_client(), app.test_client()
    anonymous.get("/")
    sign_in(signed_in, "admin@example.org")
    mine = signed_in.get("/")
    assert "Staff area" in mine.text and mine.headers["Cache-Control"] == "private, no-cache"
    signed_in.get("/")
    assert len(calls) == 3
    assert "Staff area" not in app.test_client().get("/").text and len(calls) == 3  # the anonymous copy


@pytest.mark.parametrize("change", ["a cookie", "another vary", "private"])
def test_an_answer_that_sets_a_cookie_or_is_not_for_everyone_is_not_kept(demo_db_path, tmp_path, clock, change):
    app = _app(demo_db_path, tmp_path)
    calls = _counted(app, "api.organisations")

    @app.after_request
    def tag(response):
        if change == "a cookie":
            response.set_cookie("seen", "1")
        elif change == "another vary":
            response.vary.add("User-Agent")
        else:
            response.headers["Cache-Control"] = "private, max-age=60"
        return response

    client = app.test_client()
    client.get(LIST)
    client.get(LIST)
    assert len(calls) == 2 and not app.extensions["mapapp.answercache"]


def test_another_catalogue_lineage_empties_it(db, db_path, tmp_path, clock):
    make_org(db, "Coop Alpha")
    app = _app(db_path, tmp_path)
    calls = _counted(app, "api.organisations")
    client = app.test_client()
    client.get(LIST)
    client.get(LIST)
    assert len(calls) == 1
    make_org(db, "Coop Beta")
    db.execute("CREATE TABLE restored_meanwhile (x)")  # the schema cookie moves, as a migration or a restore
    assert _names(client.get(LIST)) == {"Coop Alpha", "Coop Beta"} and len(calls) == 2


def test_the_byte_bound_evicts_the_least_recently_used(demo_db_path, tmp_path, clock):
    app = _app(demo_db_path, tmp_path)
    client = app.test_client()
    one = answercache.Kept(200, tuple(client.get("/organisations?lang=en").headers.items()),
                           client.get("/organisations?lang=fr").data, 0).size
    cache = app.extensions["mapapp.answercache"] = answercache.AnswerCache(int(one * 2.5), 60)  # room for two
    calls = _counted(app, "views.directory")
    for lang in ("en", "fr", "en", "it"):  # "fr" is then the least recently used
        client.get(f"/organisations?lang={lang}")
    assert len(calls) == 3
    client.get("/organisations?lang=en")
    client.get("/organisations?lang=fr")
    assert len(calls) == 4 and len(cache) == 2


def test_nothing_is_kept_when_answers_may_not_be_reused(demo_db_path, tmp_path):
    for config in ({"MAP_CACHE_SECONDS": 0}, {"ANSWER_CACHE_MB": 0}):
        app = _app(demo_db_path, tmp_path, **config)
        calls = _counted(app, "api.organisations")
        client = app.test_client()
        client.get(LIST)
        client.get(LIST)
        assert len(calls) == 2 and "mapapp.answercache" not in app.extensions


def test_the_suite_asks_for_it_explicitly(demo_app):
    assert "mapapp.answercache" not in demo_app.extensions


def test_hostile_names_stay_inert_in_kept_pages(db, db_path, tmp_path, clock):
    hostile = "<script>alert(1)</script>{{ 7*7 }}{% if 1 %}${x}javascript:=1+1"
    make_org(db, hostile)
    app = _app(db_path, tmp_path)
    client = app.test_client()
    slug = client.get(LIST).get_json()["items"][0]["slug"]
    for _ in range(2):  # the page rendered, then its kept copy
        page = client.get(f"/organisations/{slug}?lang=en").text
        assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
        assert "{{ 7*7 }}" in page  # shown as typed, never evaluated
        listed = client.get("/organisations?lang=en").text
        assert "<script>alert(1)</script>" not in listed


def test_head_and_conditional_requests_are_answered_from_the_kept_copy(demo_db_path, tmp_path, clock):
    app = _app(demo_db_path, tmp_path)
    calls = _counted(app, "views.index")
    client = app.test_client()
    packed = client.get("/?lang=fr", headers={"Accept-Encoding": "gzip"})
    head = client.head("/?lang=fr", headers={"Accept-Encoding": "gzip"})
    assert head.status_code == 200 and not head.data and head.headers["ETag"] == packed.headers["ETag"]
    clock[0] += 30
    held = client.get("/?lang=fr", headers={"Accept-Encoding": "gzip", "If-None-Match": packed.headers["ETag"]})
    assert held.status_code == 304 and not held.data
    assert client.get("/?lang=fr", headers={"Accept-Encoding": "gzip"}).headers["Age"] == "30"
    assert len(calls) == 1


def test_an_owner_who_just_changed_the_entry_sees_it_while_others_get_the_kept_page(db, db_path, tmp_path, clock):
    from support import csrf_from

    from mapapp.contributing import owners

    org = make_org(db, "Bread Coop", city="Lyon", email="hello@bread.example.org")
    slug = db.execute("SELECT slug FROM organisations WHERE id = ?", [org.id]).fetchone()[0]
    app = _app(db_path, tmp_path, OWNER_EDITS="publish", ALTCHA_COST=50)
    owner, visitor = app.test_client(), app.test_client()
    page = owner.get(f"/organisations/{slug}")
    assert "Lyon" in page.get_data(as_text=True)
    # Browsers ask again each time (a 304 while unchanged); shared caches keep it a minute.
    assert page.headers["Cache-Control"].startswith("public, max-age=0, s-maxage=")
    token = owners.link_token(db, "test", org.id)
    form = owner.get(f"/owner/{token}").get_data(as_text=True)
    done = owner.post(f"/owner/{token}", data={"csrf_token": csrf_from(form), "name": "Bread Coop",
                                                "city": "Villeurbanne"})
    assert "Your changes are on the map." in done.get_data(as_text=True)
    again = owner.get(f"/organisations/{slug}", headers={"If-None-Match": page.headers["ETag"]})
    assert again.status_code == 200 and "Villeurbanne" in again.get_data(as_text=True)
    assert again.headers["Cache-Control"] == "private, no-cache"
    kept = visitor.get(f"/organisations/{slug}")  # everyone else: the kept copy, for its minute
    assert "Lyon" in kept.get_data(as_text=True) and "Villeurbanne" not in kept.get_data(as_text=True)
    clock[0] += 61
    assert "Villeurbanne" in visitor.get(f"/organisations/{slug}").get_data(as_text=True)
