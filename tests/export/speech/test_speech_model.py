import warnings

import numpy as np
import pytest

pytestmark = pytest.mark.train
torch = pytest.importorskip("torch")

from cardiotune.export.speech.baseline import LogRegBaseline  # noqa: E402
from cardiotune.export.speech.evaluate import binary_scores  # noqa: E402
from cardiotune.export.speech.model import SpeechEmotionNet, gaussian_nll, speech_loss  # noqa: E402
from cardiotune.export.speech.train import SpeechTrainConfig, predict, train_model  # noqa: E402


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


def _toy(n_per_class=12, n_speakers=6, t=60, m=16, seed=0):
    """Class-dependent spectra so a model can learn them; speakers interleaved."""
    rng = np.random.default_rng(seed)
    xs, ys, spk = [], [], []
    for c in range(7):
        for k in range(n_per_class):
            x = rng.normal(0, 1, (t, m)).astype(np.float32)
            x[:, (2 * c) % m] += 3.0
            xs.append(x)
            ys.append(c)
            spk.append(f"s{k % n_speakers}")
    y = np.array(ys)
    va = np.array([[(-1) ** c * 0.5, 0.3 * (c - 3) / 3] for c in y], dtype=np.float32)
    return np.stack(xs), y, va, np.array(spk)


def test_gaussian_nll_prefers_calibrated_variance():
    target = torch.zeros(1000, 2)
    mean = torch.randn(1000, 2, generator=torch.Generator().manual_seed(0)) * 0.5
    nll = [
        float(gaussian_nll(mean, torch.full_like(mean, float(np.log(v))), target))
        for v in (0.05, 0.25, 1.0)
    ]
    assert nll[1] < nll[0] and nll[1] < nll[2]


def test_loss_is_finite_and_backpropagates():
    model = SpeechEmotionNet(n_mels=16)
    x = torch.randn(4, 50, 16)
    out = model(x)
    loss = speech_loss(out, torch.tensor([0, 1, 2, 3]), torch.zeros(4, 2))
    loss.backward()
    assert torch.isfinite(loss)
    assert all(p.grad is not None for p in model.parameters() if p.requires_grad)


def test_short_training_learns_and_beats_chance(tmp_path):
    x, y, va, spk = _toy()
    cfg = SpeechTrainConfig(
        epochs=15, patience=15, batch_size=16, lr=3e-3, progress=False, width=16, seed=1
    )
    model, res = train_model(x[spk != "s0"], y[spk != "s0"], va[spk != "s0"], spk[spk != "s0"], cfg)
    probs, mean, var = predict(model, x[spk == "s0"])
    acc = float(np.mean(probs.argmax(1) == y[spk == "s0"]))
    assert acc > 0.6, acc  # chance is 1/7
    assert res.history[-1]["train_loss"] < res.history[0]["train_loss"]
    assert (var > 0).all() and np.abs(mean).max() <= 1.0
    scores = binary_scores(probs, y[spk == "s0"])
    assert set(scores) == {
        "arousal_balanced_accuracy",
        "valence_balanced_accuracy",
        "class7_unweighted_accuracy",
    }


def test_baseline_fits_separable_data():
    x, y, _, _ = _toy(seed=2)
    p = LogRegBaseline().fit(x, y, 7).predict_proba(x)
    assert np.mean(p.argmax(1) == y) > 0.9


def test_onnx_export_parity_and_size(tmp_path):
    model = SpeechEmotionNet(n_mels=40, mean=np.zeros(40), std=np.ones(40))
    rng = np.random.default_rng(0)
    inputs = [
        rng.normal(size=(b, t, 40)).astype(np.float32) for b, t in ((1, 198), (3, 100), (2, 300))
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        worst = export_and_compare(
            model,
            torch.zeros(1, 198, 40),
            tmp_path / "speech.onnx",
            ["logmel"],
            ["logits", "va_mean", "va_logvar"],
            {"logmel": {0: "batch", 1: "frames"}},
            inputs,
        )
    assert worst < 1e-4
    assert (tmp_path / "speech.onnx").stat().st_size <= 1_000_000


def test_baseline_as_torch_module_matches_and_ensemble_exports(tmp_path):
    from cardiotune.export.speech.baseline import SpeechEnsemble, baseline_module

    x, y, _, _ = _toy(seed=3)
    base = LogRegBaseline().fit(x, y, 7)
    mod = baseline_module(base)
    with torch.no_grad():
        p = torch.softmax(mod(torch.as_tensor(x)), 1).numpy()
    np.testing.assert_allclose(p, base.predict_proba(x), atol=1e-5)
    ens = SpeechEnsemble(SpeechEmotionNet(n_mels=16), mod)
    probs, _, _ = predict(ens, x)
    np.testing.assert_allclose(probs.sum(1), 1.0, atol=1e-5)
    inputs = [x[:1], x[:5, :40]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        worst = export_and_compare(
            ens,
            torch.as_tensor(x[:1]),
            tmp_path / "ens.onnx",
            ["logmel"],
            ["log_probs", "va_mean", "va_logvar"],
            {"logmel": {0: "batch", 1: "frames"}},
            inputs,
        )
    assert worst < 1e-4
