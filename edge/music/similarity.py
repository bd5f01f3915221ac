"""How the recommender ranks catalog tracks against a target point (numpy, no torch).

- :class:`VaDistance`: Euclidean distance in the valence/arousal plane (the default).
- :class:`CmerComposite`: CMER-CL's composite retrieval score (Takashima et al., Sec. 3.4;
  the same formula as ``cardiotune.export.cmer.losses.retrieval_score``):
  ``S(q, t) = lam * Pearson(E_q, E_t) - (1 - lam) * KL(N(mu_q, var_q) || N(mu_t, var_t))``
  between the query's emotion embedding and each track's music embedding. Used when every
  catalog track carries an ``embedding`` (``e``, ``mu``, ``var``) and an emotion embedder
  maps the target VA to the query embedding. It is reported as a distance ``1 - S``
  (>= 0 since Pearson <= 1 and KL >= 0) so both rankers read the same way: smaller is closer.
"""
from __future__ import annotations

import math
from typing import Callable, Dict, Sequence, Tuple

import numpy as np

__all__ = ["VaDistance", "CmerComposite", "Embedding", "composite_score", "kl_diag", "pearson"]

Embedding = Tuple[np.ndarray, np.ndarray, np.ndarray]  # (e, mu, var)


def pearson(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pearson correlation between a (d,) query and rows of b (N, d), across dimensions."""
    a = np.asarray(a, dtype=np.float64) - np.mean(a)
    b = np.asarray(b, dtype=np.float64)
    b = b - b.mean(axis=-1, keepdims=True)
    na = max(float(np.linalg.norm(a)), 1e-12)
    nb = np.maximum(np.linalg.norm(b, axis=-1), 1e-12)
    return (b @ a) / (na * nb)


def kl_diag(mu1, var1, mu2, var2) -> np.ndarray:
    """KL(N(mu1, diag var1) || N(mu2, diag var2)) over the last axis (broadcasts)."""
    mu1, var1, mu2, var2 = (np.asarray(x, dtype=np.float64) for x in (mu1, var1, mu2, var2))
    return 0.5 * ((var1 / var2).sum(-1) - mu1.shape[-1] + (np.log(var2) - np.log(var1)).sum(-1)
                  + ((mu2 - mu1) ** 2 / var2).sum(-1))


def composite_score(query: Embedding, targets: Embedding, lam: float) -> np.ndarray:
    """S for one query against N targets (rows of each array)."""
    e_q, mu_q, var_q = query
    e_t, mu_t, var_t = targets
    return lam * pearson(e_q, e_t) - (1.0 - lam) * kl_diag(mu_q, var_q, mu_t, var_t)


class VaDistance:
    name = "va-distance"

    def distances(self, v: float, a: float, tracks: Sequence) -> np.ndarray:
        return np.array([math.hypot(t.valence - v, t.arousal - a) for t in tracks], dtype=np.float64)


class CmerComposite:
    """``embedder(v, a) -> (e, mu, var)``; ``embeddings``: track id -> (e, mu, var)."""

    name = "cmer-composite"

    def __init__(self, embedder: Callable[[float, float], Embedding], embeddings: Dict[str, Embedding],
                 lam: float = 0.5):
        if not 0 <= lam <= 1:
            raise ValueError(f"lam={lam!r}: expected a weight in [0, 1]")
        if not embeddings:
            raise ValueError("no track embeddings: use VaDistance for a catalog without embeddings")
        self.embedder, self.embeddings, self.lam = embedder, embeddings, float(lam)

    def distances(self, v: float, a: float, tracks: Sequence) -> np.ndarray:
        missing = [t.id for t in tracks if t.id not in self.embeddings]
        if missing:
            raise ValueError(f"tracks {missing[:5]} have no embedding; expected one for every catalog track")
        e, mu, var = (np.stack([np.asarray(self.embeddings[t.id][k], dtype=np.float64) for t in tracks])
                      for k in range(3))
        return 1.0 - composite_score(self.embedder(v, a), (e, mu, var), self.lam)
