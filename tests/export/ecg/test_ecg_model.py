import os
import warnings
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.train
torch = pytest.importorskip("torch")

from cardiotune.export.ecg.model import HrvVaNet  # noqa: E402
from cardiotune.export.ecg.synth_data import SynthConfig, make_subject, sequences  # noqa: E402
from cardiotune.export.ecg.train import EcgTrainConfig, predict, train_model  # noqa: E402
from cardiotune.export.va_metrics import ccc  # noqa: E402


def export_and_compare(model, example, path, input_names, output_names, dynamic_axes, inputs):
    """TorchScript export (dynamo=False, one file, opset 17), then onnxruntime vs torch."""
    import onnxruntime as ort

    model.eval()
    torch.onnx.export(
        model,
        (example,),
        str(path),
        dynamo=False,
        external_data=False,
        opset_version=17,
        input_names=input_names,
        output_names=output_names,
        dynamic_axes=dynamic_axes,
    )
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    worst = 0.0
    for x in inputs:
        with torch.no_grad():
            ref = [o.numpy() for o in model(torch.as_tensor(x))]
        got = sess.run(None, {input_names[0]: x})
        for r, g in zip(ref, got):
            assert r.shape == g.shape
            worst = max(worst, float(np.max(np.abs(r - g))))
    return worst


SMALL = SynthConfig(calibration_s=120.0, n_phases=4, phase_s=(60.0, 90.0))


def test_synthetic_subject_features_track_arousal():
    d = make_subject(5, SMALL)
    assert d.features.shape[1] == 4 and len(d.features) == len(d.va) > 50
    # the log-HR ratio rises with true arousal
    assert np.corrcoef(d.features[:, 0], d.va[:, 1])[0, 1] > 0.6


def test_short_training_on_synthetic_subjects_beats_mean():
    subjects = [make_subject(s, SMALL) for s in range(6)]
    cfg = EcgTrainConfig(epochs=25, patience=25, seq_len=8, hidden=16, progress=False)
    model, res = train_model(subjects[:5], cfg)
    x, va, _ = sequences(subjects[5:], cfg.seq_len)
    mean, var = predict(model, x)
    assert ccc(mean[:, 1], va[:, 1]) > 0.5  # held-out subject, arousal
    assert (var > 0).all()


def test_onnx_export_gru_parity_any_length(tmp_path):
    model = HrvVaNet()
    rng = np.random.default_rng(0)
    inputs = [
        rng.normal(size=(b, t, 4)).astype(np.float32)
        for b, t in ((1, 16), (1, 5), (4, 16), (2, 40))
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        worst = export_and_compare(
            model,
            torch.zeros(1, 16, 4),
            tmp_path / "ecg.onnx",
            ["hrv"],
            ["va_mean", "va_logvar"],
            {"hrv": {0: "batch", 1: "windows"}},
            inputs,
        )
    assert worst < 1e-4


def test_mitdb_heart_rate_on_a_real_record():
    root = os.environ.get("CARDIOTUNE_DATA")
    mitdb = Path(root, "ecg", "mitdb") if root else None
    if mitdb is None or not (mitdb / "101.hea").is_file():
        pytest.skip("MIT-BIH not available: set CARDIOTUNE_DATA to the shared data folder")
    pytest.importorskip("wfdb")
    from cardiotune.export.ecg.mitdb_hr import record_hr_errors

    r = record_hr_errors(mitdb, "101")
    assert r["coverage"] > 0.9 and r["mae_bpm"] < 1.0


def test_cli_training_end_to_end_with_resume(tmp_path, monkeypatch):
    """``cardiotune train ecg``: checkpoint, metrics JSON, and resume to a longer run."""
    import json

    from cardiotune.cli import main

    monkeypatch.setenv("CARDIOTUNE_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "ck"
    cfg = tmp_path / "ecg.toml"
    base = "n_subjects = 5\nseq_len = 6\nhidden = 8\npatience = 5\nprogress = false\n"
    base += f'out_dir = "{out}"\n'
    cfg.write_text(f"[ecg]\n{base}epochs = 2\n")
    assert main(["train", "ecg", "--config", str(cfg)]) == 0
    m = json.loads((out / "train_metrics.json").read_text())
    assert len(m["history"]) == 2 and (out / "model.pt").is_file() and (out / "last.ckpt").is_file()
    cfg.write_text(f"[ecg]\n{base}epochs = 3\n")
    assert main(["train", "ecg", "--config", str(cfg), "--resume"]) == 0
    m2 = json.loads((out / "train_metrics.json").read_text())
    assert [h["epoch"] for h in m2["history"]] == [0, 1, 2]
    assert m2["history"][:2] == m["history"]
