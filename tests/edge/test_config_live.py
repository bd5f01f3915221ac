"""[source] for live sources: each kind's keys, and errors naming the bad value and what was expected."""
from pathlib import Path

import pytest
from cardiotune.edge.config import config_from_dict, load_config

from cardiotune.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]


def test_shipped_live_profiles_are_valid():
    serial = load_config(REPO / "configs" / "serial.toml")
    assert serial.get("source.kind") == "serial" and serial.get("source.port")
    lsl = load_config(REPO / "configs" / "lsl.toml")
    assert lsl.get("source.kind") == "lsl" and lsl.get("source.stream_type") == "ECG"


def test_replay_stays_the_default_and_live_keys_have_defaults():
    cfg = config_from_dict({})
    assert cfg.get("source.kind") == "replay"
    cfg = config_from_dict({"source": {"kind": "serial", "port": "/dev/ttyACM0"}})
    assert (cfg.get("source.baud"), cfg.get("source.protocol"), cfg.get("source.fs")) == (115200, "binary", 0.0)
    cfg = config_from_dict({"source": {"kind": "lsl", "stream_type": "RR", "duration_s": 30}})
    assert cfg.get("source.duration_s") == 30


@pytest.mark.parametrize(
    "source, key, fragment",
    [
        ({"kind": "bluetooth"}, "source.kind", '"serial"'),
        ({"kind": "serial"}, "source.port", "required with source.kind = \"serial\""),
        ({"kind": "serial", "port": "/dev/x", "speed": 2}, "source.speed", "1 (source.kind = 'serial' is a live"),
        ({"kind": "lsl", "speed": "max"}, "source.speed", "live source"),
        ({"kind": "serial", "port": "/dev/x", "protocol": "csv"}, "source.protocol", '"binary"'),
        ({"kind": "serial", "port": "/dev/x", "baud": 9.6}, "source.baud", "integer"),
        ({"kind": "serial", "port": "/dev/x", "fs": 50}, "source.fs", "100-1000 Hz"),
        ({"kind": "serial", "port": "/dev/x", "path": "rec.xdf"}, "source.path", "no value with source.kind"),
        ({"kind": "serial", "port": "/dev/x", "stream_type": "RR"}, "source.stream_type", "another kind"),
        ({"kind": "lsl", "port": "/dev/x"}, "source.port", "no value with source.kind = 'lsl'"),
        ({"kind": "lsl", "stream_type": ""}, "source.stream_type", "at least one of source.stream_name"),
        ({"kind": "lsl", "stream_name": "it's"}, "source.stream_name", "single quote"),
        ({"port": "/dev/ttyACM0"}, "source.port", "no value with source.kind = 'replay'"),
        ({"kind": "lsl", "resync_s": 0}, "source.resync_s", "> 0"),
    ],
)
def test_bad_live_source_values_name_key_value_and_expectation(source, key, fragment):
    with pytest.raises(ConfigError) as info:
        config_from_dict({"source": source}, "live.toml")
    err = info.value
    assert err.key == key
    assert fragment in err.expected
    assert key in str(err) and "live.toml" in str(err)


def test_microphone_with_a_live_source_is_allowed():
    cfg = config_from_dict({"source": {"kind": "serial", "port": "/dev/x"}, "voice": {"microphone": True}})
    assert cfg.get("voice.microphone") is True
