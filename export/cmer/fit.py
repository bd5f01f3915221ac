"""Fitting CMER-CL and its baselines on one split; scoring a test set both ways.

Full-batch Adam (the datasets here have ~100 items), early stopping on a validation split
that the caller made by song/film, best-validation weights restored. Deterministic for a
given seed (torch.manual_seed + single-threaded CPU ops are reproducible).
"""

from __future__ import annotations

import copy
import logging
from typing import Dict, Tuple

import numpy as np
import torch

from .losses import composite_loss, retrieval_score
from .metrics import mrr, ranks_from_scores, retrieval_report
from .models import CMERCL, RegBiGRU, RegMLP

log = logging.getLogger(__name__)

__all__ = ["fit_cmer", "cmer_scores", "fit_regressor", "regressor_scores", "evaluate_pair"]


def _t(x: np.ndarray) -> torch.Tensor:
    return torch.as_tensor(np.asarray(x), dtype=torch.float32)


def cmer_scores(model: CMERCL, xm: np.ndarray, xe: np.ndarray, lam: float) -> Tuple[np.ndarray, np.ndarray]:
    """(M2E scores [music q, emotion t], E2M scores [emotion q, music t]) per Sec. 3.4."""
    model.eval()
    with torch.no_grad():
        (em, mum, vm), (ee, mue, ve) = model(_t(xm), _t(xe))
        m2e = retrieval_score(em, mum, vm, ee, mue, ve, lam)
        e2m = retrieval_score(ee, mue, ve, em, mum, vm, lam)
    return m2e.numpy(), e2m.numpy()


def _val_mrr_cmer(model, xm, xe, lam) -> float:
    m2e, e2m = cmer_scores(model, xm, xe, lam)
    if not (np.isfinite(m2e).all() and np.isfinite(e2m).all()):
        return float("nan")
    return 0.5 * (mrr(ranks_from_scores(m2e)) + mrr(ranks_from_scores(e2m)))


def fit_cmer(xm_tr, xe_tr, xm_va, xe_va, cfg: Dict, seed: int) -> Tuple[CMERCL, Dict]:
    """Train CMER-CL with the composite loss; early stopping on mean validation MRR."""
    torch.manual_seed(seed)
    lam, alpha = float(cfg["lam"]), float(cfg["alpha"])
    model = CMERCL(
        d_music=xm_tr.shape[-1],
        d_emotion=xe_tr.shape[-1],
        d_emb=int(cfg["d_emb"]),
        music_encoder=cfg["music_encoder"],
        emotion_encoder=cfg["emotion_encoder"],
        music_cfg=cfg.get("music", {}),
        emotion_cfg=cfg.get("emotion", {}),
    )
    opt = torch.optim.Adam(model.parameters(), lr=float(cfg["lr"]), weight_decay=float(cfg.get("weight_decay", 0)))
    xm, xe = _t(xm_tr), _t(xe_tr)
    reg = float(cfg.get("cca_reg", 1e-3))
    # Sec. 3.3.1: retrieval uses E = W^T FC(f); false = raw FC outputs (before issue 5's fix)
    project = bool(cfg.get("cca_projection", True))
    best, best_state, bad = -np.inf, None, 0
    curve, diverged = [], False
    every, patience = int(cfg.get("eval_every", 10)), int(cfg.get("patience", 10))
    for epoch in range(1, int(cfg["epochs"]) + 1):
        model.train()
        (em, mum, vm), (ee, mue, ve) = model(xm, xe)
        loss, cca, kl = composite_loss(
            em,
            ee,
            mum,
            vm,
            mue,
            ve,
            lam,
            alpha,
            reg,
            bool(cfg.get("printed_margin_sign", False)),
            str(cfg.get("kl_reduction", "sum")),
        )
        if not torch.isfinite(loss):
            # e.g. d_emb far above the batch size: the CCA covariances are rank-deficient and
            # the eigen-decomposition's gradient blows up. Keep the best weights so far.
            log.warning("CMER-CL loss is %s at epoch %d: training stopped", loss.item(), epoch)
            diverged = True
            break
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 10.0)
        opt.step()
        if epoch % every == 0:
            if project:
                model.fit_cca(xm, xe, reg)  # E = W^T FC(f) with W from the training items
            v = _val_mrr_cmer(model, xm_va, xe_va, lam)
            if not np.isfinite(v):
                log.warning("CMER-CL validation scores are not finite at epoch %d: stopped", epoch)
                diverged = True
                break
            curve.append(
                {
                    "epoch": epoch,
                    "loss": loss.item(),
                    "cca": cca.item(),
                    "kl": kl.item(),
                    "val_mrr": v,
                }
            )
            if v > best + 1e-9:
                best, best_state, bad = v, copy.deepcopy(model.state_dict()), 0
            else:
                bad += 1
                if bad >= patience:
                    break
            model.reset_cca()  # train on the raw FC outputs, as the CCA loss expects
    if diverged and best_state is None:
        raise RuntimeError(
            f"CMER-CL diverged (non-finite loss or scores) at epoch {epoch}, before its first "
            f"validation (d_emb={cfg['d_emb']}, lr={cfg['lr']}): expected a finite model"
        )
    if best_state is not None:
        model.load_state_dict(best_state)  # holds the projection fitted at that epoch
    elif project:
        model.fit_cca(xm, xe, reg)
    return model, {
        "curve": curve,
        "best_val_mrr": float(best),
        "epochs_run": epoch,
        "diverged": diverged,
    }


