from pathlib import Path

import pytest

from mapapp import config

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("setting", config.SETTINGS, ids=lambda s: s.env)
def test_every_setting_is_documented_in_the_readme(setting):
    assert f"`{setting.env}`" in README


def test_environment_overrides_defaults():
    values = config.from_environment({"MAPAPP_DATABASE": "/srv/map.db", "MAPAPP_PORT": "8080"})
    assert values["DATABASE"] == "/srv/map.db" and values["PORT"] == 8080
    assert values["TILE_URL"].startswith("https://")


def test_a_non_number_is_refused_with_the_setting_named():
    with pytest.raises(config.ConfigError, match="MAPAPP_TILE_MAX_ZOOM"):
        config.from_environment({"MAPAPP_TILE_MAX_ZOOM": "high"})
