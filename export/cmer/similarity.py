"""CardioMusic's similarity head (seed 000) and its L3-Net / ACP-Net fusion baseline (004).

CardioMusic: a query branch (ECG in the paper) and a music branch each predict VA; a
similarity head scores the pair; the loss is the similarity MSE plus both branches' VA MSE
(its ablations "w/o VA" and "w/o S" drop one or the other). The seed's results page does
not spell the similarity target out; it says a pair is "similar" above 0.5 and gives VA
in [0, 1]. We use the distance-based target

    s* = 1 - ||va_q - va_m||_2 / sqrt(2)      (va in [0, 1]^2, so s* in [0, 1])

- 1 for identical VA, 0 for opposite corners, 0.5 at distance 0.71 (half the diagonal).

Fusion baseline (L3-Net / ACP-Net as adapted by CardioMusic): two feature subnetworks,
concatenate, FC layers, one similarity output trained with MSE only (no VA supervision).
"""

from __future__ import annotations

import math
from typing import Dict, Sequence, Tuple

import torch
from torch import nn

__all__ = ["similarity_target", "CardioMusicNet", "FusionNet", "cardiomusic_loss"]


def similarity_target(va_q: torch.Tensor, va_m: torch.Tensor) -> torch.Tensor:
    """s* = 1 - ||va_q - va_m|| / sqrt(2) for VA in [0, 1] (broadcasts over leading axes)."""
    for name, v in (("va_q", va_q), ("va_m", va_m)):
        if v.shape[-1] != 2:
            raise ValueError(
                f"{name} has last dimension {v.shape[-1]}: expected 2 (valence, arousal)"
            )
    return 1.0 - torch.linalg.vector_norm(va_q - va_m, dim=-1) / math.sqrt(2.0)


def _mlp(d_in: int, units: Sequence[int], dropout: float) -> Tuple[nn.Sequential, int]:
    layers = []
    for u in units:
        layers += [nn.Linear(d_in, u), nn.ReLU(), nn.Dropout(dropout)]
        d_in = u
    return nn.Sequential(*layers), d_in


class CardioMusicNet(nn.Module):
    """Query branch -> VA, music branch -> VA, similarity head on [va_q, va_m, |va_q - va_m|]."""

    def __init__(
        self, d_query: int, d_music: int, units: Sequence[int] = (32,), dropout: float = 0.2
    ):
        super().__init__()
        self.q_body, dq = _mlp(d_query, units, dropout)
        self.m_body, dm = _mlp(d_music, units, dropout)
        self.q_va = nn.Linear(dq, 2)
        self.m_va = nn.Linear(dm, 2)
        self.sim = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 1))

    def branches(self, xq: torch.Tensor, xm: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        return torch.sigmoid(self.q_va(self.q_body(xq))), torch.sigmoid(self.m_va(self.m_body(xm)))

    def score(self, va_q: torch.Tensor, va_m: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.sim(torch.cat([va_q, va_m, (va_q - va_m).abs()], -1))).squeeze(-1)

    def forward(self, xq: torch.Tensor, xm: torch.Tensor) -> Dict[str, torch.Tensor]:
        va_q, va_m = self.branches(xq, xm)
        return {"va_q": va_q, "va_m": va_m, "sim": self.score(va_q, va_m)}


class FusionNet(nn.Module):
    """L3-Net / ACP-Net style: subnetworks, concatenation, FC layers, one similarity output."""

    def __init__(
        self, d_query: int, d_music: int, units: Sequence[int] = (32,), dropout: float = 0.2
    ):
        super().__init__()
        self.q_body, dq = _mlp(d_query, units, dropout)
        self.m_body, dm = _mlp(d_music, units, dropout)
        self.fuse = nn.Sequential(
            nn.Linear(dq + dm, 32), nn.ReLU(), nn.Dropout(dropout), nn.Linear(32, 1)
        )

    def forward(self, xq: torch.Tensor, xm: torch.Tensor) -> Dict[str, torch.Tensor]:
        z = torch.cat([self.q_body(xq), self.m_body(xm)], -1)
        return {"sim": torch.sigmoid(self.fuse(z)).squeeze(-1)}


def cardiomusic_loss(
    out: Dict[str, torch.Tensor],
    sim_true: torch.Tensor,
    va_q_true: torch.Tensor = None,
    va_m_true: torch.Tensor = None,
    w_va: float = 1.0,
) -> torch.Tensor:
    """Similarity MSE (+ ``w_va`` x both branches' VA MSE when the outputs carry VA)."""
    loss = ((out["sim"] - sim_true) ** 2).mean()
    if w_va > 0 and "va_q" in out and va_q_true is not None:
        loss = loss + w_va * (
            ((out["va_q"] - va_q_true) ** 2).mean() + ((out["va_m"] - va_m_true) ** 2).mean()
        )
    return loss
