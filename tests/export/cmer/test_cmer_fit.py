from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from cardiotune.export.cmer import fit  # noqa: E402

CFG = {
    "lam": 0.5,
    "alpha": 1.0,
    "d_emb": 4,
    "music_encoder": "mlp",
    "emotion_encoder": "bigru",
    "lr": 3e-3,
    "epochs": 200,
    "eval_every": 10,
    "patience": 100,
    "music": {"units": [16], "dropout": 0.0},
    "emotion": {"hidden": 8, "units": [16], "dropout": 0.0},
}


def _data(n, seed):
    rng = np.random.default_rng(seed)
    va = rng.uniform(-1, 1, size=(n, 1, 2))
    feat = np.c_[va[:, 0], rng.normal(scale=0.1, size=(n, 3))][:, None, :]
    return feat, va


def _nan_after(epoch_limit, monkeypatch):
    real, calls = fit.composite_loss, {"n": 0}

    def loss(*a, **k):
        calls["n"] += 1
        total, cca, kl = real(*a, **k)
        if calls["n"] > epoch_limit:
            total = total * float("nan")
        return total, cca, kl

    monkeypatch.setattr(fit, "composite_loss", loss)


def test_divergence_stops_training_and_keeps_the_best_finite_weights(monkeypatch):
    xm, xe = _data(40, 0)
    vm, ve = _data(12, 1)
    _nan_after(35, monkeypatch)
    model, info = fit.fit_cmer(xm, xe, vm, ve, CFG, seed=0)
    assert info["diverged"] and info["epochs_run"] == 36
    assert [c["epoch"] for c in info["curve"]] == [10, 20, 30]
    m2e, e2m = fit.cmer_scores(model, vm, ve, CFG["lam"])
    assert np.isfinite(m2e).all() and np.isfinite(e2m).all()


def test_divergence_before_any_validation_is_an_error(monkeypatch):
    xm, xe = _data(40, 0)
    _nan_after(3, monkeypatch)
    with pytest.raises(RuntimeError, match="diverged"):
        fit.fit_cmer(xm, xe, xm, xe, CFG, seed=0)
