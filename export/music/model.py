"""Music encoder: clip features -> valence/arousal mean + variance, and an embedding.

A small MLP on standardised features (the standardisation travels with the model).
Trained with MSE for the mean and the Gaussian negative log-likelihood for the variance, so
each prediction carries its own variance (the estimator contract of this project: VA
*with an uncertainty*). Targets are standardised inside the model (buffers), outputs are
on the dataset's rating scale. The last hidden layer is the embedding used to index a
catalog.
"""

from __future__ import annotations

import copy
from typing import Dict, Sequence, Tuple

import numpy as np
import torch
from torch import nn

__all__ = ["MusicVAModel", "fit_music_model", "predict", "ridge_fit", "ridge_predict", "r2"]


class MusicVAModel(nn.Module):
    def __init__(self, d_in: int, units: Sequence[int] = (32, 16), dropout: float = 0.2):
        super().__init__()
        layers, d = [], d_in
        for u in units:
            layers += [nn.Linear(d, u), nn.GELU(), nn.Dropout(dropout)]
            d = u
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(d, 4)  # mean V, mean A, log-var V, log-var A
        self.register_buffer("x_mean", torch.zeros(d_in))
        self.register_buffer("x_std", torch.ones(d_in))
        self.register_buffer("y_mean", torch.zeros(2))
        self.register_buffer("y_std", torch.ones(2))
        self.d_emb = d

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        return self.body((x - self.x_mean) / self.x_std)

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Returns (mean (B, 2), variance (B, 2), embedding (B, d_emb)); VA order [V, A]."""
        e = self.embed(x)
        out = self.head(e)
        mu = out[:, :2] * self.y_std + self.y_mean
        var = torch.exp(out[:, 2:].clamp(-10, 5)) * self.y_std**2
        return mu, var, e

    def forward_std(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Mean and variance in standardised target units (used for training)."""
        out = self.head(self.embed(x))
        return out[:, :2], torch.exp(out[:, 2:].clamp(-10, 5))


def fit_music_model(
    x_tr, y_tr, x_va, y_va, cfg: Dict, seed: int, fixed_epochs: int = 0
) -> Tuple[MusicVAModel, Dict]:
    """Full-batch Adam (MSE for the mean + Gaussian NLL for the variance).

    Early stopping on validation MSE with the best weights kept; or, with ``fixed_epochs``
    (and ``x_va=None``), exactly that many epochs - used to refit on train + validation
    for the epoch count that early stopping found.
    """
    torch.manual_seed(seed)
    xt, yt = torch.as_tensor(x_tr, dtype=torch.float32), torch.as_tensor(y_tr, dtype=torch.float32)
    if not fixed_epochs:
        xv = torch.as_tensor(x_va, dtype=torch.float32)
        yv = torch.as_tensor(y_va, dtype=torch.float32)
    model = MusicVAModel(
        xt.shape[1], tuple(cfg.get("units", (32, 16))), float(cfg.get("dropout", 0.2))
    )
    model.x_mean.copy_(xt.mean(0))
    model.x_std.copy_(xt.std(0) + 1e-8)
    model.y_mean.copy_(yt.mean(0))
    model.y_std.copy_(yt.std(0) + 1e-8)
    zt = (yt - model.y_mean) / model.y_std
    opt = torch.optim.Adam(
        model.parameters(), lr=float(cfg["lr"]), weight_decay=float(cfg.get("weight_decay", 0.0))
    )
    nll = nn.GaussianNLLLoss()
    best, state, bad, curve = np.inf, None, 0, []
    every, patience = int(cfg.get("eval_every", 10)), int(cfg.get("patience", 20))
    epoch = 0
    best_epoch = 0
    for epoch in range(1, (fixed_epochs or int(cfg["epochs"])) + 1):
        model.train()
        mu, var = model.forward_std(xt)
        # mean by MSE, variance by NLL around the (detached) mean: plain Gaussian NLL lets
        # the variance collapse on training points of a 100-item set and drags the mean.
        loss = ((mu - zt) ** 2).mean() + nll(mu.detach(), zt, var)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if fixed_epochs:
            continue
        if epoch % every == 0:
            model.eval()
            with torch.no_grad():
                mv, vv, _ = model(xv)
                v_mse = float(((mv - yv) ** 2).mean())
                v_nll = float(nll(mv, yv, vv))
            curve.append(
                {"epoch": epoch, "train_nll": loss.item(), "val_nll": v_nll, "val_mse": v_mse}
            )
            if v_mse < best - 1e-9:
                best, state, bad, best_epoch = v_mse, copy.deepcopy(model.state_dict()), 0, epoch
            else:
                bad += 1
                if bad >= patience:
                    break
    if state is not None:
        model.load_state_dict(state)
    return model, {
        "curve": curve,
        "best_val_mse": float(best),
        "epochs_run": epoch,
        "best_epoch": best_epoch,
    }


def predict(model: MusicVAModel, x: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    model.eval()
    with torch.no_grad():
        mu, var, _ = model(torch.as_tensor(x, dtype=torch.float32))
    return mu.numpy(), var.numpy()


def ridge_fit(x: np.ndarray, y: np.ndarray, alpha: float) -> Dict[str, np.ndarray]:
    """Closed-form ridge on standardised x (intercept unpenalised)."""
    mu, sd = x.mean(0), x.std(0) + 1e-8
    z = (x - mu) / sd
    ym = y.mean(0)
    w = np.linalg.solve(z.T @ z + alpha * np.eye(z.shape[1]), z.T @ (y - ym))
    return {"mu": mu, "sd": sd, "w": w, "b": ym}


def ridge_predict(p: Dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    return ((x - p["mu"]) / p["sd"]) @ p["w"] + p["b"]


def r2(y: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Coefficient of determination per column (1 - SSE / SST)."""
    y, p = np.asarray(y, dtype=float), np.asarray(p, dtype=float)
    return 1.0 - ((y - p) ** 2).sum(0) / ((y - y.mean(0)) ** 2).sum(0)
