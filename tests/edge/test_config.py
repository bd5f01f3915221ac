from pathlib import Path

import pytest
from cardiotune.edge.config import config_from_dict, load_config

from cardiotune.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]


def test_shipped_demo_profile_is_valid_and_matches_defaults():
    cfg = load_config(REPO / "configs" / "demo.toml")
    assert cfg.values == config_from_dict({}).values


def test_speed_max_means_as_fast_as_possible():
    assert config_from_dict({"source": {"speed": "max"}}).speed is None
    assert config_from_dict({"source": {"speed": 10}}).speed == 10.0


@pytest.mark.parametrize(
    "data, key, expected_fragment",
    [
        ({"source": {"speed": 0}}, "source.speed", "a number > 0"),
        ({"source": {"speed": "fast"}}, "source.speed", '"max"'),
        ({"mqtt": {"broker": "http://x"}}, "mqtt.broker", "mqtt://host"),
        ({"device": {"id": "a/b"}}, "device.id", "letters, digits"),
        ({"ecg": {"window_s": -1}}, "ecg.window_s", "> 0"),
        ({"ecg": {"window_s": 5, "hop_s": 10}}, "ecg.hop_s", "at most ecg.window_s"),
        ({"recommender": {"no_repeat": 1.5}}, "recommender.no_repeat", "integer"),
        ({"recommender": {"dwel_s": 3}}, "recommender.dwel_s", "one of the keys"),
        ({"sourc": {}}, "sourc", "one of the sections"),
        ({"ui": {"live": "yes"}}, "ui.live", "true or false"),
    ],
)
def test_bad_values_name_key_value_and_expectation(data, key, expected_fragment):
    with pytest.raises(ConfigError) as info:
        config_from_dict(data, "x.toml")
    err = info.value
    assert err.key == key
    assert expected_fragment in err.expected
    assert key in str(err) and "x.toml" in str(err)


def test_missing_and_malformed_files(tmp_path):
    with pytest.raises(ConfigError, match="an existing TOML file"):
        load_config(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[source\nspeed = 1\n")
    with pytest.raises(ConfigError, match="valid TOML"):
        load_config(bad)
