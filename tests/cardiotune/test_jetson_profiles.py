"""The Jetson profiles load with the real config loader and ask for TensorRT -> CUDA -> CPU."""
from pathlib import Path

import pytest
from cardiotune.edge.config import config_from_dict, load_config
from cardiotune.edge.providers import validate_provider_names

from cardiotune.errors import ConfigError

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


@pytest.mark.parametrize("name", ["jetson-orin-nano.toml", "jetson-nano.toml"])
def test_jetson_profile_is_valid(name):
    cfg = load_config(CONFIGS / name)
    assert validate_provider_names(cfg.get("model.providers")) == [
        "TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"]
    assert cfg.get("model.trt_fp16") is True and cfg.get("model.threads") == 1
    assert cfg.get("ui.live") is False and cfg.get("mqtt.broker").startswith("mqtt://")


@pytest.mark.parametrize("value, fragment", [
    (["gpu"], "tensorrt"), ([], "non-empty"), ("cuda", "list"), (["cpu", "cpu"], "list"),
])
def test_bad_providers_name_the_key(value, fragment):
    with pytest.raises(ConfigError) as info:
        config_from_dict({"model": {"providers": value}}, "j.toml")
    assert info.value.key == "model.providers" and fragment in info.value.expected


def test_bad_variant_is_refused():
    with pytest.raises(ConfigError) as info:
        config_from_dict({"model": {"variant": "int4"}})
    assert info.value.key == "model.variant"
