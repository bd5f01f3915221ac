"""`cardiotune train speech` end to end on a tiny EMO-DB-layout fixture: checkpoint, ONNX
file + manifest (size <= 1 MB), and the ONNX graph agrees with the torch checkpoint."""

import json
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.train
torch = pytest.importorskip("torch")
sf = pytest.importorskip("soundfile")
ort = pytest.importorskip("onnxruntime")

from cardiotune.export.speech.train import load_checkpoint  # noqa: E402

from cardiotune.cli import main  # noqa: E402

LETTERS = "WLEAFTN"  # anger boredom disgust fear happiness sadness neutral (EMO-DB codes)


def _fixture(root: Path, sr: int = 16000) -> None:
    """4 speakers x 7 emotions, 0.5 s tones whose pitch depends on the emotion (learnable)."""
    rng = np.random.default_rng(0)
    t = np.arange(int(0.5 * sr)) / sr
    (root / "wav").mkdir(parents=True)
    for spk in ("03", "08", "11", "16"):
        for k, letter in enumerate(LETTERS):
            x = 0.3 * np.sin(2 * np.pi * (150 + 120 * k) * t) + 0.01 * rng.normal(size=t.size)
            sf.write(str(root / "wav" / f"{spk}a01{letter}a.wav"), x.astype(np.float32), sr)


def test_train_speech_writes_checkpoint_and_onnx(tmp_path):
    data, out = tmp_path / "emodb", tmp_path / "ckpt"
    _fixture(data)
    cfg = tmp_path / "speech.toml"
    cfg.write_text(
        f'[speech]\ndata_dir = "{data}"\nout_dir = "{out}"\nclip_s = 0.5\nwidth = 8\n'
        "epochs = 2\npatience = 2\nbatch_size = 8\nval_fraction = 0.25\nprogress = false\n"
    )
    assert main(["train", "speech", "--config", str(cfg)]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    onnx_path = out / manifest["file"]
    assert manifest["size_bytes"] == onnx_path.stat().st_size <= 1_000_000
    assert max(manifest["parity_max_abs_error"].values()) < 1e-4
    metrics = json.loads((out / "train_metrics.json").read_text())
    assert metrics["onnx_bytes"] == manifest["size_bytes"]

    model = load_checkpoint(out / "model.pt")
    x = np.random.default_rng(1).normal(size=(3, 50, 40)).astype(np.float32)
    sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    got = sess.run(None, {"logmel": x})
    with torch.no_grad():
        ref = [o.numpy() for o in model(torch.as_tensor(x))]
    for r, g in zip(ref, got):
        np.testing.assert_allclose(g, r, atol=1e-4)
    assert np.allclose(np.exp(got[0]).sum(1), 1.0, atol=1e-4)
