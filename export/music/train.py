"""Music VA model on Soundtracks110: 10-fold CV (by film and by excerpt), baselines, transfer.

:func:`run` (``cardiotune train music`` / ``cardiotune evaluate music``):

1. 10-fold group CV on the published librosa features -> (Valence, Energy) ratings, with
   two grouping rules: by *film* (stricter: excerpts of one score never straddle a split)
   and by *excerpt* (= song). Out-of-fold predictions give pooled R^2. Same folds for the
   MLP (Gaussian NLL, small seed ensemble), ridge (alpha picked on the inner validation
   split) and the training-mean predictor.
2. A final model fitted on all 110 excerpts is saved as the checkpoint and applied to
   features that :mod:`.features` computes from the 5 emoMusic clips, compared with their
   emoMusic ratings (n = 5: a sanity check, not a result).
"""

from __future__ import annotations

import json
import logging
import os
import time
from typing import Dict, Optional

import numpy as np
import torch

from cardiotune.errors import ConfigError, DataError

from .. import splits
from ..data.music import load_emomusic, load_soundtracks110
from .model import fit_music_model, predict, r2, ridge_fit, ridge_predict
from .svr import NestedSVR

log = logging.getLogger(__name__)

__all__ = ["run", "load_config", "cv_predictions"]


def load_config(path: str) -> Dict:
    try:
        import tomllib
    except ImportError:  # pragma: no cover
        import tomli as tomllib
    if not os.path.isfile(path):
        raise ConfigError("config", path, "an existing TOML file")
    with open(path, "rb") as f:
        cfg = tomllib.load(f)
    for key in ("data", "model", "ridge"):
        if key not in cfg:
            raise ConfigError(key, None, f"a [{key}] table", path)
    required = {"data": ("folds", "val_fraction"), "model": ("lr", "epochs"), "ridge": ("alphas",)}
    for table, keys in required.items():
        for k in keys:
            if k not in cfg[table]:
                raise ConfigError(f"{table}.{k}", None, "a value (see music.toml)", path)
    return cfg


def _data_root(cfg: Dict) -> str:
    root = cfg["data"].get("root") or os.environ.get("CARDIOTUNE_DATA")
    if not root:
        raise DataError(
            "CARDIOTUNE_DATA is not set (or [data].root): point it at the folder holding music/"
        )
    return root


def _fit_ensemble(x_tr, y_tr, x_va, y_va, cfg, seeds):
    """Early-stop on (x_va, y_va), then refit on train + validation for the best epoch count
    (as ridge is refit on the whole training fold after alpha is chosen)."""
    models, infos = [], []
    x_all, y_all = np.concatenate([x_tr, x_va]), np.concatenate([y_tr, y_va])
    for s in seeds:
        _, info = fit_music_model(x_tr, y_tr, x_va, y_va, cfg, s)
        m, _ = fit_music_model(
            x_all, y_all, None, None, cfg, s, fixed_epochs=max(info["best_epoch"], 1)
        )
        models.append(m)
        infos.append(info)
    return models, infos


def _ens_predict(models, x):
    preds = [predict(m, x) for m in models]
    mu = np.mean([p[0] for p in preds], 0)
    # total variance = mean aleatoric variance + spread of the ensemble means
    var = np.mean([p[1] for p in preds], 0) + np.var([p[0] for p in preds], 0)
    return mu, var


def _pick_ridge_alpha(x_tr, y_tr, x_va, y_va, alphas):
    errs = [((ridge_predict(ridge_fit(x_tr, y_tr, a), x_va) - y_va) ** 2).mean() for a in alphas]
    return float(alphas[int(np.argmin(errs))])


