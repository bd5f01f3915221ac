"""CMER-CL cross-validated training/evaluation against RegMLP and RegBiGRU, and the lambda sweep.

Honest pairing used (see the model card): the only real data here with both audio
features and emotion ratings of the *same* pieces is Soundtracks110 (110 film-music
excerpts: published librosa features <-> mean Valence / Energy ratings). Each music item is
a length-1 feature sequence, each emotion a length-1 [valence, arousal] sequence (the
ratings are static), so the BiGRU emotion encoder sees T = 1. emoMusic/DEAM dynamic VA
sequences have no audio features here and cannot be paired.

Entry point: :func:`run` (``cardiotune train cmer`` / ``cardiotune evaluate retrieval``).
"""

from __future__ import annotations

import json
import logging
import os
import time
from typing import Dict, List, Optional

import numpy as np
import torch

from cardiotune.errors import ConfigError, DataError

from .. import splits
from ..data.music import load_soundtracks110
from .fit import cmer_scores, evaluate_pair, fit_cmer, fit_regressor, regressor_scores
from .sim_train import similarity_cv

log = logging.getLogger(__name__)

__all__ = ["run", "load_config", "prepare_soundtracks", "cv_unit"]


def load_config(path: str) -> Dict:
    try:
        import tomllib
    except ImportError:  # pragma: no cover - py<3.11
        import tomli as tomllib
    if not os.path.isfile(path):
        raise ConfigError("config", path, "an existing TOML file")
    with open(path, "rb") as f:
        cfg = tomllib.load(f)
    for key in ("data", "cmer", "baseline"):
        if key not in cfg:
            raise ConfigError(key, None, f"a [{key}] table", path)
    required = {
        "data": ("folds", "val_fraction", "seeds"),
        "cmer": ("lam", "alpha", "d_emb", "music_encoder", "emotion_encoder", "lr", "epochs"),
        "baseline": ("lr", "epochs"),
    }
    for table, keys in required.items():
        for k in keys:
            if k not in cfg[table]:
                raise ConfigError(f"{table}.{k}", None, "a value (see cmer.toml)", path)
    if not 0.0 <= float(cfg["cmer"]["lam"]) <= 1.0:
        raise ConfigError("cmer.lam", cfg["cmer"]["lam"], "a number in [0, 1]", path)
    return cfg


def music_root(cfg: Dict) -> str:
    root = cfg["data"].get("root") or os.environ.get("CARDIOTUNE_DATA")
    if not root:
        raise DataError(
            "CARDIOTUNE_DATA is not set (or [data].root): point it at the folder holding music/"
        )
    return os.path.join(root, "music", cfg["data"].get("dataset", "soundtracks110"))


def prepare_soundtracks(root: str):
    st = load_soundtracks110(root)
    va = st.static.va(-1.0, 1.0)  # [valence, energy] in [-1, 1]
    return st.features, va, st.static.groups


def _standardise(x_fit: np.ndarray, *xs: np.ndarray):
    mu, sd = x_fit.mean(0), x_fit.std(0) + 1e-8
    return [(x - mu) / sd for x in xs]


def cv_unit(
    feat,
    va,
    groups,
    tr,
    te,
    cfg: Dict,
    seed: int,
    lam: Optional[float] = None,
    baselines: bool = True,
) -> Dict:
    """Train on ``tr`` (inner val split by group), evaluate on ``te``. Returns metrics."""
    splits.assert_disjoint(groups, tr, te)
    i_tr, i_va = splits.group_holdout(groups[tr], float(cfg["data"]["val_fraction"]), seed)
    a, v = tr[i_tr], tr[i_va]
    splits.assert_disjoint(groups, a, v, te)
    xa, xv, xt = _standardise(feat[a], feat[a], feat[v], feat[te])
    seq = lambda x: x[:, None, :]  # noqa: E731 - static items are length-1 sequences
    ccfg = dict(cfg["cmer"])
    if lam is not None:
        ccfg["lam"] = lam
    out: Dict = {}
    model, info = fit_cmer(seq(xa), seq(va[a]), seq(xv), seq(va[v]), ccfg, seed)
    m2e, e2m = cmer_scores(model, seq(xt), seq(va[te]), float(ccfg["lam"]))
    out["cmer"] = evaluate_pair(m2e, e2m, va[te], xt)
    out["cmer"]["train"] = info
    if baselines:
        bcfg = cfg["baseline"]
        for kind in ("regmlp", "regbigru"):
            mm, mi = fit_regressor(kind, seq(xa), va[a], seq(xv), va[v], bcfg, seed)
            em, ei = fit_regressor(kind, seq(va[a]), xa, seq(va[v]), xv, bcfg, seed)
            res = evaluate_pair(
                regressor_scores(mm, seq(xt), va[te]),
                regressor_scores(em, seq(va[te]), xt),
                va[te],
                xt,
            )
            res["train"] = {"m2e": mi, "e2m": ei}
            out[kind] = res
    out["n_test"] = int(len(te))
    return out


