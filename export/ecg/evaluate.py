"""``cardiotune evaluate ecg``: VA CCC on held-out synthetic subjects + MIT-BIH heart rate.

NO LABELLED REAL ECG-EMOTION DATA WAS AVAILABLE to this project: the VA numbers are on
synthetic subjects (:mod:`cardiotune.edge.synthetic.ecg`) whose autonomic relations we
chose, so they show that the chain recovers a known ground truth, not that it reads real
emotions. A DREAMER/AMIGOS/WESAD holder would load the ECG with
:mod:`cardiotune.export.data.physio`, run it through the same front-end and features and
train/evaluate with subject-wise splits (see the model card).
"""

from __future__ import annotations

import os
from dataclasses import asdict
from pathlib import Path
from typing import Dict

import numpy as np

from ..splits import assert_disjoint
from ..train_common import write_json
from ..va_metrics import ccc
from .mitdb_hr import evaluate_mitdb_hr
from .synth_data import SynthConfig, sequences
from .train import EcgTrainConfig, load_subjects, predict, train_model

__all__ = ["evaluate_ecg", "ridge_fit"]

NOTE = (
    "No labelled real ECG-emotion data was available: VA metrics are on held-out "
    "SYNTHETIC subjects "
    "(cardiotune.edge.synthetic.ecg); heart rate is checked on real MIT-BIH records."
)


def ridge_fit(x: np.ndarray, y: np.ndarray, l2: float = 1e-3):
    """Least squares with a bias and a small ridge; returns predict(x)."""
    a = np.hstack([x, np.ones((len(x), 1))])
    w = np.linalg.solve(a.T @ a + l2 * np.eye(a.shape[1]), a.T @ y)
    return lambda z: np.hstack([z, np.ones((len(z), 1))]) @ w


def _va_scores(pred: np.ndarray, true: np.ndarray) -> Dict[str, float]:
    return {
        "ccc_valence": ccc(pred[:, 0], true[:, 0]),
        "ccc_arousal": ccc(pred[:, 1], true[:, 1]),
        "mse_valence": float(np.mean((pred[:, 0] - true[:, 0]) ** 2)),
        "mse_arousal": float(np.mean((pred[:, 1] - true[:, 1]) ** 2)),
    }


def evaluate_ecg(cfg: EcgTrainConfig, out_dir, mitdb_dir=None) -> Dict:
    train_subj, test_subj = load_subjects(cfg)
    train_seeds, test_seeds = [d.subject for d in train_subj], [d.subject for d in test_subj]
    synth = SynthConfig()
    model, res = train_model(train_subj, cfg, desc="ecg")
    x_tr, va_tr, g_tr = sequences(train_subj, cfg.seq_len)
    x_te, va_te, g_te = sequences(test_subj, cfg.seq_len)
    groups = np.concatenate([g_tr, g_te])
    assert_disjoint(groups, np.arange(len(g_tr)), len(g_tr) + np.arange(len(g_te)))
    mean, var = predict(model, x_te)
    lin = ridge_fit(x_tr[:, -1], va_tr)(x_te[:, -1])
    const = np.broadcast_to(va_tr.mean(0), va_te.shape)
    err = np.abs(mean - va_te)
    z = (mean - va_te) / np.sqrt(var)
    result = {
        "note": NOTE if cfg.dataset == "synthetic" else f"held-out real subjects of {cfg.dataset}",
        "train_subjects": train_seeds,
        "test_subjects": test_seeds,
        "n_test_sequences": int(len(va_te)),
        "gru": {
            **_va_scores(mean, va_te),
            "uncertainty_spearman_abs_err_vs_std": [
                _spearman(np.sqrt(var[:, d]), err[:, d]) for d in (0, 1)
            ],
            "fraction_within_1sigma": [float(np.mean(np.abs(z[:, d]) <= 1)) for d in (0, 1)],
            "n_parameters": int(sum(p.numel() for p in model.parameters())),
        },
        "baseline_linear_last_window": _va_scores(lin, va_te),
        "baseline_training_mean": _va_scores(const, va_te),
        "best_epoch": res.best_epoch,
        "config": asdict(cfg),
        "synth": asdict(synth),
    }
    if mitdb_dir is None and os.environ.get("CARDIOTUNE_DATA"):
        mitdb_dir = Path(os.environ["CARDIOTUNE_DATA"]) / "ecg" / "mitdb"
    if mitdb_dir is not None:
        result["mitdb_heart_rate"] = evaluate_mitdb_hr(mitdb_dir, progress=cfg.progress)
    else:
        result["mitdb_heart_rate"] = "skipped: CARDIOTUNE_DATA not set and no --mitdb given"
    out = Path(out_dir)
    write_json(out / "ecg_eval.json", result)
    _plots(out, mean, var, va_te, lin, res.history, test_subj, model, cfg, result)
    return result


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    ra, rb = np.argsort(np.argsort(a)), np.argsort(np.argsort(b))
    return float(np.corrcoef(ra, rb)[0, 1])