def cv_predictions(x, y, groups, cfg: Dict, k: int, seed: int = 0):
    """Out-of-fold predictions of MLP ensemble, ridge and mean predictor (group k-fold)."""
    from tqdm.auto import tqdm

    mcfg, seeds = cfg["model"], [int(s) for s in cfg["model"].get("seeds", [0])]
    alphas = np.asarray(cfg["ridge"]["alphas"], dtype=float)
    oof = {n: np.zeros_like(y) for n in ("mlp", "svr", "ridge", "mean")}
    svr_grid = cfg.get("svr", {}).get("grid")
    svr_chosen = []
    var = np.zeros_like(y)
    fold_r2 = {n: [] for n in oof}
    curves = []
    folds = list(splits.group_kfold(groups, k, seed))
    for tr, te in tqdm(folds, desc=f"music cv ({k} folds)", unit="fold"):
        splits.assert_disjoint(groups, tr, te)
        i_tr, i_va = splits.group_holdout(groups[tr], float(cfg["data"]["val_fraction"]), seed)
        a, v = tr[i_tr], tr[i_va]
        models, infos = _fit_ensemble(x[a], y[a], x[v], y[v], mcfg, seeds)
        curves.append(infos[0]["curve"])
        oof["mlp"][te], var[te] = _ens_predict(models, x[te])
        alpha = _pick_ridge_alpha(x[a], y[a], x[v], y[v], alphas)
        oof["ridge"][te] = ridge_predict(ridge_fit(x[tr], y[tr], alpha), x[te])
        svr = NestedSVR(svr_grid).fit(x[tr], y[tr], groups[tr])  # inner CV grouped as outer
        oof["svr"][te] = svr.predict(x[te])
        svr_chosen.append(svr.chosen)
        oof["mean"][te] = y[tr].mean(0)
        for n in oof:
            fold_r2[n].append(r2(y[te], oof[n][te]).tolist())
    return oof, var, fold_r2, curves, svr_chosen


def _metrics(y, oof, var, fold_r2):
    out = {}
    for n, p in oof.items():
        pooled = r2(y, p)
        fr = np.asarray(fold_r2[n])
        out[n] = {
            "r2_valence": float(pooled[0]),
            "r2_arousal": float(pooled[1]),
            "fold_r2_valence_mean": float(fr[:, 0].mean()),
            "fold_r2_valence_sd": float(fr[:, 0].std()),
            "fold_r2_arousal_mean": float(fr[:, 1].mean()),
            "fold_r2_arousal_sd": float(fr[:, 1].std()),
            "mae_valence": float(np.abs(y[:, 0] - p[:, 0]).mean()),
            "mae_arousal": float(np.abs(y[:, 1] - p[:, 1]).mean()),
        }
    z = (y - oof["mlp"]) ** 2 / var
    out["mlp"]["mean_z2"] = float(z.mean())  # ~1 when the predicted variance is calibrated
    return out


def run(config_path: str, out_dir: Optional[str] = None, resume: bool = False) -> Dict:
    """Run the CV, save the final checkpoint + card inputs, write JSON and plots to ``out_dir``.

    ``resume``: reuse ``out_dir/music_metrics.json`` if present (the whole run takes about a
    minute, so there is nothing finer-grained to resume).
    """
    cfg = load_config(config_path)
    out_dir = out_dir or os.path.join("runs", "music")
    os.makedirs(out_dir, exist_ok=True)
    mpath = os.path.join(out_dir, "music_metrics.json")
    if resume and os.path.isfile(mpath):
        with open(mpath) as f:
            return json.load(f)
    torch.set_num_threads(1)
    t0 = time.time()
    root = _data_root(cfg)
    st = load_soundtracks110(os.path.join(root, "music", "soundtracks110"))
    x = st.features
    y = np.stack([st.static.valence, st.static.arousal], 1)  # [Valence, Energy], 1-9
    k = int(cfg["data"]["folds"])
    result: Dict = {
        "task": "Soundtracks110: librosa summary features -> Valence, Energy (1-9)",
        "n": int(len(y)),
        "folds": k,
        "config": cfg,
    }
    oof_film = None
    curves = None
    for rule, groups in (("by_film", st.film), ("by_excerpt", st.static.song_ids)):
        oof, var, fr, cv_curves, chosen = cv_predictions(x, y, np.asarray(groups), cfg, k)
        result[rule] = _metrics(y, oof, var, fr)
        result[rule]["svr"]["chosen_per_fold"] = chosen
        if rule == "by_film":
            oof_film, curves = oof, cv_curves
    # final model on everything (inner validation by film for early stopping)
    seeds = [int(s) for s in cfg["model"].get("seeds", [0])]
    i_tr, i_va = splits.group_holdout(st.film, float(cfg["data"]["val_fraction"]), 0)
    models, _ = _fit_ensemble(x[i_tr], y[i_tr], x[i_va], y[i_va], cfg["model"], seeds)
    ck_dir = cfg.get("output", {}).get("checkpoint_dir")
    if ck_dir:
        _save_checkpoint(models, ck_dir, cfg, result)
    svr = NestedSVR(cfg.get("svr", {}).get("grid")).fit(x, y, np.asarray(st.film))
    result["svr_final_chosen"] = svr.chosen
    result["emomusic_clips"] = _emomusic_transfer(models, x, y, root, cfg, svr)
    result["seconds"] = round(time.time() - t0, 1)
    with open(mpath, "w") as f:
        json.dump(result, f, indent=2)
    _plots(y, oof_film, curves, out_dir)
    return result


