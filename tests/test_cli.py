import json

from mapapp import catalogue
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
