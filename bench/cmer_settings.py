"""CMER-CL settings study on Soundtracks110 (issue 5): paper settings and fixes, same CV protocol.

Every setting is a set of overrides of ``[cmer]`` in the config, fitted on the same folds as
``cardiotune evaluate retrieval`` (5-fold group CV by film, sessions = split seeds), with
RegMLP / RegBiGRU fitted on the same folds in the same run. For every fit we record the
*inner validation* MRR (the by-film validation split of the training part, the one early
stopping uses) and the held-out test-fold MRR. A setting is chosen on the mean inner
validation MRR only; the test folds are never used to choose anything.

Baseline variants are chosen the same way, on their inner validation MAE (their loss).

Run (resumable; one JSON line per fit in ``--out``):
``CARDIOTUNE_DATA=... python bench/cmer_settings.py --settings base d32 alpha0.4 --seeds 0 1 2``
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import time

import numpy as np
import torch
from cardiotune.export import splits
from cardiotune.export.cmer import train

# name -> overrides of [cmer] (paper = Takashima et al., seed 002, Sec. 4.3-4.4)
SETTINGS = {
    "base": {},  # configs/train/cmer.toml as shipped: d 8, lam 0.8, alpha 1
    "noproj": {"cca_projection": False},  # Pearson on the raw FC outputs (before the fix)
    "d32_noproj": {"d_emb": 32, "cca_projection": False},
    "lam1": {"lam": 1.0},  # CCA loss only
    "d32_lam1": {"d_emb": 32, "lam": 1.0},
    # KL hinges averaged instead of summed (not the paper: puts CCA and KL on one scale)
    "d32_klmean_lam0.5": {"d_emb": 32, "lam": 0.5, "kl_reduction": "mean"},
    "d32_klmean_lam0.8": {"d_emb": 32, "lam": 0.8, "kl_reduction": "mean"},
    "d32_klmean_lam0.2": {"d_emb": 32, "lam": 0.2, "kl_reduction": "mean"},
    "d32": {"d_emb": 32},
    "d128": {"d_emb": 128},
    "d64": {"d_emb": 64},
    "d1024": {"d_emb": 1024},  # the paper's d
    "d1024_lam0": {"d_emb": 1024, "lam": 0.0},  # the paper's d, KL loss only (no CCA)
    "alpha0.4": {"alpha": 0.4},  # paper's best alpha on PMEmo
    "lam0.6_alpha0.4": {"lam": 0.6, "alpha": 0.4},  # paper's PMEmo pair
    "lam0.5": {"lam": 0.5},  # paper's ablation value
    "lam0": {"lam": 0.0},  # KL ranking loss only
    "long": {"epochs": 5001, "patience": 50},  # paper's 5001 epochs (DEAM), lenient stop
    "d32_long": {"d_emb": 32, "epochs": 5001, "patience": 50},
    "d32_alpha0.4": {"d_emb": 32, "alpha": 0.4},
    "wide": {
        "music": {"units": [256, 256], "dropout": 0.5},
        "emotion": {"hidden": 128, "units": [256], "dropout": 0.5},
        "d_emb": 32,
    },
    # the paper's encoders (Sec. 4.3.1), lr 1e-5, 5001 epochs, lam 0.8 / alpha 1 (DEAM);
    # d 32, the largest that trains here (>= 64 diverges: CCA covariances of ~70 items)
    "paper_enc": {
        "music": {"units": [256, 512, 512, 1024, 1024], "dropout": 0.5},
        "emotion": {"hidden": 512, "units": [512, 512, 512, 1024, 1024], "dropout": 0.5},
        "d_emb": 32,
        "lam": 0.8,
        "alpha": 1.0,
        "lr": 1e-5,
        "weight_decay": 0.0,
        "epochs": 5001,
        "eval_every": 50,
        "patience": 20,
    },
}

BASELINES = {
    "b_base": {},
    "b_small": {"units": [32], "dropout": 0.0},
    "b_big": {"units": [128, 64], "dropout": 0.0},
    # stopped on validation MRR, as CMER-CL is (the paper's baselines: MAE)
    "b_base_mrr": {"early_stop": "mrr"},
    "b_small_mrr": {"units": [32], "dropout": 0.0, "early_stop": "mrr"},
}


def _done(path):
    out = {}
    if os.path.isfile(path):
        with open(path) as f:
            for line in f:
                r = json.loads(line)
                out[(r["setting"], r["seed"], r["fold"])] = r
    return out


def run_unit(feat, va, groups, tr, te, cfg, seed, setting):
    c = copy.deepcopy(cfg)
    t0 = time.time()
    if setting in BASELINES:
        c["baseline"].update(BASELINES[setting])
        c["cmer"]["epochs"] = 1  # only the baselines are wanted: CMER trains 1 epoch, unused
        r = train.cv_unit(feat, va, groups, tr, te, c, seed, baselines=True)
        out = {}
        for kind in ("regmlp", "regbigru"):
            out[kind] = {
                d: {
                    "test_mrr": r[kind][d]["mrr"],
                    "val_mae": r[kind]["train"][d]["best_val_mae"],
                    "val_mrr": r[kind]["train"][d].get("best_val_mrr"),
                }
                for d in ("m2e", "e2m")
            }
    else:
        for k, v in SETTINGS[setting].items():
            c["cmer"][k] = v
        try:
            r = train.cv_unit(feat, va, groups, tr, te, c, seed, baselines=False)
        except RuntimeError as e:  # diverged before any validation point (see fit_cmer)
            return {"diverged": str(e), "seconds": round(time.time() - t0, 2)}
        info = r["cmer"]["train"]
        out = {
            "cmer": {d: {"test_mrr": r["cmer"][d]["mrr"]} for d in ("m2e", "e2m")},
            "val_mrr": info["best_val_mrr"],
            "epochs_run": info["epochs_run"],
        }
    out["seconds"] = round(time.time() - t0, 2)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default="configs/train/cmer.toml")
    ap.add_argument(
        "--settings",
        nargs="+",
        default=["base"],
        help=f"CMER settings {sorted(SETTINGS)} or baseline variants {sorted(BASELINES)}",
    )
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    ap.add_argument("--out", default="out/bench/cmer_settings.jsonl")
    args = ap.parse_args()
    for s in args.settings:
        if s not in SETTINGS and s not in BASELINES:
            raise SystemExit(f"unknown setting {s!r}: expected one of {sorted(SETTINGS) + sorted(BASELINES)}")
    torch.set_num_threads(1)
    cfg = train.load_config(args.config)
    feat, va, groups = train.prepare_soundtracks(train.music_root(cfg))
    folds = int(cfg["data"]["folds"])
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    done = _done(args.out)
    for setting in args.settings:
        for seed in args.seeds:
            for k, (tr, te) in enumerate(splits.group_kfold(groups, folds, seed=seed)):
                if (setting, seed, k) in done:
                    continue
                rec = {"setting": setting, "seed": seed, "fold": k}
                rec.update(run_unit(feat, va, groups, tr, te, cfg, seed, setting))
                with open(args.out, "a") as f:
                    f.write(json.dumps(rec) + "\n")
                done[(setting, seed, k)] = rec
        rs = [done[(setting, s, k)] for s in args.seeds for k in range(folds)]
        secs = sum(r["seconds"] for r in rs)
        bad = [r for r in rs if "diverged" in r]
        if bad:
            print(f"{setting:16s} diverged in {len(bad)}/{len(rs)} fits: {bad[0]['diverged']}", flush=True)
            continue
        if setting in BASELINES:
            for kind in ("regmlp", "regbigru"):
                print(
                    f"{setting:16s} {kind:8s} "
                    + " ".join(
                        f"{d} val MAE {np.mean([r[kind][d]['val_mae'] for r in rs]):.3f} "
                        f"test MRR {np.mean([r[kind][d]['test_mrr'] for r in rs]):.3f}"
                        for d in ("m2e", "e2m")
                    )
                    + f"  {secs:.0f} s",
                    flush=True,
                )
        else:
            print(
                f"{setting:16s} val MRR {np.mean([r['val_mrr'] for r in rs]):.3f}  test MRR "
                f"M2E {np.mean([r['cmer']['m2e']['test_mrr'] for r in rs]):.3f} "
                f"E2M {np.mean([r['cmer']['e2m']['test_mrr'] for r in rs]):.3f}  "
                f"epochs {np.mean([r['epochs_run'] for r in rs]):.0f}  {secs:.0f} s",
                flush=True,
            )


if __name__ == "__main__":
    main()
