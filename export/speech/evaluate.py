"""Speaker-independent evaluation on EMO-DB (``cardiotune evaluate speech``).

Leave-speakers-out k-fold (by speaker, :func:`cardiotune.export.splits.group_kfold`);
in each fold the CNN is trained from scratch on the training speakers (early stopping on a
held-out subset of *those* speakers) and scored on the unseen speakers, next to the
logistic-regression baseline and the majority class. Binary arousal/valence predictions
are the summed class probabilities of the high-arousal / positive-valence categories
(:data:`cardiotune.export.data.speech.HIGH_AROUSAL`, ``POSITIVE_VALENCE``; Schuller et
al. 2009 convention), thresholded at 0.5.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from pathlib import Path
from typing import Dict

import numpy as np

from ..data.speech import CATEGORY_VA, EMODB_CLASSES, HIGH_AROUSAL, POSITIVE_VALENCE
from ..splits import assert_disjoint
from ..train_common import write_json
from ..va_metrics import (
    balanced_accuracy,
    ccc,
    confusion,
    majority_balanced_accuracy,
    unweighted_accuracy,
)
from .baseline import LogRegBaseline, SpeechEnsemble, baseline_module
from .features import corpus_features
from .train import SpeechTrainConfig, labels, load_corpus, predict, train_model

log = logging.getLogger(__name__)

__all__ = ["evaluate_speech", "binary_scores"]

_HIGH = np.array([c in HIGH_AROUSAL for c in EMODB_CLASSES])
_POS = np.array([c in POSITIVE_VALENCE for c in EMODB_CLASSES])


def binary_scores(probs: np.ndarray, y: np.ndarray) -> Dict[str, float]:
    n = len(EMODB_CLASSES)
    return {
        "arousal_balanced_accuracy": balanced_accuracy(probs[:, _HIGH].sum(1) > 0.5, _HIGH[y]),
        "valence_balanced_accuracy": balanced_accuracy(probs[:, _POS].sum(1) > 0.5, _POS[y]),
        "class7_unweighted_accuracy": unweighted_accuracy(probs.argmax(1), y, n),
    }


def evaluate_speech(cfg: SpeechTrainConfig, out_dir, folds: int = 5) -> Dict:
    corpus = load_corpus(cfg)
    x = corpus_features(corpus, cfg.feature_config(), cfg.clip_s, progress=cfg.progress)
    y, va = labels(corpus)
    groups = corpus.speakers
    n = len(EMODB_CLASSES)
    p_cnn, p_lr, p_ens = np.zeros((len(y), n)), np.zeros((len(y), n)), np.zeros((len(y), n))
    va_mean, va_var = np.zeros((len(y), 2)), np.zeros((len(y), 2))
    majority = {"arousal": [], "valence": [], "class7": []}
    fold_info, curves = [], []
    for k, (tr, te) in enumerate(corpus.speaker_kfold(folds, seed=cfg.seed)):
        assert_disjoint(groups, tr, te)
        model, res = train_model(
            x[tr], y[tr], va[tr], groups[tr], cfg, desc=f"speech fold {k + 1}/{folds}"
        )
        p_cnn[te], va_mean[te], va_var[te] = predict(model, x[te])
        base = LogRegBaseline().fit(x[tr], y[tr], n)
        p_lr[te] = base.predict_proba(x[te])
        p_ens[te] = predict(SpeechEnsemble(model, baseline_module(base)), x[te])[0]
        majority["arousal"].append(majority_balanced_accuracy(_HIGH[y[tr]], _HIGH[y[te]]))
        majority["valence"].append(majority_balanced_accuracy(_POS[y[tr]], _POS[y[te]]))
        majority["class7"].append(majority_balanced_accuracy(y[tr], y[te]))
        fold_info.append(
            {
                "fold": k,
                "test_speakers": sorted(set(groups[te].tolist())),
                "best_epoch": res.best_epoch,
                "cnn": binary_scores(p_cnn[te], y[te]),
                "baseline_logreg": binary_scores(p_lr[te], y[te]),
            }
        )
        curves.append(res.history)
        log.info("fold %d: %s", k, fold_info[-1]["cnn"])
    cnn, lr, ens = binary_scores(p_cnn, y), binary_scores(p_lr, y), binary_scores(p_ens, y)
    n_params = sum(p.numel() for p in model.parameters())
    result = {
        "task": "speech-emotion EMO-DB, leave-speakers-out",
        "folds": folds,
        "n_utterances": int(len(y)),
        "speakers": sorted(set(groups.tolist())),
        "category_to_va": {c: CATEGORY_VA[c] for c in EMODB_CLASSES},
        "binary_convention": {
            "high_arousal": sorted(HIGH_AROUSAL & set(EMODB_CLASSES)),
            "positive_valence": sorted(POSITIVE_VALENCE & set(EMODB_CLASSES)),
            "source": "Schuller et al. 2009 (ASRU) EMO-DB mapping; continuous "
            "targets: Russell circumplex positions (see loader docstring)",
        },
        "cnn": {
            **cnn,
            "va_head_arousal_balanced_accuracy": balanced_accuracy(va_mean[:, 1] > 0, _HIGH[y]),
            "va_head_valence_balanced_accuracy": balanced_accuracy(va_mean[:, 0] > 0, _POS[y]),
            "va_head_ccc_valence": ccc(va_mean[:, 0], va[:, 0]),
            "va_head_ccc_arousal": ccc(va_mean[:, 1], va[:, 1]),
            "n_parameters": int(n_params),
            "fp32_bytes": int(4 * n_params),
        },
        "cnn_logreg_ensemble": ens,
        "baseline_logreg_logmel_stats": lr,
        "baseline_majority_class": {
            k + ("_balanced_accuracy" if k != "class7" else "_unweighted_accuracy"): float(
                np.mean(v)
            )
            for k, v in majority.items()
        },
        "targets": {"arousal_balanced_accuracy": 0.85, "valence_balanced_accuracy": 0.65},
        "per_fold": fold_info,
        "config": asdict(cfg),
    }
    result["meets_targets"] = {
        name: bool(
            r["arousal_balanced_accuracy"] >= 0.85 and r["valence_balanced_accuracy"] >= 0.65
        )
        for name, r in (("cnn", cnn), ("cnn_logreg_ensemble", ens), ("baseline_logreg", lr))
    }
    out = Path(out_dir)
    write_json(out / "speech_eval.json", result)
    _plots(out, y, p_cnn, p_lr, va, va_mean, curves)
    return result


def _plots(out: Path, y, p_cnn, p_lr, va, va_mean, curves) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(EMODB_CLASSES)
    fig, axes = plt.subplots(1, 2, figsize=(12, 5))
    for ax, p, title in ((axes[0], p_cnn, "CNN"), (axes[1], p_lr, "log-reg baseline")):
        m = confusion(p.argmax(1), y, n)
        norm = m / np.maximum(m.sum(1, keepdims=True), 1)
        ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
        for i in range(n):
            for j in range(n):
                ax.text(j, i, str(m[i, j]), ha="center", va="center", fontsize=8)
        ax.set_xticks(range(n), EMODB_CLASSES, rotation=45)
        ax.set_yticks(range(n), EMODB_CLASSES)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        ax.set_title(f"{title}: UA {unweighted_accuracy(p.argmax(1), y, n):.3f}")
    fig.tight_layout()
    fig.savefig(out / "speech_confusion.png", dpi=100)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(7, 4))
    for k, h in enumerate(curves):
        ep = [r["epoch"] for r in h]
        ax.plot(ep, [r["train_loss"] for r in h], color=f"C{k}", ls="--")
        ax.plot(ep, [r["val_loss"] for r in h], color=f"C{k}", label=f"fold {k + 1}")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss (dashed: train, solid: validation speakers)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "speech_learning_curves.png", dpi=100)
    plt.close(fig)

    fig, axes = plt.subplots(1, 2, figsize=(10, 4.5))
    rng = np.random.default_rng(0)
    for d, name in enumerate(("valence", "arousal")):
        jitter = rng.normal(0, 0.03, len(y))
        axes[d].scatter(va[:, d] + jitter, va_mean[:, d], s=6, alpha=0.5)
        axes[d].plot([-1, 1], [-1, 1], "k:")
        axes[d].set_xlabel(f"category {name} (circumplex map, jittered)")
        axes[d].set_ylabel(f"predicted {name}")
        axes[d].set_title(f"{name}: CCC {ccc(va_mean[:, d], va[:, d]):.3f}")
    fig.tight_layout()
    fig.savefig(out / "speech_va_scatter.png", dpi=100)
    plt.close(fig)
