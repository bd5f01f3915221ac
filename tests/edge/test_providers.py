"""Provider choice on a CPU-only onnxruntime: TensorRT/CUDA requested -> CPU, logged and reported."""
import json
import logging
from pathlib import Path

import onnxruntime as ort
import pytest
from cardiotune.edge.estimator import OnnxVaEstimator
from cardiotune.edge.model_registry import MODELS_DIR
from cardiotune.edge.mqtt.messages import status_payload
from cardiotune.edge.onnx_model import OnnxModel
from cardiotune.edge.providers import (
    PROVIDER_ALIASES,
    create_session,
    resolve_providers,
    tensorrt_options,
    validate_provider_names,
)

from cardiotune.errors import ConfigError

GPU = ["TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"]
SCHEMA = Path(MODELS_DIR).parent / "mqtt" / "schemas" / "status.schema.json"


def test_short_names_map_in_order_and_cpu_is_the_floor():
    assert validate_provider_names(["tensorrt", "cuda"]) == GPU
    assert validate_provider_names(["cpu"]) == ["CPUExecutionProvider"]
    with pytest.raises(ConfigError, match="one of"):
        validate_provider_names(["gpu"])
    with pytest.raises(ConfigError):
        validate_provider_names([])


def test_tensorrt_gets_engine_cache_and_fp16_options(tmp_path):
    # a GPU build's provider list (pure logic: no session is created)
    choice = resolve_providers(GPU, GPU, trt_cache_dir=tmp_path / "trt", trt_fp16=True)
    name, opts = choice.entries[0]
    assert name == "TensorrtExecutionProvider"
    assert opts["trt_engine_cache_enable"] is True and opts["trt_fp16_enable"] is True
    assert opts["trt_engine_cache_path"] == str(tmp_path / "trt") and (tmp_path / "trt").is_dir()
    assert choice.entries[1:] == ["CUDAExecutionProvider", "CPUExecutionProvider"]
    assert tensorrt_options(tmp_path, fp16=False)["trt_fp16_enable"] is False


@pytest.mark.skipif("CUDAExecutionProvider" in ort.get_available_providers(), reason="needs CPU-only onnxruntime")
def test_gpu_request_falls_back_to_cpu_and_says_so(tmp_path, caplog):
    path = MODELS_DIR / "hrv_va" / "model.onnx"
    with caplog.at_level(logging.WARNING, logger="cardiotune.edge.providers"):
        sess, choice = create_session(path, GPU, trt_cache_dir=tmp_path)
    assert sess.get_providers() == ["CPUExecutionProvider"] == choice.active
    assert choice.fell_back and choice.requested == GPU
    logged = caplog.text
    assert "TensorrtExecutionProvider requested" in logged and "running on ['CPUExecutionProvider']" in logged
    assert choice.as_status() == {"requested": GPU, "active": ["CPUExecutionProvider"], "fell_back": True}


@pytest.mark.skipif("CUDAExecutionProvider" in ort.get_available_providers(), reason="needs CPU-only onnxruntime")
def test_estimator_and_status_message_report_what_ran(tmp_path):
    jsonschema = pytest.importorskip("jsonschema")
    est = OnnxVaEstimator(providers=validate_provider_names(["tensorrt", "cuda", "cpu"]), trt_cache_dir=str(tmp_path))
    assert est.providers == ["CPUExecutionProvider"]
    assert est.provider_choice.fell_back
    doc = status_payload("dev1", "online", 1.0, providers=est.providers,
                         providers_requested=est.provider_choice.requested)
    jsonschema.validate(doc, json.loads(SCHEMA.read_text()))
    assert doc["providers"] != doc["providers_requested"]
    m = OnnxModel(MODELS_DIR / "cmer_emotion" / "manifest.json", providers=GPU, trt_cache_dir=tmp_path)
    assert m.ready and m.status()["providers"]["active"] == ["CPUExecutionProvider"]


def test_cpu_request_is_not_a_fallback():
    _, choice = create_session(MODELS_DIR / "hrv_va" / "model.onnx", [PROVIDER_ALIASES["cpu"]])
    assert not choice.fell_back and choice.active == ["CPUExecutionProvider"]


@pytest.mark.skipif("CUDAExecutionProvider" in ort.get_available_providers(), reason="needs CPU-only onnxruntime")
def test_models_verify_with_gpu_providers_reports_the_fallback(capsys, tmp_path, monkeypatch):
    from cardiotune.cli import main

    monkeypatch.setenv("HOME", str(tmp_path))  # the TensorRT cache folder lands here
    assert main(["models", "verify", "--providers", "tensorrt,cuda,cpu"]) == 0
    out = capsys.readouterr().out
    assert "parity on CPUExecutionProvider vs CPU (asked for TensorrtExecutionProvider, FELL BACK)" in out
    assert main(["models", "verify", "--providers", "gpu"]) == 2  # a clear config error, not a traceback
