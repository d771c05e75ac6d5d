import json

from support import make_org

from mapapp import catalogue


def _org(db, name, **fields):
    return make_org(db, name, **fields).slug


def test_project_create_with_names_and_dates_then_list(runner):
    result = runner.invoke(args=["project", "create", "study-2026", "--name", "Study visits 2026",
                                 "--name-in", "fr=Visites d'étude 2026", "--starts", "2026-01-01", "--ends", "2026-12-31"])
    assert result.exit_code == 0, result.output
    listed = json.loads(runner.invoke(args=["project", "list", "--json"]).output)
    assert listed == [{"slug": "study-2026", "name": "Study visits 2026", "start_date": "2026-01-01",
                       "end_date": "2026-12-31", "archived": 0, "members": 0, "visits": 0}]
    table = runner.invoke(args=["project", "list"]).output
    assert "study-2026" in table and "Study visits 2026" in table and "2026-12-31" in table


def test_project_create_refuses_bad_dates_and_slugs(runner):
    bad_date = runner.invoke(args=["project", "create", "p", "--name", "P", "--starts", "14/05/2026"])
    assert bad_date.exit_code != 0 and "YYYY-MM-DD" in bad_date.output
    backwards = runner.invoke(args=["project", "create", "p", "--name", "P", "--starts", "2026-05-01", "--ends", "2026-04-01"])
    assert "before --starts" in backwards.output
    bad_slug = runner.invoke(args=["project", "create", "Mon Projet", "--name", "P"])
    assert "use for example 'mon-projet'" in bad_slug.output
    assert json.loads(runner.invoke(args=["project", "list", "--json"]).output) == []


def test_create_project_stays_an_alias(runner):
    result = runner.invoke(args=["create-project", "old-way", "--name", "Old way"])
    assert result.exit_code == 0, result.output
    assert "old-way" in runner.invoke(args=["project", "list"]).output


def test_project_add_sets_the_relation_per_project(runner, db):
    slug = _org(db, "Coop Lyon")
    runner.invoke(args=["project", "create", "a", "--name", "A"])
    runner.invoke(args=["project", "create", "b", "--name", "B"])
    first = runner.invoke(args=["project", "add", "a", slug, "--relation", "visited"])
    assert first.exit_code == 0, first.output
    second = runner.invoke(args=["project", "add", "b", slug, "--relation", "partner", "--role", "coordinator"])
    assert "as partner (coordinator)" in second.output
    rows = db.execute("SELECT p.slug, po.relation, po.role FROM project_organisations po"
                      " JOIN projects p ON p.id = po.project_id ORDER BY p.slug").fetchall()
    assert rows == [("a", "visited", None), ("b", "partner", "coordinator")]
    # the organisation had no relation of its own: it takes the first one it is given
    assert db.execute("SELECT relation FROM organisations WHERE slug = ?", [slug]).fetchone()[0] == "visited"
    assert json.loads(runner.invoke(args=["project", "list", "--json"]).output)[0]["members"] == 1


def test_project_add_errors_say_what_to_fix(runner, db):
    slug = _org(db, "Coop Lyon")
    runner.invoke(args=["project", "create", "a", "--name", "A"])
    typo = runner.invoke(args=["project", "add", "a", slug[:-1] + "x", "--relation", "visited"])
    assert typo.exit_code != 0 and f"did you mean {slug}" in typo.output
    nowhere = runner.invoke(args=["project", "add", "zzz", slug, "--relation", "visited"])
    assert "no project 'zzz' (projects: a)" in nowhere.output
    bad = runner.invoke(args=["project", "add", "a", slug, "--relation", "friend"])
    assert bad.exit_code != 0 and "visited" in bad.output


def test_visit_create_places_it_and_lists_it(runner, db):
    host, guest, seen = _org(db, "Host coop"), _org(db, "Guest coop"), _org(db, "Seen coop")
    runner.invoke(args=["project", "create", "p", "--name", "P"])
    result = runner.invoke(args=["visit", "create", "p", "--title", "Poznań cooperatives", "--date", "2026-05-14",
                                 "--ends", "2026-05-16", "--kind", "seminar", "--place", "Poznań, PL",
                                 "--host", host, "--participant", guest, "--visited", seen])
    assert result.exit_code == 0, result.output
    assert "placed at 52.4" in result.output and "3 organisations" in result.output
    visits = json.loads(runner.invoke(args=["visit", "list", "p", "--json"]).output)
    assert len(visits) == 1
    visit = visits[0]
    assert (visit["title"], visit["kind"], visit["date"], visit["end_date"], visit["place"]) == (
        "Poznań cooperatives", "seminar", "2026-05-14", "2026-05-16", "Poznań, PL")
    assert 52 < visit["lat"] < 53 and 16 < visit["lon"] < 17
    assert (visit["hosts"], visit["visited"], visit["participants"]) == (1, 1, 1)
    table = runner.invoke(args=["visit", "list", "p"]).output
    assert "Poznań cooperatives" in table and "seminar" in table


def test_visit_create_errors(runner, db):
    slug = _org(db, "Coop Lyon")
    runner.invoke(args=["project", "create", "p", "--name", "P"])
    typo = runner.invoke(args=["visit", "create", "p", "--title", "T", "--date", "2026-05-14", "--host", slug + "z"])
    assert typo.exit_code != 0 and f"did you mean {slug}" in typo.output
    no_project = runner.invoke(args=["visit", "create", "q", "--title", "T", "--date", "2026-05-14"])
    assert "no project 'q'" in no_project.output
    bad_date = runner.invoke(args=["visit", "create", "p", "--title", "T", "--date", "May 14"])
    assert "--date 'May 14': write a date as YYYY-MM-DD" in bad_date.output
    unknown_place = runner.invoke(args=["visit", "create", "p", "--title", "T", "--date", "2026-05-14",
                                        "--place", "Nowhereville-sur-Rien, FR"])
    assert unknown_place.exit_code == 0 and "no point on the map" in unknown_place.output
    assert catalogue.project_slugs(db) == ["p"]
    assert len(json.loads(runner.invoke(args=["visit", "list", "p", "--json"]).output)) == 1


def test_names_and_titles_keep_no_line_breaks_or_control_characters(runner):
    hostile = "{{7*7}} <script>x</script>\r\nSet-Cookie: a=b\ufffe =1+1"
    runner.invoke(args=["project", "create", "p", "--name", hostile, "--name-in", f"fr={hostile}"])
    created = runner.invoke(args=["visit", "create", "p", "--title", hostile, "--date", "2026-05-14"])
    assert created.exit_code == 0, created.output
    expected = "{{7*7}} <script>x</script> Set-Cookie: a=b =1+1"
    assert json.loads(runner.invoke(args=["project", "list", "--json"]).output)[0]["name"] == expected
    assert json.loads(runner.invoke(args=["visit", "list", "p", "--json"]).output)[0]["title"] == expected
