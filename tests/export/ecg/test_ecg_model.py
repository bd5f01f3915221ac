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


def test_real_corpus_path_on_a_dreamer_fixture_with_synthetic_ecg(tmp_path):
    """DREAMER.mat built in the published structure, holding synthetic ECG at 256 Hz."""
    from cardiotune.edge.synthetic.ecg import Phase, synthesize_session
    from cardiotune.export.data.physio import load_dreamer
    from cardiotune.export.ecg.real_data import subjects_from_corpus
    from scipy.io import savemat

    def cell(items):
        c = np.empty((len(items), 1), dtype=object)
        for i, v in enumerate(items):
            c[i, 0] = v
        return c

    data = np.empty((1, 2), dtype=object)
    for s in range(2):
        base = synthesize_session([Phase("rest", 70, 0, -0.6)], fs=256.0, seed=s).ecg_mv
        stim = [
            synthesize_session([Phase("v", 80, 0, a)], fs=256.0, seed=10 + s).ecg_mv
            for a in (-0.5, 0.8)
        ]
        data[0, s] = {
            "ECG": {
                "baseline": cell([np.column_stack([base, base])] * 2),
                "stimuli": cell([np.column_stack([x, x]) for x in stim]),
            },
            "ScoreValence": np.array([[3.0], [4.0]]),
            "ScoreArousal": np.array([[2.0], [5.0]]),
            "ScoreDominance": np.array([[3.0], [3.0]]),
            "Age": 30,
            "Gender": "female",
        }
    savemat(
        str(tmp_path / "DREAMER.mat"),
        {
            "DREAMER": {
                "Data": data,
                "ECG_SamplingRate": 256,
                "EEG_SamplingRate": 128,
                "noOfSubjects": 2,
                "noOfVideoSequences": 2,
            }
        },
    )
    subjects = subjects_from_corpus(load_dreamer(tmp_path))
    assert len(subjects) == 2
    d = subjects[0]
    assert d.features.shape[1] == 4 and len(d.va) == len(d.features) > 20
    calm, aroused = d.va[:, 1] < 0, d.va[:, 1] > 0.5
    assert d.features[aroused, 0].mean() > d.features[calm, 0].mean() + 0.1  # HR up with arousal
    from cardiotune.export.ecg.train import load_subjects

    cfg = EcgTrainConfig(dataset="dreamer", data_path=str(tmp_path), progress=False)
    tr, te = load_subjects(cfg)
    assert len(tr) == 1 and len(te) == 1 and tr[0].subject != te[0].subject
    with pytest.raises(Exception, match="ecg.dataset"):
        load_subjects(EcgTrainConfig(dataset="deap", data_path=str(tmp_path)))
