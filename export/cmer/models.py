"""CMER-CL networks (seed 002, Sec. 3 and 4.3.1) and its one-way regression baselines.

Inputs are sequences (B, T, F): a music feature sequence (VGGish frames in the paper; here
whatever per-frame or per-clip features a dataset has) and an arousal/valence sequence
(B, T, 2) ordered [valence, arousal]. A static item is a sequence of length T = 1.

* :class:`BiGRUEncoder` - single-layer bidirectional GRU; the overall feature is the
  concatenation of the forward state at T and the backward state at 1, refined by FC layers
  with softplus and dropout (the paper: hidden 512, FC 512-512-512-1024-1024, dropout 0.5).
* :class:`MLPEncoder` - mean over time, then FC layers with softplus and dropout.
* :class:`CMERBranch` - encoder + three linear heads: correlation embedding E, Gaussian mean
  mu and diagonal variance (softplus + floor, so KL stays finite).
* :class:`RegMLP` / :class:`RegBiGRU` - the paper's one-way baselines (M2E: features -> mean
  VA; E2M: VA -> mean feature vector), trained with MAE.

Sizes are arguments: this project trains far smaller models than the paper's d = 1024.
"""

from __future__ import annotations

from typing import Dict, Sequence

import torch
from torch import nn

__all__ = [
    "BiGRUEncoder",
    "MLPEncoder",
    "CMERBranch",
    "CMERCL",
    "RegMLP",
    "RegBiGRU",
    "build_encoder",
]

_VAR_FLOOR = 1e-3


def _fc_stack(d_in: int, units: Sequence[int], dropout: float) -> nn.Sequential:
    layers = []
    for i, u in enumerate(units):
        layers.append(nn.Linear(d_in, u))
        layers.append(nn.Softplus())
        if dropout > 0 and i < len(units) - 1:
            layers.append(nn.Dropout(dropout))
        d_in = u
    return nn.Sequential(*layers)


def _as_seq(x: torch.Tensor) -> torch.Tensor:
    if x.ndim == 2:
        return x[:, None, :]
    if x.ndim != 3:
        raise ValueError(f"expected (B, T, F) or (B, F), got shape {tuple(x.shape)}")
    return x


class MLPEncoder(nn.Module):
    def __init__(self, d_in: int, units: Sequence[int] = (64, 64), dropout: float = 0.2):
        super().__init__()
        self.net = _fc_stack(d_in, units, dropout)
        self.d_out = units[-1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(_as_seq(x).mean(dim=1))


class BiGRUEncoder(nn.Module):
    def __init__(self, d_in: int, hidden: int = 32, units: Sequence[int] = (64,), dropout: float = 0.2):
        super().__init__()
        self.gru = nn.GRU(d_in, hidden, batch_first=True, bidirectional=True)
        self.drop = nn.Dropout(dropout)
        self.net = _fc_stack(2 * hidden, units, dropout)
        self.d_out = units[-1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, h = self.gru(_as_seq(x))  # h: (2, B, H): forward final state, backward final state
        return self.net(self.drop(torch.cat([h[0], h[1]], dim=-1)))


def build_encoder(kind: str, d_in: int, cfg: Dict) -> nn.Module:
    units = tuple(cfg.get("units", (64, 64)))
    dropout = float(cfg.get("dropout", 0.2))
    if kind == "mlp":
        return MLPEncoder(d_in, units, dropout)
    if kind == "bigru":
        return BiGRUEncoder(d_in, int(cfg.get("hidden", 32)), units, dropout)
    raise ValueError(f"encoder kind {kind!r}: expected 'mlp' or 'bigru'")


class CMERBranch(nn.Module):
    """One modality: encoder -> (E for CCA, mu and variance for the KL space).

    ``E = (FC(f) - cca_mean) @ cca_w``: the buffers hold this view's CCA projection W of
    Eq. 3 (identity while training; set by :meth:`CMERCL.fit_cca` from training data), so
    that exported models and stored embeddings are already in the paired canonical space.
    """

    def __init__(self, encoder: nn.Module, d_emb: int):
        super().__init__()
        self.encoder = encoder
        self.fc_e = nn.Linear(encoder.d_out, d_emb)
        self.fc_mu = nn.Linear(encoder.d_out, d_emb)
        self.fc_var = nn.Linear(encoder.d_out, d_emb)
        self.register_buffer("cca_mean", torch.zeros(d_emb))
        self.register_buffer("cca_w", torch.eye(d_emb))

    def reset_cca(self) -> None:
        self.cca_mean.zero_()
        self.cca_w.copy_(torch.eye(self.cca_w.shape[0]))

    def forward(self, x: torch.Tensor):
        f = self.encoder(x)
        var = nn.functional.softplus(self.fc_var(f)) + _VAR_FLOOR
        return (self.fc_e(f) - self.cca_mean) @ self.cca_w, self.fc_mu(f), var


class CMERCL(nn.Module):
    def __init__(
        self,
        d_music: int,
        d_emotion: int = 2,
        d_emb: int = 8,
        music_encoder: str = "mlp",
        emotion_encoder: str = "bigru",
        music_cfg: Dict = None,
        emotion_cfg: Dict = None,
    ):
        super().__init__()
        self.music = CMERBranch(build_encoder(music_encoder, d_music, music_cfg or {}), d_emb)
        self.emotion = CMERBranch(build_encoder(emotion_encoder, d_emotion, emotion_cfg or {}), d_emb)

    def forward(self, x_music: torch.Tensor, x_emotion: torch.Tensor):
        return self.music(x_music), self.emotion(x_emotion)

    def reset_cca(self) -> None:
        """Identity projection: E is the raw FC output (as during training)."""
        self.music.reset_cca()
        self.emotion.reset_cca()

    @torch.no_grad()
    def fit_cca(self, x_music: torch.Tensor, x_emotion: torch.Tensor, reg: float = 1e-3) -> torch.Tensor:
        """Set both views' CCA projections from paired (training) items; returns the correlations.

        Runs in eval mode (no dropout) and leaves the model in eval mode.
        """
        from .losses import cca_projection  # losses imports nothing from here; avoids a cycle

        self.eval()
        self.reset_cca()
        e_m, _, _ = self.music(x_music)
        e_e, _, _ = self.emotion(x_emotion)
        m_m, w_m, m_e, w_e, corr = cca_projection(e_m, e_e, reg)
        self.music.cca_mean.copy_(m_m)
        self.music.cca_w.copy_(w_m)
        self.emotion.cca_mean.copy_(m_e)
        self.emotion.cca_w.copy_(w_e)
        return corr


class RegMLP(nn.Module):
    """One-way regressor on the time-averaged input (RegMLP-M2E / RegMLP-E2M)."""

    def __init__(self, d_in: int, d_out: int, units: Sequence[int] = (64, 64), dropout: float = 0.2):
        super().__init__()
        self.enc = MLPEncoder(d_in, units, dropout)
        self.out = nn.Linear(self.enc.d_out, d_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.enc(x))


class RegBiGRU(nn.Module):
    """One-way regressor over the input sequence (RegBiGRU-M2E / RegBiGRU-E2M)."""

    def __init__(
        self,
        d_in: int,
        d_out: int,
        hidden: int = 32,
        units: Sequence[int] = (64,),
        dropout: float = 0.2,
    ):
        super().__init__()
        self.enc = BiGRUEncoder(d_in, hidden, units, dropout)
        self.out = nn.Linear(self.enc.d_out, d_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.enc(x))
