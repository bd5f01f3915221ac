"""The [mqtt] security/observability keys: validated, and a password never echoed back."""
import pytest
from cardiotune.edge.config import config_from_dict, load_config
from cardiotune.edge.mqtt.connection import MqttSettings

from cardiotune.errors import ConfigError


def test_demo_profile_with_every_key_loads():
    cfg = load_config("configs/demo.toml")
    assert cfg.get("mqtt.protocol") == "auto" and cfg.get("mqtt.ha_discovery") is False


def test_settings_from_profile_section():
    cfg = config_from_dict({"mqtt": {"broker": "mqtts://b.example", "username": "u", "password": "pw",
                                     "ca_file": "/ca.pem", "protocol": "3.1.1", "session_expiry_s": 60}})
    s = MqttSettings.from_section(cfg.values["mqtt"], "b.example", 8883, True)
    assert (s.tls, s.port, s.username, s.protocol, s.session_expiry_s, s.ca_file) == \
        (True, 8883, "u", "3.1.1", 60, "/ca.pem")
    assert "pw" not in repr(s)


@pytest.mark.parametrize("key,value,expected", [
    ("protocol", "4", "\"auto\", \"5\" or \"3.1.1\""),
    ("metrics_interval_s", -1, ">= 0"),
    ("ha_discovery", "yes", "true or false"),
    ("ha_prefix", "home/#", "without wildcards"),
    ("session_expiry_s", 1.5, "integer"),
])
def test_bad_values_name_key_and_expectation(key, value, expected):
    with pytest.raises(ConfigError, match=f"mqtt.{key}") as err:
        config_from_dict({"mqtt": {key: value}})
    assert expected in str(err.value)


def test_bad_password_value_is_redacted():
    secret = ["hunter2-secret"]  # not a string: rejected, and the value is not printed
    with pytest.raises(ConfigError) as err:
        config_from_dict({"mqtt": {"password": secret}})
    assert "hunter2" not in str(err.value) and "<redacted>" in str(err.value)
