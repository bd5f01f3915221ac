"""Procedural-catalog transfer test: the ranking pipeline, with catalog features stubbed by a
known VA -> feature map (the real librosa features are exercised by `evaluate retrieval`)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")
pytestmark = pytest.mark.train


def test_procedural_retrieval_beats_chance_when_features_carry_va(monkeypatch):
    from cardiotune.export.cmer import procedural

    rng = np.random.default_rng(2)
    mix = rng.normal(size=(9, 9))

    def feats(va):
        return np.c_[va, va**2, rng.normal(scale=0.05, size=(len(va), 5))] @ mix

    va = rng.uniform(-1, 1, size=(80, 2))
    va_cat = rng.uniform(-1, 1, size=(24, 2))
    ids = [f"proc-{i:03d}" for i in range(24)]
    monkeypatch.setattr(procedural, "catalog_features", lambda progress=True: (feats(va_cat), va_cat, ids))
    net = {"lr": 3e-3, "epochs": 300, "eval_every": 10, "patience": 10, "units": [32], "dropout": 0.0}
    cfg = {
        "data": {"val_fraction": 0.2},
        "cmer": {
            **net,
            "lam": 0.5,
            "alpha": 1.0,
            "d_emb": 4,
            "music_encoder": "mlp",
            "emotion_encoder": "bigru",
            "music": {"units": [32], "dropout": 0.0},
            "emotion": {"hidden": 16, "units": [32], "dropout": 0.0},
        },
        "baseline": net,
    }
    r = procedural.procedural_retrieval(feats(va), va, np.arange(80), cfg, seeds=[0], progress=False)
    assert r["n_targets"] == 24
    assert r["chance_mrr"] == pytest.approx(np.mean(1 / np.arange(1, 25)))
    for m in ("cmer", "regmlp", "regbigru"):
        for d in ("m2e", "e2m"):
            assert r["summary"][m][f"{d}_mrr"]["mean"] > 2 * r["chance_mrr"], (m, d)
