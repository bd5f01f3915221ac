"""Baseline: multinomial logistic regression (L2) on per-utterance statistics of the same
log-mel features - mean and standard deviation over time of each mel band and of its
first difference. Fitted full-batch with L-BFGS on standardised features."""

from __future__ import annotations

import numpy as np

from .model import torch

__all__ = ["utterance_stats", "LogRegBaseline"]


def utterance_stats(x: np.ndarray) -> np.ndarray:
    """``(n, frames, mels)`` -> ``(n, 4 * mels)``."""
    d = np.diff(x, axis=1)
    return np.concatenate([x.mean(1), x.std(1), d.mean(1), d.std(1)], axis=1).astype(np.float32)


class LogRegBaseline:
    def __init__(self, l2: float = 1e-2, max_iter: int = 200):
        self.l2, self.max_iter = l2, max_iter

    def fit(self, x: np.ndarray, y: np.ndarray, n_classes: int) -> LogRegBaseline:
        f = utterance_stats(x)
        self.mu, self.sd = f.mean(0), f.std(0) + 1e-6
        xt = torch.as_tensor((f - self.mu) / self.sd)
        yt = torch.as_tensor(y)
        torch.manual_seed(0)
        self.lin = torch.nn.Linear(xt.shape[1], n_classes)
        opt = torch.optim.LBFGS(
            self.lin.parameters(), max_iter=self.max_iter, line_search_fn="strong_wolfe"
        )

        def closure():
            opt.zero_grad()
            loss = (
                torch.nn.functional.cross_entropy(self.lin(xt), yt)
                + self.l2 * (self.lin.weight**2).sum()
            )
            loss.backward()
            return loss

        opt.step(closure)
        return self

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        f = torch.as_tensor((utterance_stats(x) - self.mu) / self.sd)
        with torch.no_grad():
            return torch.softmax(self.lin(f), 1).numpy()