def _summ(units: List[Dict], model: str) -> Dict:
    out = {}
    for d in ("m2e", "e2m"):
        for m in ("mrr", "average_rank", "top5pct_cosine_mean", "chance_mrr"):
            vals = np.array([u[model][d][m] for u in units])
            out[f"{d}_{m}"] = {"mean": float(vals.mean()), "sd": float(vals.std())}
    return out


def _per_session(results: Dict, seeds, folds, model: str) -> Dict:
    """Mean over folds per session (seed), then mean +- sd over sessions (as the paper)."""
    sess = []
    for s in seeds:
        units = [results[f"s{s}f{k}"] for k in range(folds) if f"s{s}f{k}" in results]
        sess.append({k: v["mean"] for k, v in _summ(units, model).items()})
    keys = sess[0].keys()
    return {
        k: {"mean": float(np.mean([x[k] for x in sess])), "sd": float(np.std([x[k] for x in sess]))}
        for k in keys
    }


def run(
    config_path: str,
    out_dir: Optional[str] = None,
    resume: bool = False,
    sweep: bool = True,
    similarity: bool = True,
    procedural: bool = False,
) -> Dict:
    """Cross-validated CMER-CL vs baselines (+ lambda sweep); writes JSON, PNGs, checkpoint."""
    from tqdm.auto import tqdm

    cfg = load_config(config_path)
    out_dir = out_dir or os.path.join("runs", "cmer")
    os.makedirs(out_dir, exist_ok=True)
    torch.set_num_threads(1)
    feat, va, groups = prepare_soundtracks(music_root(cfg))
    folds, seeds = int(cfg["data"]["folds"]), [int(s) for s in cfg["data"]["seeds"]]
    prog_path = os.path.join(out_dir, "progress.json")
    done: Dict = {}
    if resume and os.path.isfile(prog_path):
        with open(prog_path) as f:
            done = json.load(f)
        log.info("resuming: %d units already done", len(done))
    t0 = time.time()
    units = []
    for s in seeds:
        for k, (tr, te) in enumerate(splits.group_kfold(groups, folds, seed=s)):
            units.append((f"s{s}f{k}", s, tr, te, None, True))
    sweep_cfg = cfg.get("sweep", {})
    if sweep and sweep_cfg:
        for lam in sweep_cfg["lams"]:
            for s in sweep_cfg["seeds"]:
                for k, (tr, te) in enumerate(splits.group_kfold(groups, folds, seed=s)):
                    units.append((f"lam{lam:.2f}s{s}f{k}", s, tr, te, float(lam), False))
    for key, s, tr, te, lam, base in tqdm(units, desc="cmer cv", unit="fit"):
        if key in done:
            continue
        done[key] = cv_unit(feat, va, groups, tr, te, cfg, s, lam=lam, baselines=base)
        with open(prog_path + ".tmp", "w") as f:
            json.dump(done, f)
        os.replace(prog_path + ".tmp", prog_path)
    summary = {m: _per_session(done, seeds, folds, m) for m in ("cmer", "regmlp", "regbigru")}
    best_base = {
        d: max(summary["regmlp"][f"{d}_mrr"]["mean"], summary["regbigru"][f"{d}_mrr"]["mean"])
        for d in ("m2e", "e2m")
    }
    ratio = {d: summary["cmer"][f"{d}_mrr"]["mean"] / best_base[d] for d in ("m2e", "e2m")}
    sweep_res = {}
    if sweep and sweep_cfg:
        for lam in sweep_cfg["lams"]:
            us = [done[f"lam{lam:.2f}s{s}f{k}"] for s in sweep_cfg["seeds"] for k in range(folds)]
            sweep_res[f"{lam:.2f}"] = {
                d: {
                    "mrr_mean": float(np.mean([u["cmer"][d]["mrr"] for u in us])),
                    "mrr_sd": float(np.std([u["cmer"][d]["mrr"] for u in us])),
                    "ar_mean": float(np.mean([u["cmer"][d]["average_rank"] for u in us])),
                }
                for d in ("m2e", "e2m")
            }
    result = {
        "task": "CMER-CL retrieval on Soundtracks110 (librosa features <-> [valence, energy])",
        "protocol": f"{folds}-fold group CV by film, sessions (seeds) {seeds}; "
        "rank within each held-out fold",
        "config": cfg,
        "summary": summary,
        "mrr_ratio_cmer_over_best_baseline": ratio,
        "lambda_sweep": sweep_res,
        "seconds": round(time.time() - t0, 1),
    }
    if similarity and "similarity" in cfg:
        st = load_soundtracks110(music_root(cfg))
        scfg = cfg["similarity"]
        result["similarity"] = similarity_cv(
            st.ratings, st.features, st.static.va(0.0, 1.0), st.film, scfg, folds, scfg["seeds"]
        )
        result["similarity"]["protocol"] = (
            "query = discrete-emotion ratings (no ECG with VA labels available), music = librosa "
            f"features; {folds}-fold CV by film, all pairs among held-out excerpts"
        )
    if procedural:
        from .procedural import procedural_retrieval

        result["procedural_catalog"] = procedural_retrieval(feat, va, groups, cfg, seeds)
    ck_dir = cfg.get("output", {}).get("checkpoint_dir")
    if ck_dir:
        _save_final(feat, va, groups, cfg, ck_dir, result)
    result["seconds"] = round(time.time() - t0, 1)
    with open(os.path.join(out_dir, "retrieval_metrics.json"), "w") as f:
        json.dump(result, f, indent=2)
    _plots(done, sweep_res, out_dir, seeds[0], summary)
    return result


