"""Retrieval metrics of CMER-CL (seed 002, Sec. 4.2 and 5): ranks, MRR, AR, top-5 % cosine.

Pure numpy. ``scores[q, t]`` is the similarity of query ``q`` to target ``t``; the relevant
target of query ``q`` is target ``q`` (the paper's one-to-one pairing of a music sample
and its emotion). Ties count against the model (the relevant item is placed after every
item with an equal score), so a constant scorer gets the worst rank, never a lucky one.
"""

from __future__ import annotations

import math
from typing import Dict

import numpy as np

__all__ = [
    "ranks_from_scores",
    "mrr",
    "average_rank",
    "top_fraction_cosine",
    "retrieval_report",
    "chance_mrr",
]


def ranks_from_scores(scores: np.ndarray) -> np.ndarray:
    """1-based rank of the relevant (diagonal) target for each query row."""
    s = np.asarray(scores, dtype=np.float64)
    if s.ndim != 2 or s.shape[0] != s.shape[1]:
        raise ValueError(f"scores has shape {s.shape}: expected a square (queries x targets) matrix")
    if not np.isfinite(s).all():
        # NaN compares False with everything, which would give the impossible rank 0
        raise ValueError(f"scores has {int((~np.isfinite(s)).sum())} non-finite entries")
    pos = np.diagonal(s)[:, None]
    return (s >= pos).sum(axis=1).astype(int)  # counts itself, so the best rank is 1


def mrr(ranks: np.ndarray) -> float:
    return float(np.mean(1.0 / np.asarray(ranks, dtype=np.float64)))


def average_rank(ranks: np.ndarray) -> float:
    return float(np.mean(ranks))


def chance_mrr(n: int) -> float:
    """Expected MRR of a random ranking of ``n`` targets: H_n / n."""
    return float(sum(1.0 / k for k in range(1, n + 1)) / n)


def _cos(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a / np.maximum(np.linalg.norm(a, axis=-1, keepdims=True), 1e-12)
    b = b / np.maximum(np.linalg.norm(b, axis=-1, keepdims=True), 1e-12)
    return a @ b.T


def top_fraction_cosine(scores: np.ndarray, target_descriptors: np.ndarray, fraction: float = 0.05) -> np.ndarray:
    """Per query: mean cosine between the query's own descriptor and those of its top ``fraction``.

    ``target_descriptors[t]`` describes item ``t`` in the *query's* space (e.g. for E2M the
    overall VA vector associated with music sample ``t``); the query's own descriptor is
    ``target_descriptors[q]`` because of the one-to-one pairing.
    """
    s = np.asarray(scores, dtype=np.float64)
    k = max(1, int(math.ceil(fraction * s.shape[1])))
    top = np.argsort(-s, axis=1, kind="stable")[:, :k]
    c = _cos(target_descriptors, target_descriptors)
    return np.array([c[q, top[q]].mean() for q in range(s.shape[0])])


def retrieval_report(scores: np.ndarray, target_descriptors: np.ndarray) -> Dict[str, float]:
    r = ranks_from_scores(scores)
    cos = top_fraction_cosine(scores, target_descriptors)
    return {
        "mrr": mrr(r),
        "average_rank": average_rank(r),
        "top5pct_cosine_mean": float(cos.mean()),
        "top5pct_cosine_sd": float(cos.std()),
        "n_targets": int(scores.shape[1]),
        "chance_mrr": chance_mrr(scores.shape[1]),
    }
