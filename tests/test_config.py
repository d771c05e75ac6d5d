import re
from pathlib import Path

import pytest

from mapapp import config

CONFIGURATION = (Path(__file__).resolve().parent.parent / "docs" / "configuration.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("setting", config.SETTINGS, ids=lambda s: s.env)
def test_every_setting_is_documented(setting):
    assert f"| `{setting.env}` |" in CONFIGURATION, f"add a row for {setting.env} to docs/configuration.md"


def test_environment_overrides_defaults():
    values = config.from_environment({"MAPAPP_DATABASE": "/srv/map.db", "MAPAPP_PORT": "8080"})
    assert values["DATABASE"] == "/srv/map.db" and values["PORT"] == 8080
    assert values["TILE_URL"].startswith("https://")


def test_a_non_number_is_refused_with_the_setting_named():
    with pytest.raises(config.ConfigError, match="MAPAPP_TILE_MAX_ZOOM"):
        config.from_environment({"MAPAPP_TILE_MAX_ZOOM": "high"})


def test_the_configuration_table_lists_no_setting_that_does_not_exist():
    documented = set(re.findall(r"^\| `(MAPAPP_[A-Z_]+)` \|", CONFIGURATION, flags=re.MULTILINE))
    assert documented - {s.env for s in config.SETTINGS} == set()
