"""CardioMusic similarity vs the L3-Net/ACP-Net fusion baseline, cross-validated by film.

No ECG recording with VA labels is available here (see the data README), so the query
modality in this evaluation is the listeners' *discrete-emotion* rating profile of a
Soundtracks110 excerpt (Tension, Anger, Fear, Happy, Sad, Tender, Beauty - Valence and
Energy excluded), and the music modality is the excerpt's librosa features. The target of a
(query i, music j) pair is :func:`similarity_target` of their (Valence, Energy) in [0, 1].
Both modalities must be mapped to VA, as with ECG. The same code takes ECG features as the
query once an ECG data set with VA labels is available.

Models, same folds, same pairs: CardioMusic (similarity + VA losses), CardioMusic w/o VA
(similarity loss only), CardioMusic w/o S (VA branches only; similarity = target formula
on predicted VA), FusionNet (L3-Net/ACP-Net style), and a constant predictor.
"""

from __future__ import annotations

import copy
from typing import Dict

import numpy as np
import torch

from .. import splits
from .similarity import CardioMusicNet, FusionNet, cardiomusic_loss, similarity_target

__all__ = ["QUERY_RATINGS", "pair_tensors", "fit_similarity", "similarity_cv"]

QUERY_RATINGS = ["Tension", "Anger", "Fear", "Happy", "Sad", "Tender", "Beauty"]


def pair_tensors(xq: np.ndarray, xm: np.ndarray, va01: np.ndarray, idx: np.ndarray):
    """All ordered pairs (i, j) of items in ``idx``: query i, music j, target from VA."""
    i, j = np.meshgrid(idx, idx, indexing="ij")
    i, j = i.ravel(), j.ravel()
    t = lambda a: torch.as_tensor(a, dtype=torch.float32)  # noqa: E731
    vq, vm = t(va01[i]), t(va01[j])
    return t(xq[i]), t(xm[j]), vq, vm, similarity_target(vq, vm)


def fit_similarity(kind: str, train, val, cfg: Dict, seed: int):
    torch.manual_seed(seed)
    xq, xm, vq, vm, s = train
    units, dropout = tuple(cfg.get("units", (32,))), float(cfg.get("dropout", 0.2))
    if kind == "fusion":
        model, w_va = FusionNet(xq.shape[1], xm.shape[1], units, dropout), 0.0
    else:
        model = CardioMusicNet(xq.shape[1], xm.shape[1], units, dropout)
        w_va = {"cardiomusic": 1.0, "cardiomusic_wo_va": 0.0, "cardiomusic_wo_s": 1.0}[kind]
    opt = torch.optim.Adam(
        model.parameters(), lr=float(cfg["lr"]), weight_decay=float(cfg.get("weight_decay", 0))
    )
    best, state, bad = np.inf, None, 0
    for epoch in range(1, int(cfg["epochs"]) + 1):
        model.train()
        out = model(xq, xm)
        if kind == "cardiomusic_wo_s":  # VA branches only
            loss = ((out["va_q"] - vq) ** 2).mean() + ((out["va_m"] - vm) ** 2).mean()
        else:
            loss = cardiomusic_loss(out, s, vq, vm, w_va)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if epoch % int(cfg.get("eval_every", 10)) == 0:
            v = float(((predict_similarity(kind, model, val[0], val[1]) - val[4]) ** 2).mean())
            if v < best - 1e-9:
                best, state, bad = v, copy.deepcopy(model.state_dict()), 0
            else:
                bad += 1
                if bad >= int(cfg.get("patience", 10)):
                    break
    if state is not None:
        model.load_state_dict(state)
    return model


def predict_similarity(kind: str, model, xq, xm) -> torch.Tensor:
    model.eval()
    with torch.no_grad():
        out = model(xq, xm)
        if kind == "cardiomusic_wo_s":
            return similarity_target(out["va_q"], out["va_m"])
        return out["sim"]


def similarity_cv(
    ratings: Dict[str, np.ndarray],
    feat: np.ndarray,
    va01: np.ndarray,
    groups,
    cfg: Dict,
    folds: int,
    seeds,
) -> Dict:
    """Similarity MSE on held-out pairs (both items of a pair from held-out films)."""
    from tqdm.auto import tqdm

    q_raw = np.stack([ratings[c] for c in QUERY_RATINGS], 1)
    kinds = ["cardiomusic", "cardiomusic_wo_va", "cardiomusic_wo_s", "fusion", "constant"]
    res = {k: [] for k in kinds}
    va_mse = []
    jobs = [
        (s, k, tr, te)
        for s in seeds
        for k, (tr, te) in enumerate(splits.group_kfold(groups, folds, s))
    ]
    for s, _, tr, te in tqdm(jobs, desc="similarity cv", unit="fold"):
        splits.assert_disjoint(groups, tr, te)
        i_tr, i_va = splits.group_holdout(groups[tr], float(cfg.get("val_fraction", 0.2)), s)
        a, v = tr[i_tr], tr[i_va]
        qm, qs = q_raw[a].mean(0), q_raw[a].std(0) + 1e-8
        fm, fs = feat[a].mean(0), feat[a].std(0) + 1e-8
        xq, xm = (q_raw - qm) / qs, (feat - fm) / fs
        tr_p, va_p, te_p = (pair_tensors(xq, xm, va01, ix) for ix in (a, v, te))
        for kind in kinds[:-1]:
            model = fit_similarity(kind, tr_p, va_p, cfg, s)
            pred = predict_similarity(kind, model, te_p[0], te_p[1])
            res[kind].append(float(((pred - te_p[4]) ** 2).mean()))
            if kind == "cardiomusic":
                model.eval()
                with torch.no_grad():
                    vq, vm = model.branches(te_p[0], te_p[1])
                va_mse.append(
                    [float(((vq - te_p[2]) ** 2).mean()), float(((vm - te_p[3]) ** 2).mean())]
                )
        res["constant"].append(float(((tr_p[4].mean() - te_p[4]) ** 2).mean()))
    out = {
        k: {"sim_mse_mean": float(np.mean(v)), "sim_mse_sd": float(np.std(v))}
        for k, v in res.items()
    }
    vm = np.asarray(va_mse)
    out["cardiomusic"]["query_va_mse"] = float(vm[:, 0].mean())
    out["cardiomusic"]["music_va_mse"] = float(vm[:, 1].mean())
    return out
