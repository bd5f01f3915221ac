"""GRU encoder over HRV feature sequences -> VA mean (tanh) and log-variance.

Input ``(batch, seq_len, 4)`` as built by :class:`cardiotune.edge.ecg_va_features.HrvSequencer`.
Export with ``torch.onnx.export(..., dynamo=False)`` (GRU; see PLATFORM_NOTES).
"""

from __future__ import annotations

from ..._imports import import_optional

torch = import_optional("torch", "train", "the ECG model")
nn = torch.nn

__all__ = ["HrvVaNet"]


class HrvVaNet(nn.Module):
    def __init__(self, n_features: int = 4, hidden: int = 32, dropout: float = 0.1):
        super().__init__()
        self.n_features, self.hidden = n_features, hidden
        self.inp = nn.Linear(n_features, hidden)
        self.gru = nn.GRU(hidden, hidden, batch_first=True)
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(hidden + n_features, 4)

    def forward(self, x):
        h, _ = self.gru(torch.relu(self.inp(x)))
        z = torch.cat([self.drop(h[:, -1]), x[:, -1]], dim=1)
        o = self.out(z)
        return torch.tanh(o[:, :2]), o[:, 2:].clamp(-8.0, 4.0)

    def config(self) -> dict:
        return {"n_features": self.n_features, "hidden": self.hidden}