def fit_regressor(kind: str, x_tr, y_tr, x_va, y_va, cfg: Dict, seed: int) -> Tuple[torch.nn.Module, Dict]:
    """RegMLP / RegBiGRU trained with MAE (the paper's baselines).

    Early stopping on the validation MAE (``early_stop = "mae"``, default) or, to select the
    baselines on the same criterion as CMER-CL, on the validation retrieval MRR (``"mrr"``).
    """
    stop_on = cfg.get("early_stop", "mae")
    if stop_on not in ("mae", "mrr"):
        raise ValueError(f"baseline early_stop {stop_on!r}: expected 'mae' or 'mrr'")
    torch.manual_seed(seed)
    d_in, d_out = x_tr.shape[-1], y_tr.shape[-1]
    units = tuple(cfg.get("units", (64, 64)))
    dropout = float(cfg.get("dropout", 0.2))
    if kind == "regmlp":
        model = RegMLP(d_in, d_out, units, dropout)
    elif kind == "regbigru":
        model = RegBiGRU(d_in, d_out, int(cfg.get("hidden", 32)), units, dropout)
    else:
        raise ValueError(f"regressor kind {kind!r}: expected 'regmlp' or 'regbigru'")
    opt = torch.optim.Adam(model.parameters(), lr=float(cfg["lr"]), weight_decay=float(cfg.get("weight_decay", 0)))
    xt, yt, xv, yv = _t(x_tr), _t(y_tr), _t(x_va), _t(y_va)
    best, best_state, bad, curve, best_point = np.inf, None, 0, [], {}
    every, patience = int(cfg.get("eval_every", 10)), int(cfg.get("patience", 10))
    for epoch in range(1, int(cfg["epochs"]) + 1):
        model.train()
        loss = (model(xt) - yt).abs().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        if epoch % every == 0:
            model.eval()
            with torch.no_grad():
                v = float((model(xv) - yv).abs().mean())
            point = {"epoch": epoch, "loss": loss.item(), "val_mae": v}
            if stop_on == "mrr":  # minimise -MRR so the comparison below stays one-sided
                point["val_mrr"] = mrr(ranks_from_scores(regressor_scores(model, x_va, y_va)))
                v = -point["val_mrr"]
            curve.append(point)
            if v < best - 1e-9:
                best, best_state, bad, best_point = v, copy.deepcopy(model.state_dict()), 0, point
            else:
                bad += 1
                if bad >= patience:
                    break
    if best_state is not None:
        model.load_state_dict(best_state)
    info = {"curve": curve, "epochs_run": epoch, "early_stop": stop_on}
    info.update({f"best_{k}": float(v) for k, v in best_point.items() if k.startswith("val_")})
    info.setdefault("best_val_mae", float("inf"))  # no validation point was reached
    return model, info


def regressor_scores(model: torch.nn.Module, x_query: np.ndarray, y_targets: np.ndarray) -> np.ndarray:
    """S[q, t] = -sum|f(x_q) - y_t| (the paper ranks targets by ascending absolute error)."""
    model.eval()
    with torch.no_grad():
        pred = model(_t(x_query)).numpy()
    y = np.asarray(y_targets).reshape(len(y_targets), -1)
    return -np.abs(pred[:, None, :] - y[None, :, :]).sum(-1)


def evaluate_pair(m2e: np.ndarray, e2m: np.ndarray, va_desc: np.ndarray, feat_desc: np.ndarray) -> Dict:
    """Both directions. M2E's top-5 % cosine compares music features, E2M's compares VA (Sec. 5)."""
    return {"m2e": retrieval_report(m2e, feat_desc), "e2m": retrieval_report(e2m, va_desc)}
