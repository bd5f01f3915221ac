"""CMER-CL losses and retrieval score (Takashima et al., seed 002, Eqs. 1-8).

* :func:`cca_loss` - Eq. 3: ``-tr(W_m^T S_me W_e)`` under the whitening constraint
  ``W_m^T S_mm W_m = W_e^T S_ee W_e = I``. Solved in closed form inside the batch (Andrew et
  al. 2013, the paper's ref. [7]): with regularised covariances ``S_mm + r I`` and
  ``S_ee + r I``, the optimum is the sum of the singular values of
  ``T = S_mm^{-1/2} S_me S_ee^{-1/2}``, i.e. the sum of the canonical correlations.
* :func:`cca_projection` - the W^(m), W^(e) of Eq. 3 for a set of embeddings, so that
  ``E = W^T FC(f)`` (Sec. 3.3.1) are paired canonical variates; the Pearson term of the
  retrieval score compares E_q and E_t dimension by dimension, which only means something in
  that paired space (the CCA loss is invariant to any invertible map of either view, so the
  raw FC outputs' dimensions are not paired).
* :func:`kl_diag` - Eq. 8: KL(N1 || N2) for diagonal Gaussians (``sigma`` = variances).
* :func:`kl_ranking_loss` - Eqs. 4-6 summed over positive pairs: hinge with margin alpha
  over *all* in-batch negatives, music-anchored and emotion-anchored.
* :func:`composite_loss` - Eq. 1: ``lam * CCA + (1 - lam) * KL``.
* :func:`retrieval_score` - Sec. 3.4: ``lam * Pearson(E_q, E_t) - (1 - lam) * KL(q || t)``.

Sign of the margin: the paper's prose says the hinge is zero when every negative is farther
than the positive "by more than alpha", i.e. ``max(0, alpha + D_pos - D_neg)`` (the
standard triplet hinge). Eqs. 4 and 6 as printed read ``max(0, D_pos - alpha - D_neg)``,
which is already zero at initialisation (all D equal) and so never trains; we verified
this: with the printed sign the KL term stayed exactly 0 on Soundtracks110. We follow
the prose; ``printed_sign=True`` gives the printed form for comparison.

Direction of the KL in the ranking loss: Eq. 6 writes D(anchor, other); the music-anchored
term uses KL(N_m || N_e), the emotion-anchored term KL(N_e || N_m), exactly as written.
"""

from __future__ import annotations

from typing import Tuple

import torch

__all__ = [
    "canonical_correlations",
    "cca_loss",
    "cca_projection",
    "kl_diag",
    "kl_matrix",
    "kl_ranking_loss",
    "composite_loss",
    "pearson_matrix",
    "retrieval_score",
]


def _inv_sqrt(mat: torch.Tensor, eps: float) -> torch.Tensor:
    w, v = torch.linalg.eigh(mat)
    w = torch.clamp(w, min=eps)
    return v @ torch.diag(w.rsqrt()) @ v.T


def _whitened_cross(h1: torch.Tensor, h2: torch.Tensor, reg: float, eps: float):
    """(mean1, S11^-1/2, mean2, S22^-1/2, T = S11^-1/2 S12 S22^-1/2) of a batch (N, d1) x (N, d2),
    with ``reg * I`` added to both auto-covariances; the singular values of T are the
    canonical correlations."""
    if h1.ndim != 2 or h2.ndim != 2 or h1.shape[0] != h2.shape[0]:
        raise ValueError(f"expected (N, d1) and (N, d2) with the same N, got {tuple(h1.shape)} and {tuple(h2.shape)}")
    n = h1.shape[0]
    if n < 2:
        raise ValueError("CCA needs a batch of at least 2 pairs")
    m1, m2 = h1.mean(0), h2.mean(0)
    c1, c2 = h1 - m1, h2 - m2
    s11 = c1.T @ c1 / (n - 1) + reg * torch.eye(h1.shape[1], dtype=h1.dtype)
    s22 = c2.T @ c2 / (n - 1) + reg * torch.eye(h2.shape[1], dtype=h2.dtype)
    i1, i2 = _inv_sqrt(s11, eps), _inv_sqrt(s22, eps)
    return m1, i1, m2, i2, i1 @ (c1.T @ c2 / (n - 1)) @ i2


def canonical_correlations(h1: torch.Tensor, h2: torch.Tensor, reg: float = 1e-3, eps: float = 1e-9) -> torch.Tensor:
    """Canonical correlations of the batch (N, d1) x (N, d2), regularised by ``reg * I``."""
    t = _whitened_cross(h1, h2, reg, eps)[4]
    # singular values via the eigenvalues of T^T T (stable gradient with eps floor)
    w = torch.linalg.eigvalsh(t.T @ t)
    return torch.sqrt(torch.clamp(w, min=eps)).flip(0)


