"""Small 1-D CNN over log-mel frames -> 7-way logits + VA mean + VA log-variance.

Input ``(batch, frames, n_mels)`` raw log-mel (normalisation is inside the model as
buffers, so the exported ONNX graph takes exactly what :func:`cardiotune.edge.speech.log_mel`
returns). Any number of frames >= 16 works (global mean+std pooling over time, plus the
utterance mean/std of each normalised mel band when ``stats_skip``).
"""

from __future__ import annotations

from typing import Optional, Tuple

import numpy as np

from ..._imports import import_optional

torch = import_optional("torch", "train", "the speech model")
nn = torch.nn

__all__ = ["SpeechEmotionNet", "gaussian_nll", "speech_loss"]


def _block(cin: int, cout: int, k: int, dropout: float) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv1d(cin, cout, k, padding=k // 2),
        nn.BatchNorm1d(cout),
        nn.ReLU(),
        nn.MaxPool1d(2),
        nn.Dropout(dropout),
    )


class SpeechEmotionNet(nn.Module):
    def __init__(
        self,
        n_mels: int = 40,
        n_classes: int = 7,
        width: int = 64,
        dropout: float = 0.2,
        mean: Optional[np.ndarray] = None,
        std: Optional[np.ndarray] = None,
        stats_skip: bool = True,
    ):
        super().__init__()
        self.n_mels, self.n_classes, self.width = n_mels, n_classes, width
        m = torch.zeros(n_mels) if mean is None else torch.as_tensor(mean, dtype=torch.float32)
        s = torch.ones(n_mels) if std is None else torch.as_tensor(std, dtype=torch.float32)
        self.register_buffer("feat_mean", m.reshape(1, n_mels, 1))
        self.register_buffer("feat_std", s.reshape(1, n_mels, 1))
        self.body = nn.Sequential(
            _block(n_mels, width, 5, dropout),
            _block(width, width, 5, dropout),
            _block(width, width * 3 // 2, 3, dropout),
            _block(width * 3 // 2, width * 3 // 2, 3, dropout),
        )
        emb = width * 3 + (2 * n_mels if stats_skip else 0)
        self.stats_skip = stats_skip
        self.head = nn.Sequential(nn.Linear(emb, width), nn.ReLU(), nn.Dropout(dropout))
        self.cls = nn.Linear(width, n_classes)
        self.va = nn.Linear(width, 4)

    def embed(self, x):
        z = (x.transpose(1, 2) - self.feat_mean) / self.feat_std
        h = self.body(z)
        parts = [h.mean(dim=2), h.std(dim=2)]
        if self.stats_skip:  # utterance statistics of the input, as the baseline uses
            parts += [z.mean(dim=2), z.std(dim=2)]
        return self.head(torch.cat(parts, dim=1))

    def forward(self, x) -> Tuple:
        e = self.embed(x)
        va = self.va(e)
        return self.cls(e), torch.tanh(va[:, :2]), va[:, 2:].clamp(-8.0, 4.0)

    def config(self) -> dict:
        return {
            "n_mels": self.n_mels,
            "n_classes": self.n_classes,
            "width": self.width,
            "stats_skip": self.stats_skip,
        }


def gaussian_nll(mean, logvar, target):
    """Heteroscedastic Gaussian negative log-likelihood (without the constant), per element mean."""
    return 0.5 * (logvar + (target - mean) ** 2 * torch.exp(-logvar)).mean()


def speech_loss(outputs, y_class, y_va, va_weight: float = 1.0, class_weight=None):
    logits, va_mean, va_logvar = outputs
    ce = nn.functional.cross_entropy(logits, y_class, weight=class_weight)
    return ce + va_weight * gaussian_nll(va_mean, va_logvar, y_va)