def _plots(out: Path, mean, var, true, lin, history, test_subj, model, cfg, result) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4.5))
    for d, name in enumerate(("valence", "arousal")):
        axes[d].scatter(true[:, d], mean[:, d], s=3, alpha=0.3, label="GRU")
        axes[d].scatter(true[:, d], lin[:, d], s=3, alpha=0.2, label="linear baseline")
        axes[d].plot([-1, 1], [-1, 1], "k:")
        axes[d].set_xlabel(f"true {name} (synthetic)")
        axes[d].set_ylabel(f"predicted {name}")
        axes[d].set_title(
            f"{name}: CCC GRU {ccc(mean[:, d], true[:, d]):.3f}, "
            f"linear {ccc(lin[:, d], true[:, d]):.3f}"
        )
        axes[d].legend(markerscale=4)
    fig.tight_layout()
    fig.savefig(out / "ecg_va_scatter.png", dpi=100)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(7, 4))
    ep = [h["epoch"] for h in history]
    ax.plot(ep, [h["train_loss"] for h in history], label="train NLL")
    ax.plot(ep, [h["val_loss"] for h in history], label="validation-subjects NLL")
    ax.set_xlabel("epoch")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "ecg_learning_curve.png", dpi=100)
    plt.close(fig)

    d = test_subj[0]
    x, va, _ = sequences([d], cfg.seq_len)
    m, v = predict(model, x)
    t = d.t_end[cfg.seq_len - 1 :]
    fig, axes = plt.subplots(2, 1, figsize=(10, 5), sharex=True)
    for k, name in enumerate(("valence", "arousal")):
        axes[k].plot(t, va[:, k], "k", label="truth")
        axes[k].plot(t, m[:, k], "C0", label="GRU mean")
        sd = np.sqrt(v[:, k])
        axes[k].fill_between(t, m[:, k] - sd, m[:, k] + sd, color="C0", alpha=0.2, label="±1 σ")
        axes[k].set_ylabel(name)
    axes[0].legend(loc="upper right")
    axes[1].set_xlabel(f"time (s), held-out synthetic subject {d.subject}")
    fig.tight_layout()
    fig.savefig(out / "ecg_example_subject.png", dpi=100)
    plt.close(fig)

    hr = result.get("mitdb_heart_rate")
    if isinstance(hr, dict):
        fig, ax = plt.subplots(figsize=(9, 4))
        recs = [r["record"] for r in hr["records"]]
        ax.bar(recs, [r["mae_bpm"] for r in hr["records"]])
        ax.axhline(1.0, color="r", ls=":", label="1 bpm")
        ax.set_ylabel(f"HR MAE (bpm), {hr['window_s']:g} s windows")
        ax.set_xlabel("MIT-BIH record")
        ax.tick_params(axis="x", rotation=60)
        ax.legend()
        fig.tight_layout()
        fig.savefig(out / "ecg_mitdb_hr_mae.png", dpi=100)
        plt.close(fig)