def cca_projection(
    h1: torch.Tensor, h2: torch.Tensor, reg: float = 1e-3, eps: float = 1e-9
) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Closed-form regularised CCA of (N, d1) x (N, d2): ``(mean1, W1, mean2, W2, corr)``.

    ``(h1 - mean1) @ W1`` and ``(h2 - mean2) @ W2`` are whitened canonical variates, column
    k of one paired with column k of the other, sorted by canonical correlation ``corr``.
    """
    m1, i1, m2, i2, t = _whitened_cross(h1, h2, reg, eps)
    u, corr, vh = torch.linalg.svd(t, full_matrices=False)
    return m1, i1 @ u, m2, i2 @ vh.T, corr


def cca_loss(e_m: torch.Tensor, e_e: torch.Tensor, reg: float = 1e-3, top_k: int = 0) -> torch.Tensor:
    """Eq. 3: minus the sum of canonical correlations (all, or the ``top_k`` largest)."""
    c = canonical_correlations(e_m, e_e, reg)
    if top_k:
        c = c[:top_k]
    return -c.sum()


def kl_diag(mu1: torch.Tensor, var1: torch.Tensor, mu2: torch.Tensor, var2: torch.Tensor) -> torch.Tensor:
    """Eq. 8: KL(N(mu1, diag var1) || N(mu2, diag var2)) over the last axis (broadcasts)."""
    return 0.5 * (
        (var1 / var2).sum(-1)
        - mu1.shape[-1]
        + (torch.log(var2) - torch.log(var1)).sum(-1)
        + ((mu2 - mu1) ** 2 / var2).sum(-1)
    )


def kl_matrix(mu_a: torch.Tensor, var_a: torch.Tensor, mu_b: torch.Tensor, var_b: torch.Tensor) -> torch.Tensor:
    """K[i, j] = KL(N_a[i] || N_b[j]) for (N, d) and (M, d) inputs."""
    return kl_diag(mu_a[:, None, :], var_a[:, None, :], mu_b[None, :, :], var_b[None, :, :])


def kl_ranking_loss(
    mu_m: torch.Tensor,
    var_m: torch.Tensor,
    mu_e: torch.Tensor,
    var_e: torch.Tensor,
    alpha: float = 1.0,
    printed_sign: bool = False,
) -> torch.Tensor:
    """Eqs. 4-6, summed over the N positive pairs of the batch (both anchors, all negatives).

    Each hinge is ``max(0, alpha + D_pos - D_neg)`` (``max(0, D_pos - alpha - D_neg)`` with
    ``printed_sign``; see the module docstring).
    """
    n = mu_m.shape[0]
    k_me = kl_matrix(mu_m, var_m, mu_e, var_e)  # [n, n'] = D(N_m[n], N_e[n'])
    k_em = kl_matrix(mu_e, var_e, mu_m, var_m)  # [n, n'] = D(N_e[n], N_m[n'])
    off = ~torch.eye(n, dtype=torch.bool)
    pos_m = torch.diagonal(k_me)[:, None]
    pos_e = torch.diagonal(k_em)[:, None]
    a = -alpha if printed_sign else alpha
    h1 = torch.clamp(pos_m + a - k_me, min=0.0)
    h2 = torch.clamp(pos_e + a - k_em, min=0.0)
    return (h1 * off).sum() + (h2 * off).sum()


def composite_loss(
    e_m: torch.Tensor,
    e_e: torch.Tensor,
    mu_m: torch.Tensor,
    var_m: torch.Tensor,
    mu_e: torch.Tensor,
    var_e: torch.Tensor,
    lam: float,
    alpha: float = 1.0,
    reg: float = 1e-3,
    printed_sign: bool = False,
    kl_reduction: str = "sum",
) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Eq. 1. Returns (total, cca, kl) so both terms can be logged.

    ``kl_reduction="sum"`` is the paper's KL(G) (a sum over all 2 N (N - 1) hinges, so it
    outweighs the CCA term, at most d, by orders of magnitude); ``"mean"`` averages the hinges,
    which puts the two terms on comparable scales so that lam actually trades them off.
    """
    if not 0.0 <= lam <= 1.0:
        raise ValueError(f"lam={lam!r}: expected a weight in [0, 1]")
    if kl_reduction not in ("sum", "mean"):
        raise ValueError(f"kl_reduction={kl_reduction!r}: expected 'sum' or 'mean'")
    zero = torch.zeros((), dtype=e_m.dtype)
    cca = cca_loss(e_m, e_e, reg) if lam > 0 else zero
    kl = kl_ranking_loss(mu_m, var_m, mu_e, var_e, alpha, printed_sign) if lam < 1 else zero
    if kl_reduction == "mean":
        n = mu_m.shape[0]
        kl = kl / (2 * n * (n - 1))
    return lam * cca + (1 - lam) * kl, cca, kl


def pearson_matrix(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """P[i, j] = Pearson correlation between the vectors a[i] and b[j] (across dimensions)."""
    a = a - a.mean(-1, keepdim=True)
    b = b - b.mean(-1, keepdim=True)
    a = a / torch.clamp(a.norm(dim=-1, keepdim=True), min=1e-12)
    b = b / torch.clamp(b.norm(dim=-1, keepdim=True), min=1e-12)
    return a @ b.T


def retrieval_score(
    e_q: torch.Tensor,
    mu_q: torch.Tensor,
    var_q: torch.Tensor,
    e_t: torch.Tensor,
    mu_t: torch.Tensor,
    var_t: torch.Tensor,
    lam: float,
) -> torch.Tensor:
    """S[q, t] = lam * Pearson(E_q, E_t) - (1 - lam) * KL(N_q || N_t); higher is more similar."""
    return lam * pearson_matrix(e_q, e_t) - (1 - lam) * kl_matrix(mu_q, var_q, mu_t, var_t)