def _emomusic_transfer(models, x, y, root: str, cfg: Dict, svr=None) -> Dict:
    """Apply the Soundtracks110 model to our own features of the 5 emoMusic clips."""
    from .features import file_features

    em = load_emomusic(os.path.join(root, "music", "emomusic"), dynamic=False)
    ids = [int(s) for s in em.static.song_ids if em.clip_path(int(s))]
    if not ids:
        return {"n": 0, "note": "no clips found"}
    feats = np.stack([file_features(em.clip_path(i)) for i in ids])
    pos = {int(s): j for j, s in enumerate(em.static.song_ids)}
    truth = np.array([[em.static.valence[pos[i]], em.static.arousal[pos[i]]] for i in ids])
    mu, var = _ens_predict(models, feats)
    alpha = float(np.median(cfg["ridge"]["alphas"]))
    rp = ridge_predict(ridge_fit(x, y, alpha), feats)
    preds = [("mlp", mu), ("ridge", rp)]
    if svr is not None:
        preds.append(("svr", svr.predict(feats)))
    out = {
        "n": len(ids),
        "song_ids": ids,
        "truth_va": truth.tolist(),
        "mlp_va": mu.tolist(),
        "mlp_var": var.tolist(),
        "ridge_va": rp.tolist(),
        "svr_va": preds[-1][1].tolist() if svr is not None else None,
        "note": "n = 5 clips: a sanity check of feature parity, not an accuracy estimate",
    }
    for n, p in preds:
        for j, d in enumerate(("valence", "arousal")):
            out[f"{n}_pearson_{d}"] = float(np.corrcoef(truth[:, j], p[:, j])[0, 1])
            out[f"{n}_mae_{d}"] = float(np.abs(truth[:, j] - p[:, j]).mean())
    return out


def _save_checkpoint(models, ck_dir: str, cfg: Dict, result: Dict) -> None:
    os.makedirs(ck_dir, exist_ok=True)
    state = {
        "state_dicts": [m.state_dict() for m in models],
        "d_in": int(models[0].x_mean.numel()),
        "units": list(cfg["model"].get("units", [32, 16])),
        "va_order": ["valence", "arousal"],
        "scale": [1.0, 9.0],
        "features": "Soundtracks110 librosa summary (export.music.features)",
    }
    torch.save(state, os.path.join(ck_dir, "music_va.pt"))
    summary = {k: result[k] for k in ("by_film", "by_excerpt") if k in result}
    with open(os.path.join(ck_dir, "metrics.json"), "w") as f:
        json.dump(summary, f, indent=2)


def _plots(y, oof, curves, out_dir: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(1, 2, figsize=(9, 4))
    for j, name in enumerate(("Valence", "Energy (arousal)")):
        ax[j].scatter(y[:, j], oof["mlp"][:, j], s=12, label="MLP (out-of-fold)")
        ax[j].scatter(y[:, j], oof["svr"][:, j], s=12, marker="^", label="SVR (nested CV)")
        ax[j].scatter(y[:, j], oof["ridge"][:, j], s=12, marker="x", label="ridge")
        ax[j].plot([1, 9], [1, 9], "k--", lw=0.8)
        ax[j].set_xlabel(f"true {name}")
        ax[j].set_ylabel("predicted")
        ax[j].legend(fontsize=8)
    fig.suptitle("Soundtracks110, 10-fold CV by film")
    fig.tight_layout()
    fig.savefig(os.path.join(out_dir, "music_pred_vs_true.png"), dpi=100)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for i, c in enumerate(curves[:3]):
        ax.plot(
            [e["epoch"] for e in c],
            [e["train_nll"] for e in c],
            color=f"C{i}",
            label=f"fold {i} train NLL",
        )
        ax.plot(
            [e["epoch"] for e in c],
            [e["val_nll"] for e in c],
            "--",
            color=f"C{i}",
            label=f"fold {i} val NLL",
        )
    ax.set_xlabel("epoch")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(os.path.join(out_dir, "music_learning_curve.png"), dpi=100)
    plt.close(fig)
