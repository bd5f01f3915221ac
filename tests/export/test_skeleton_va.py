"""Training and export of the skeleton VA model: subject split, parity, manifest, and a
deliberately perturbed model failing parity."""
import json

import numpy as np
import pytest

pytestmark = pytest.mark.train
torch = pytest.importorskip("torch", reason="needs the train extra (torch)")

from cardiotune.edge.estimator import OnnxVaEstimator  # noqa: E402
from cardiotune.export import skeleton_va  # noqa: E402
from cardiotune.export.onnx_io import ParityError, check_parity  # noqa: E402


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("hrv_va")
    cfg = skeleton_va.Config(n_subjects=6, epochs=60, patience=20)
    metrics = skeleton_va.train(cfg, out)
    return out, metrics


def test_training_splits_by_subject_and_reports_baseline(trained):
    _, metrics = trained
    assert metrics["n_test_subjects"] >= 1 and metrics["n_train_subjects"] >= 3
    assert set(metrics["model"]) == set(metrics["baseline_linear"])
    assert metrics["model"]["arousal_pearson"] > 0.5  # arousal is well coded even with 6 subjects


def test_export_writes_manifest_that_the_edge_loads(trained):
    out, _ = trained
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["opset"] == 17 and manifest["ir_version"] == 8
    assert max(manifest["parity_max_abs_error"].values()) <= 1e-4
    est = OnnxVaEstimator(out / "manifest.json")
    assert est.predict(np.zeros((3, 3), np.float32)).shape == (3, 4)


def test_perturbed_model_fails_parity_with_numbers(trained):
    out, _ = trained
    model = skeleton_va.make_model(32)
    with pytest.raises(ParityError) as info:  # fresh random weights vs the exported file
        check_parity(model, out / "model.onnx", [np.zeros((2, 3), np.float32)], ["features"],
                     ["va_mean", "va_logvar"])
    assert set(info.value.errors) == {"va_mean", "va_logvar"}
