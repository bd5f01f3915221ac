"""The walking-skeleton VA model: HRV features (relative to the wearer's resting
baseline) -> valence/arousal mean and variance. Trained on seeded synthetic subjects,
split by subject, exported to ONNX with a manifest into ``edge/models/hrv_va``.

    python -m cardiotune.export.skeleton_va --out edge/models/hrv_va

Synthetic data only: no labelled real ECG-emotion data is available here. Valence is
only weakly coded in cardiac signals (see ``cardiotune.edge.synthetic.ecg``), so expect
a much weaker valence than arousal estimate - in the synthetic data as in reality.
"""
from __future__ import annotations

import argparse
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Tuple

import numpy as np
from cardiotune.edge.ecg.frontend import EcgFrontEnd
from cardiotune.edge.ecg.hrv import VALID, HrvWindower
from cardiotune.edge.features import FEATURE_NAMES, BaselineTracker, feature_vector
from cardiotune.edge.synthetic.ecg import Phase, synthesize_session

from .splits import assert_disjoint, group_holdout

log = logging.getLogger(__name__)

WINDOW_S, HOP_S, CALIBRATION_S = 20.0, 1.0, 120.0
VERSION = "0.1.0"


@dataclass(frozen=True)
class Config:
    n_subjects: int = 30
    seed: int = 1000  # subject seeds start here; the demo session uses seed 0 (never trained on)
    hidden: int = 32
    epochs: int = 400
    lr: float = 3e-3
    patience: int = 40
    train_hop_s: float = 2.0


def random_phases(rng: np.random.Generator) -> List[Phase]:
    """A rest phase (for the baseline), then random states over the VA plane."""
    phases = [Phase("rest", float(rng.uniform(150, 200)), float(rng.uniform(-0.2, 0.5)),
                    float(rng.uniform(-0.8, -0.4)))]
    for k in range(5):
        v, a = rng.uniform(-0.9, 0.9, 2)
        phases.append(Phase(f"p{k}", float(rng.uniform(90, 180)), float(v), float(a)))
    return phases


def subject_dataset(seed: int, phases, hop_s: float = HOP_S) -> Tuple[np.ndarray, np.ndarray]:
    """Run the real front-end over one synthetic subject; return features and mean true VA per window."""
    sess = synthesize_session(phases, seed=seed)
    out = EcgFrontEnd(sess.fs).push(sess.ecg_mv)
    windows = HrvWindower(WINDOW_S, hop_s).push(out.beats, out.t_decided)
    tracker = BaselineTracker(CALIBRATION_S)
    for w in windows:
        tracker.update(w)
    baseline = tracker.baseline
    xs, ys = [], []
    for w in windows:
        if w.quality != VALID:
            continue
        sel = (sess.va_times >= w.t_start) & (sess.va_times < w.t_end)
        xs.append(feature_vector(w, baseline))
        ys.append([sess.valence[sel].mean(), sess.arousal[sel].mean()])
    return np.asarray(xs, np.float32), np.asarray(ys, np.float32)


def build_dataset(cfg: Config):
    rng = np.random.default_rng(cfg.seed)
    X, Y, G = [], [], []
    try:
        from tqdm import tqdm
    except ImportError:  # progress bar is a nicety of the train extra
        def tqdm(x, **_):
            return x
    for s in tqdm(range(cfg.n_subjects), desc="synthetic subjects", unit="subj"):
        x, y = subject_dataset(cfg.seed + s, random_phases(rng), cfg.train_hop_s)
        X.append(x), Y.append(y), G.append(np.full(len(x), s))
    return np.concatenate(X), np.concatenate(Y), np.concatenate(G)


def ccc(y: np.ndarray, p: np.ndarray) -> float:
    """Lin's concordance correlation coefficient."""
    my, mp = y.mean(), p.mean()
    cov = np.mean((y - my) * (p - mp))
    return float(2 * cov / (y.var() + p.var() + (my - mp) ** 2))


def _metrics(y: np.ndarray, p: np.ndarray) -> Dict[str, float]:
    out = {}
    for k, name in enumerate(("valence", "arousal")):
        out[f"{name}_ccc"] = round(ccc(y[:, k], p[:, k]), 4)
        out[f"{name}_pearson"] = round(float(np.corrcoef(y[:, k], p[:, k])[0, 1]), 4)
        out[f"{name}_mae"] = round(float(np.mean(np.abs(y[:, k] - p[:, k]))), 4)
    return out


def make_model(hidden: int):
    import torch
    from torch import nn

    class HrvVaNet(nn.Module):
        """Features -> (VA mean in [-1, 1], log variance)."""

        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(nn.Linear(len(FEATURE_NAMES), hidden), nn.Tanh(),
                                      nn.Linear(hidden, hidden), nn.Tanh())
            self.mean = nn.Linear(hidden, 2)
            self.logvar = nn.Linear(hidden, 2)

        def forward(self, features):
            h = self.body(features)
            return torch.tanh(self.mean(h)), torch.clamp(self.logvar(h), -8.0, 3.0)

    return HrvVaNet()


