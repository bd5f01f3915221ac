import json
import shutil

import numpy as np
import pytest
from cardiotune.edge.estimator import OnnxVaEstimator, default_hrv_model_manifest
from cardiotune.edge.features import FEATURE_NAMES

from cardiotune.errors import ModelContractError, ModelError, ModelIntegrityError


@pytest.fixture
def model_copy(tmp_path):
    src = default_hrv_model_manifest().parent
    dst = tmp_path / "hrv_va"
    shutil.copytree(src, dst)
    return dst


def test_shipped_model_loads_and_arousal_rises_with_heart_rate():
    est = OnnxVaEstimator()
    assert est.providers == ["CPUExecutionProvider"]
    calm = est.estimate(np.array([0.0, 0.0, 0.0], np.float32))
    aroused = est.estimate(np.array([np.log(1.3), np.log(0.4), np.log(0.6)], np.float32))
    assert aroused.arousal > calm.arousal + 0.5
    assert calm.arousal_var > 0 and aroused.valence_var > 0
    batch = est.predict(np.zeros((5, len(FEATURE_NAMES)), np.float32))
    assert batch.shape == (5, 4)


def test_tampered_model_file_is_refused(model_copy):
    onnx_file = model_copy / "model.onnx"
    data = bytearray(onnx_file.read_bytes())
    data[-10] ^= 0xFF
    onnx_file.write_bytes(bytes(data))
    with pytest.raises(ModelIntegrityError, match="refusing to run it"):
        OnnxVaEstimator(model_copy / "manifest.json")


def test_truncated_model_file_is_refused(model_copy):
    onnx_file = model_copy / "model.onnx"
    onnx_file.write_bytes(onnx_file.read_bytes()[:100])
    with pytest.raises(ModelIntegrityError):
        OnnxVaEstimator(model_copy / "manifest.json")


def test_contract_mismatch_names_the_field(model_copy):
    manifest = model_copy / "manifest.json"
    data = json.loads(manifest.read_text())
    data["inputs"][0]["feature_names"] = ["hr", "rmssd", "sdnn"]
    manifest.write_text(json.dumps(data))
    with pytest.raises(ModelContractError) as info:
        OnnxVaEstimator(manifest)
    assert info.value.field == "inputs.0.feature_names"


def test_missing_manifest_and_missing_fields(model_copy, tmp_path):
    with pytest.raises(ModelError, match="does not exist"):
        OnnxVaEstimator(tmp_path / "nope.json")
    manifest = model_copy / "manifest.json"
    data = json.loads(manifest.read_text())
    del data["sha256"]
    manifest.write_text(json.dumps(data))
    with pytest.raises(ModelContractError, match="sha256"):
        OnnxVaEstimator(manifest)
