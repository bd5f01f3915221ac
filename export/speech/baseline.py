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


class StatsLogReg(torch.nn.Module):
    """The fitted baseline as a torch module (so it can join the ONNX graph)."""

    def __init__(self, mu: np.ndarray, sd: np.ndarray, weight, bias):
        super().__init__()
        self.register_buffer("mu", torch.as_tensor(mu, dtype=torch.float32))
        self.register_buffer("sd", torch.as_tensor(sd, dtype=torch.float32))
        self.lin = torch.nn.Linear(weight.shape[1], weight.shape[0])
        with torch.no_grad():
            self.lin.weight.copy_(torch.as_tensor(weight))
            self.lin.bias.copy_(torch.as_tensor(bias))

    def forward(self, x):
        d = x[:, 1:] - x[:, :-1]
        f = torch.cat([x.mean(1), x.std(1, unbiased=False), d.mean(1), d.std(1, unbiased=False)], 1)
        return self.lin((f - self.mu) / self.sd)


def baseline_module(b: LogRegBaseline) -> StatsLogReg:
    return StatsLogReg(b.mu, b.sd, b.lin.weight.detach(), b.lin.bias.detach())


class SpeechEnsemble(torch.nn.Module):
    """CNN + log-mel-statistics logistic regression: class log-probabilities averaged in
    probability space; VA from the CNN. Same outputs as :class:`SpeechEmotionNet`."""

    def __init__(self, cnn, stats: StatsLogReg):
        super().__init__()
        self.cnn, self.stats = cnn, stats

    def forward(self, x):
        logits, va_mean, va_logvar = self.cnn(x)
        p = 0.5 * (torch.softmax(logits, 1) + torch.softmax(self.stats(x), 1))
        return torch.log(p + 1e-8), va_mean, va_logvar
