"""Metrics used by the speech and ECG evaluations (pure numpy)."""

from __future__ import annotations

import numpy as np

__all__ = [
    "ccc",
    "balanced_accuracy",
    "confusion",
    "unweighted_accuracy",
    "majority_balanced_accuracy",
]


def ccc(pred, true) -> float:
    """Lin's concordance correlation coefficient."""
    p, t = np.asarray(pred, dtype=float), np.asarray(true, dtype=float)
    if p.shape != t.shape or p.size < 2:
        raise ValueError(
            f"pred {p.shape} and true {t.shape}: expected equal shapes with >= 2 items"
        )
    mp, mt = p.mean(), t.mean()
    cov = np.mean((p - mp) * (t - mt))
    denom = p.var() + t.var() + (mp - mt) ** 2
    return float(2 * cov / denom) if denom > 0 else 0.0


def confusion(pred, true, n_classes: int) -> np.ndarray:
    """Rows are true classes, columns predicted."""
    m = np.zeros((n_classes, n_classes), dtype=int)
    np.add.at(m, (np.asarray(true, dtype=int), np.asarray(pred, dtype=int)), 1)
    return m


def unweighted_accuracy(pred, true, n_classes: int) -> float:
    """Mean per-class recall over the classes present in ``true`` (= balanced accuracy)."""
    m = confusion(pred, true, n_classes)
    rows = m.sum(axis=1)
    present = rows > 0
    return float(np.mean(np.diag(m)[present] / rows[present]))


def balanced_accuracy(pred, true) -> float:
    """Balanced accuracy of boolean predictions (mean of sensitivity and specificity)."""
    return unweighted_accuracy(np.asarray(pred, dtype=int), np.asarray(true, dtype=int), 2)


def majority_balanced_accuracy(true_train, true_test) -> float:
    """Predicting the training set's majority class always scores 1/n_classes_present."""
    vals, counts = np.unique(np.asarray(true_train), return_counts=True)
    maj = vals[np.argmax(counts)]
    t = np.asarray(true_test)
    classes = np.unique(t)
    return float(np.mean([np.mean(np.full((t == c).sum(), maj) == c) for c in classes]))
