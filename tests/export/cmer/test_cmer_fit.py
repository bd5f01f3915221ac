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


@pytest.mark.parametrize("stop_on", ["mae", "mrr"])
def test_regressor_keeps_the_checkpoint_best_on_its_criterion(stop_on):
    xm, xe = _data(40, 0)
    vm, ve = _data(12, 1)
    cfg = {"lr": 3e-3, "epochs": 150, "eval_every": 10, "patience": 100, "units": [16], "dropout": 0.0}
    model, info = fit.fit_regressor("regmlp", xm, xe[:, 0], vm, ve[:, 0], dict(cfg, early_stop=stop_on), 0)
    key = f"val_{stop_on}"
    vals = [c[key] for c in info["curve"]]
    best = max(vals) if stop_on == "mrr" else min(vals)
    assert info[f"best_{key}"] == best
    scores = fit.regressor_scores(model, vm, ve[:, 0])
    mae = float(np.abs(fit.regressor_scores(model, vm, ve[:, 0]).diagonal()).mean() / 2)  # 2 outputs
    if stop_on == "mrr":
        assert fit.mrr(fit.ranks_from_scores(scores)) == pytest.approx(best)
    else:
        assert mae == pytest.approx(best, rel=1e-5)


def test_regressor_rejects_an_unknown_stopping_criterion():
    xm, xe = _data(10, 0)
    with pytest.raises(ValueError, match="early_stop 'loss'"):
        fit.fit_regressor("regmlp", xm, xe[:, 0], xm, xe[:, 0], {"lr": 1e-3, "epochs": 1, "early_stop": "loss"}, 0)