def _save_final(feat, va, groups, cfg: Dict, ck_dir: str, result: Dict) -> None:
    """CMER-CL fitted on all of Soundtracks110 (early stopping on a by-film holdout)."""
    i_tr, i_va = splits.group_holdout(groups, float(cfg["data"]["val_fraction"]), 0)
    mu, sd = feat[i_tr].mean(0), feat[i_tr].std(0) + 1e-8
    z = (feat - mu) / sd
    model, info = fit_cmer(
        z[i_tr, None], va[i_tr, None], z[i_va, None], va[i_va, None], cfg["cmer"], 0
    )
    os.makedirs(ck_dir, exist_ok=True)
    torch.save(
        {
            "state_dict": model.state_dict(),
            "config": cfg["cmer"],
            "feature_mean": mu.tolist(),
            "feature_std": sd.tolist(),
            "emotion_input": "[valence, arousal] in [-1, 1], (B, T, 2)",
            "music_input": "Soundtracks110 librosa summary features (export.music.features), "
            "(B, T, 25)",
        },
        os.path.join(ck_dir, "cmer_cl.pt"),
    )
    with open(os.path.join(ck_dir, "metrics.json"), "w") as f:
        json.dump(
            {
                k: result[k]
                for k in (
                    "protocol",
                    "summary",
                    "mrr_ratio_cmer_over_best_baseline",
                    "similarity",
                    "procedural_catalog",
                )
                if k in result
            },
            f,
            indent=2,
        )


def _plots(done: Dict, sweep_res: Dict, out_dir: str, seed: int, summary: Optional[Dict] = None) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curve = done[f"s{seed}f0"]["cmer"]["train"]["curve"]
    fig, ax = plt.subplots(1, 2, figsize=(9, 3.5))
    ep = [c["epoch"] for c in curve]
    ax[0].plot(ep, [c["loss"] for c in curve], label="composite loss (train)")
    ax[0].set_xlabel("epoch")
    ax[0].legend()
    ax[1].plot(ep, [c["val_mrr"] for c in curve], label="val MRR (mean M2E/E2M)")
    ax[1].set_xlabel("epoch")
    ax[1].legend()
    fig.suptitle(f"CMER-CL learning curve (session {seed}, fold 0)")
    fig.tight_layout()
    fig.savefig(os.path.join(out_dir, "cmer_learning_curve.png"), dpi=100)
    plt.close(fig)
    if sweep_res:
        lams = sorted(float(k) for k in sweep_res)
        fig, ax = plt.subplots(figsize=(6, 4.5))
        for d, colour in (("m2e", "C0"), ("e2m", "C1")):
            m = np.array([sweep_res[f"{x:.2f}"][d]["mrr_mean"] for x in lams])
            s = np.array([sweep_res[f"{x:.2f}"][d]["mrr_sd"] for x in lams])
            ax.errorbar(lams, m, yerr=s, marker="o", capsize=3, color=colour, label=d.upper())
            if summary:  # the better baseline of the main run and the 1.5x target
                base = max(summary[k][f"{d}_mrr"]["mean"] for k in ("regmlp", "regbigru"))
                ax.axhline(base, color=colour, ls="--", lw=1, label=f"{d.upper()} better baseline")
                ax.axhline(1.5 * base, color=colour, ls=":", lw=1, label=f"{d.upper()} 1.5x baseline")
        if summary:
            ax.axhline(summary["cmer"]["m2e_chance_mrr"]["mean"], color="grey", ls="-.", lw=1, label="chance")
        ax.set_xlabel("lambda (0 = KL loss only, 1 = CCA loss only)")
        ax.set_ylabel("MRR (held-out folds)")
        ax.legend(fontsize=7, ncol=2)
        fig.tight_layout()
        fig.savefig(os.path.join(out_dir, "cmer_lambda_sweep.png"), dpi=100)
        plt.close(fig)
