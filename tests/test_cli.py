import json

from mapapp import accounts, catalogue
from mapapp.cli import COMMANDS, main


def test_init_creates_the_catalogue(runner, db_path):
    result = runner.invoke(args=["init"])
    assert result.exit_code == 0, result.output
    assert db_path.exists()
    assert "catalogue ready" in result.output and "0 organisations" in result.output


def test_load_demo_twice_duplicates_nothing(runner, db_path):
    first = runner.invoke(args=["load-demo"])
    assert first.exit_code == 0 and "80 created" in first.output
    second = runner.invoke(args=["load-demo"])
    assert "0 created, 0 updated, 80 unchanged" in second.output
    db = catalogue.connect(db_path)
    assert catalogue.organisation_count(db) == 80
    db.close()


def test_load_demo_if_empty_leaves_a_real_catalogue_alone(runner, db):
    catalogue.save_organisation(db, {"name": "Real org", "status": "published"})
    result = runner.invoke(args=["load-demo", "--if-empty"])
    assert "not loaded" in result.output
    assert catalogue.organisation_count(db) == 1


def test_stats_reports_counts(runner):
    runner.invoke(args=["load-demo"])
    result = runner.invoke(args=["stats", "--json"])
    figures = json.loads(result.output)
    assert figures["organisations"] == 80
    assert figures["by_status"] == {"published": 76, "draft": 3, "archived": 1}
    text = runner.invoke(args=["stats"]).output
    assert "published: 76" in text and "FR 24" in text


def test_unusable_catalogue_path_fails_with_advice(runner, app, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    app.config["DATABASE"] = str(blocker / "c.db")
    result = runner.invoke(args=["init"])
    assert result.exit_code == 1
    assert "cannot open the catalogue" in result.output and "MAPAPP_DATABASE" in result.output


def test_bad_setting_fails_with_its_name(monkeypatch):
    from click.testing import CliRunner

    monkeypatch.setenv("MAPAPP_PORT", "five thousand")
    result = CliRunner().invoke(main, ["stats"])
    assert result.exit_code != 0
    assert "MAPAPP_PORT must be a whole number" in result.output


def test_every_command_and_option_has_help():
    from click.testing import CliRunner

    assert {c.name for c in COMMANDS} >= {"init", "load-demo", "serve", "stats"}
    for command in COMMANDS:
        name = command.name
        assert command.help, name
        for param in command.params:
            if param.param_type_name == "option":
                assert param.help, f"{name} {param.name}"
    assert CliRunner().invoke(main, ["--help"]).exit_code == 0


FIXTURES = __import__("pathlib").Path(__file__).parent / "fixtures"


def test_import_prints_the_report_and_writes_the_csv(runner, tmp_path, db_path):
    report = tmp_path / "report.csv"
    result = runner.invoke(args=["import", str(FIXTURES / "french_excel.csv"), "--report", str(report)])
    assert result.exit_code == 0, result.output
    assert "5 created, 0 updated, 0 unchanged, 1 skipped" in result.output
    assert "ERROR row 4, column 'Nom'" in result.output
    assert report.read_text(encoding="utf-8-sig").startswith("row,name,action")
    again = runner.invoke(args=["import", str(FIXTURES / "french_excel.csv"), "--dry-run"])
    assert "DRY RUN" in again.output and "0 created, 0 updated, 5 unchanged" in again.output


def test_import_failure_exits_non_zero_and_changes_nothing(runner, tmp_path, db_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("Colour,Size\nblue,big\n")
    result = runner.invoke(args=["import", str(bad)])
    assert result.exit_code == 1
    assert "nothing was imported: no column holds the organisations' names" in result.output
    missing = runner.invoke(args=["import", str(tmp_path / "nope.csv")])
    assert missing.exit_code == 1 and "no such file" in missing.output


def test_import_into_a_project_and_geocode_list(runner, db_path):
    assert runner.invoke(args=["create-project", "seminar", "--name", "Seminar"]).exit_code == 0
    result = runner.invoke(args=["import", str(FIXTURES / "french_excel.csv"), "--project", "seminar",
                                 "--status", "published"])
    assert result.exit_code == 0, result.output
    listing = runner.invoke(args=["geocode", "--list"])
    assert "epicerie-du-monde" in listing.output and "1 organisations have no location" in listing.output
    located = runner.invoke(args=["geocode", "--pending"])
    assert "0 located" in located.output and "1 still without a location" in located.output
    bad = runner.invoke(args=["geocode", "--provider", "google"])
    assert bad.exit_code == 1 and "--provider" in bad.output


def test_online_geocoders_without_user_agent_are_refused(runner, app):
    app.config["GEOCODERS"] = "provided,nominatim"
    result = runner.invoke(args=["import", str(FIXTURES / "osm_keys.csv")])
    assert result.exit_code == 1 and "MAPAPP_GEOCODER_USER_AGENT" in result.output


def test_create_user_takes_the_password_as_a_value_or_prompts(runner, db):
    given = runner.invoke(args=["create-user", "given@example.org", "--password", "a long enough secret"])
    assert given.exit_code == 0 and "password (shown only now)" not in given.output
    assert accounts.authenticate(db, "given@example.org", "a long enough secret", "127.0.0.1")[0] is not None
    asked = runner.invoke(args=["create-user", "asked@example.org", "--password"],
                          input="typed at the prompt\ntyped at the prompt\n")
    assert asked.exit_code == 0 and accounts.find_user(db, email="asked@example.org") is not None
    assert accounts.authenticate(db, "asked@example.org", "typed at the prompt", "127.0.0.2")[0] is not None
    short = runner.invoke(args=["create-user", "short@example.org", "--password", "short"])
    assert short.exit_code == 1 and "at least 12 characters" in short.output