def train(cfg: Config, out_dir: Path) -> Dict:
    import torch

    torch.manual_seed(cfg.seed)
    X, Y, G = build_dataset(cfg)
    train_idx, test_idx = group_holdout(G, 0.2, seed=cfg.seed)
    tr_idx, val_idx = group_holdout(G[train_idx], 0.2, seed=cfg.seed + 1)
    tr_idx, val_idx = train_idx[tr_idx], train_idx[val_idx]
    assert_disjoint(G, tr_idx, val_idx, test_idx)
    xt, yt = torch.from_numpy(X[tr_idx]), torch.from_numpy(Y[tr_idx])
    xv, yv = torch.from_numpy(X[val_idx]), torch.from_numpy(Y[val_idx])
    model = make_model(cfg.hidden)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    nll = torch.nn.GaussianNLLLoss()
    best, best_state, stale = float("inf"), None, 0
    epochs_run = 0
    for _ in range(cfg.epochs):
        epochs_run += 1
        model.train()
        mean, logvar = model(xt)
        loss = nll(mean, yt, torch.exp(logvar))
        opt.zero_grad()
        loss.backward()
        opt.step()
        model.eval()
        with torch.no_grad():
            m, lv = model(xv)
            val = float(nll(m, yv, torch.exp(lv)))
        if val < best - 1e-4:
            best, best_state, stale = val, {k: v.clone() for k, v in model.state_dict().items()}, 0
        else:
            stale += 1
            if stale >= cfg.patience:
                break
    model.load_state_dict(best_state)
    model.eval()
    with torch.no_grad():
        pred = model(torch.from_numpy(X[test_idx]))[0].numpy()
    # baseline: ordinary least squares on the same features, same split
    A = np.c_[X[tr_idx], np.ones(len(tr_idx))]
    coef, *_ = np.linalg.lstsq(A, Y[tr_idx], rcond=None)
    base_pred = np.clip(np.c_[X[test_idx], np.ones(len(test_idx))] @ coef, -1, 1)
    metrics = {
        "model": _metrics(Y[test_idx], pred),
        "baseline_linear": _metrics(Y[test_idx], base_pred),
        "n_train_subjects": int(np.unique(G[tr_idx]).size),
        "n_test_subjects": int(np.unique(G[test_idx]).size),
        "n_test_windows": int(len(test_idx)),
        "epochs_run": epochs_run,
    }
    from .onnx_io import export_with_manifest

    manifest_extra = {
        "description": "HRV features relative to the wearer's resting baseline -> valence/arousal "
                       "mean and log-variance (walking-skeleton model, synthetic training data)",
        "inputs": [{
            "name": "features", "dtype": "float32", "shape": ["batch", len(FEATURE_NAMES)],
            "feature_names": list(FEATURE_NAMES),
            "normalisation": "natural log of (window value / per-user resting baseline); baseline = "
                             f"median of valid windows in the first {CALIBRATION_S:g} s",
        }],
        "window": {"length_s": WINDOW_S, "hop_s": HOP_S, "calibration_s": CALIBRATION_S},
        "outputs": [
            {"name": "va_mean", "shape": ["batch", 2], "meaning": "valence, arousal in [-1, 1]"},
            {"name": "va_logvar", "shape": ["batch", 2], "meaning": "natural log of the predictive variance"},
        ],
        "training": {"data": f"{cfg.n_subjects} seeded synthetic subjects (seeds {cfg.seed}..), "
                             "split by subject 64/16/20 % train/val/test", "config": cfg.__dict__},
        "metrics_test_subjects": metrics,
    }
    rng = np.random.default_rng(0)
    manifest = export_with_manifest(
        model, [X[test_idx][:1]], out_dir, name="hrv_va", version=VERSION,
        input_names=["features"], output_names=["va_mean", "va_logvar"],
        dynamic_axes={"features": {0: "batch"}, "va_mean": {0: "batch"}, "va_logvar": {0: "batch"}},
        manifest_extra=manifest_extra,
        parity_batches=[[X[test_idx][:64]], [rng.normal(0, 0.5, (7, 3)).astype(np.float32)]],
    )
    log.info("wrote %s", manifest)
    return metrics


def train_task(config_path: str, resume: bool = False) -> Dict:
    """``cardiotune train hrv-va --config configs/train/hrv_va.toml`` (trains in ~10 s; ``resume`` is moot)."""
    import sys

    if sys.version_info >= (3, 11):
        import tomllib
    else:
        import tomli as tomllib
    from cardiotune.errors import ConfigError

    with open(config_path, "rb") as fh:
        data = tomllib.load(fh)
    known = set(Config.__dataclass_fields__) | {"out"}
    for key in data:
        if key not in known:
            raise ConfigError(key, data[key], f"one of {sorted(known)}", config_path)
    out = Path(data.pop("out", str(Path(__file__).resolve().parents[1] / "edge/models/hrv_va")))
    return train(Config(**data), out)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "edge/models/hrv_va")
    p.add_argument("--subjects", type=int, default=Config.n_subjects)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    metrics = train(Config(n_subjects=args.subjects), args.out)
    print(json.dumps(metrics, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
