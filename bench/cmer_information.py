"""How much (valence, energy) information do Soundtracks110's librosa features carry?

Evidence for issue 5 (CMER-CL >= 1.5x the better baseline's MRR): whatever the model, a
music -> emotion ranking can only be as good as the features' information about the ratings.

Same protocol as ``cardiotune evaluate retrieval``: 5-fold group CV by film, sessions
(split seeds) 0-4, features standardised on the training part of each fold, hyper-parameters
chosen on an inner by-film validation split of the training part (never on the test fold).

Prints and writes (``--out``, default ``out/bench/cmer_information.json``):

1. Out-of-fold R^2 of valence and energy from the features (ridge, kNN, random forest).
2. MRR of a plain "predict VA, rank by distance" retriever built on the best regressor
   (M2E: rank the fold's VA targets by distance to the predicted VA of the query music;
   E2M: rank the fold's music by distance of their predicted VA to the query VA).
3. Oracle curve: the best MRR any retriever can reach in the same 22-item pools if the
   features carry exactly a given R^2 per dimension (Bayes-optimal ranking under a Gaussian
   model, see :func:`oracle_mrr`), at the measured R^2 and up to a perfect embedding.

Run: ``CARDIOTUNE_DATA=/path/to/shared/data python bench/cmer_information.py``
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np
from cardiotune.export import splits
from cardiotune.export.cmer.metrics import mrr, ranks_from_scores
from cardiotune.export.cmer.train import load_config, music_root, prepare_soundtracks
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import Ridge
from sklearn.neighbors import KNeighborsRegressor

SEEDS = (0, 1, 2, 3, 4)
FOLDS = 5


def _r2(y, p):
    return 1.0 - ((y - p) ** 2).sum(0) / ((y - y.mean(0)) ** 2).sum(0)


def _candidates():
    out = [(f"ridge a={a:g}", lambda a=a: Ridge(alpha=a)) for a in (0.1, 1, 10, 30, 100, 300)]
    out += [(f"knn k={k}", lambda k=k: KNeighborsRegressor(k)) for k in (3, 5, 10, 20)]
    out += [("rf", lambda: RandomForestRegressor(300, min_samples_leaf=3, random_state=0))]
    return out


def _z(fit, *xs):
    mu, sd = fit.mean(0), fit.std(0) + 1e-8
    return [(x - mu) / sd for x in xs]


def oof_predictions(feat, va, groups, seed, family):
    """Out-of-fold VA predictions; within ``family`` the model is chosen on the inner split."""
    pred = np.zeros_like(va)
    chosen = []
    for tr, te in splits.group_kfold(groups, FOLDS, seed=seed):
        i_a, i_v = splits.group_holdout(groups[tr], 0.2, seed)
        a, v = tr[i_a], tr[i_v]
        xa, xv = _z(feat[a], feat[a], feat[v])
        best = None
        for name, make in _candidates():
            if not name.startswith(family):
                continue
            mse = ((make().fit(xa, va[a]).predict(xv) - va[v]) ** 2).mean()
            if best is None or mse < best[0]:
                best = (mse, name, make)
        chosen.append(best[1])
        xtr, xte = _z(feat[tr], feat[tr], feat[te])
        pred[te] = best[2]().fit(xtr, va[tr]).predict(xte)
    return pred, chosen


def va_distance_mrr(pred, va, groups, seed):
    """MRR of rank-by-VA-distance retrieval inside each held-out fold (M2E, E2M)."""
    m2e, e2m = [], []
    for _, te in splits.group_kfold(groups, FOLDS, seed=seed):
        d = np.abs(pred[te][:, None, :] - va[te][None, :, :]).sum(-1)  # [music, emotion]
        m2e.append(mrr(ranks_from_scores(-d)))
        e2m.append(mrr(ranks_from_scores(-d.T)))
    return float(np.mean(m2e)), float(np.mean(e2m))


def oracle_mrr(va, groups, r2, reps=20):
    """Best achievable MRR when the features carry exactly R^2 = (r2_valence, r2_energy).

    A calibrated regressor f = E[y | x] with Var(f) = R^2 Var(y) has, for Gaussian data,
    f | y ~ N(m + R^2 (y - m), R^2 (1 - R^2) Var(y)). We draw f that way and rank every
    target t by the likelihood p(f_q | y_t) (the Bayes-optimal ranking given f; dimensions
    with R^2 = 0 carry nothing and drop out). R^2 = 1 is a perfect embedding.
    """
    rng = np.random.default_rng(0)
    r2 = np.clip(np.asarray(r2, dtype=float), 0.0, 1.0)
    m, sd = va.mean(0), va.std(0)
    cond_sd = np.sqrt(r2 * (1.0 - r2)) * sd
    w = np.where(r2 > 0, 1.0 / np.maximum(cond_sd, 1e-9) ** 2, 0.0)  # precision per dimension
    res = []
    for seed in SEEDS:
        for _ in range(reps):
            f = m + r2 * (va - m) + rng.normal(size=va.shape) * cond_sd
            out = []
            for _, te in splits.group_kfold(groups, FOLDS, seed=seed):
                mean_t = m + r2 * (va[te] - m)
                s = -(w * (f[te][:, None, :] - mean_t[None, :, :]) ** 2).sum(-1)  # [music, emotion]
                out.append((mrr(ranks_from_scores(s)), mrr(ranks_from_scores(s.T))))
            res.append(np.mean(out, 0))
    return [float(x) for x in np.mean(res, axis=0)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default="configs/train/cmer.toml")
    ap.add_argument("--out", default="out/bench/cmer_information.json")
    args = ap.parse_args()
    t0 = time.time()
    cfg = load_config(args.config)
    feat, va, groups = prepare_soundtracks(music_root(cfg))
    res = {"n_items": int(len(va)), "n_films": int(len(np.unique(groups))), "r2": {}, "mrr": {}}
    for family in ("ridge", "knn", "rf"):
        r2s, mrrs, chosen = [], [], []
        for seed in SEEDS:
            pred, ch = oof_predictions(feat, va, groups, seed, family)
            r2s.append(_r2(va, pred))
            mrrs.append(va_distance_mrr(pred, va, groups, seed))
            chosen += ch
        r2m, mm = np.mean(r2s, 0), np.mean(mrrs, 0)
        res["r2"][family] = {"valence": float(r2m[0]), "energy": float(r2m[1])}
        res["mrr"][family] = {"m2e": float(mm[0]), "e2m": float(mm[1]), "chosen": sorted(set(chosen))}
        print(
            f"{family:6s} R2 valence {r2m[0]:+.3f} energy {r2m[1]:+.3f} | "
            f"VA-distance MRR M2E {mm[0]:.3f} E2M {mm[1]:.3f}"
        )
    best = max(res["r2"].values(), key=lambda r: r["valence"] + r["energy"])
    curve = {}
    measured = (max(best["valence"], 0.0), max(best["energy"], 0.0))
    for rv, re_ in [
        measured,
        (0, 0.7),
        (0, 0.9),
        (0.2, 0.5),
        (0.3, 0.7),
        (0.5, 0.7),
        (0.5, 0.9),
        (0.8, 0.9),
        (1.0, 1.0),
    ]:
        m = oracle_mrr(va, groups, (rv, re_))
        curve[f"R2 valence {rv:.2f}, energy {re_:.2f}"] = {"m2e": m[0], "e2m": m[1]}
        print(f"oracle R2 valence {rv:.2f} energy {re_:.2f}: MRR M2E {m[0]:.3f} E2M {m[1]:.3f}")
    res["oracle_mrr_by_r2"] = curve
    res["seconds"] = round(time.time() - t0, 1)
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(res, f, indent=2)
    print(f"wrote {args.out} ({res['seconds']} s)")


if __name__ == "__main__":
    main()
