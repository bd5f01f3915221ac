"""Training of the ECG/HRV VA model on synthetic subjects (``cardiotune train ecg``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import numpy as np

from ...errors import ConfigError
from ..splits import assert_disjoint, group_holdout
from ..train_common import LoopConfig, fit, load_toml_section, seed_everything, write_json
from .model import HrvVaNet, torch
from .synth_data import SubjectData, SynthConfig, make_subjects, sequences

__all__ = [
    "EcgTrainConfig",
    "train_model",
    "predict",
    "train_task",
    "load_checkpoint",
    "gaussian_nll",
]


@dataclass
class EcgTrainConfig:
    dataset: str = "synthetic"  # or "dreamer", "amigos", "wesad" (read from data_path)
    data_path: str = ""
    n_subjects: int = 48  # synthetic subjects, seeds 0..n-1
    test_fraction: float = 0.25  # of subjects, held out by ``cardiotune evaluate ecg``
    val_fraction: float = 0.2  # of the training subjects, for early stopping
    seq_len: int = 16  # HRV windows (30 s long, every 2 s) per model input
    hidden: int = 32
    dropout: float = 0.1
    epochs: int = 40
    patience: int = 8
    batch_size: int = 128
    lr: float = 3e-3
    weight_decay: float = 1e-4
    seed: int = 0
    out_dir: str = "export/checkpoints/ecg"
    progress: bool = True
    workers: int = 1  # processes for synthesising subjects (identical result)

    @classmethod
    def from_toml(cls, path) -> EcgTrainConfig:
        return cls(**load_toml_section(path, "ecg", asdict(cls())))


def gaussian_nll(mean, logvar, target):
    return 0.5 * (logvar + (target - mean) ** 2 * torch.exp(-logvar)).mean()


def train_model(
    subjects: List[SubjectData],
    cfg: EcgTrainConfig,
    checkpoint: Optional[Path] = None,
    resume: bool = False,
    desc: str = "ecg",
):
    rng = seed_everything(cfg.seed)
    x, va, groups = sequences(subjects, cfg.seq_len)
    tr, val = group_holdout(groups, cfg.val_fraction, seed=cfg.seed)
    assert_disjoint(groups, tr, val)
    model = HrvVaNet(x.shape[2], cfg.hidden, cfg.dropout)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    xv, vv = torch.as_tensor(x[val]), torch.as_tensor(va[val])

    def batches(epoch, rng):
        order = rng.permutation(tr)
        for s in range(0, len(order), cfg.batch_size):
            idx = order[s : s + cfg.batch_size]
            yield torch.as_tensor(x[idx]), torch.as_tensor(va[idx])

    def step(b):
        m, lv = model(b[0])
        return gaussian_nll(m, lv, b[1])

    def validate() -> Dict[str, float]:
        m, lv = model(xv)
        return {
            "val_loss": float(gaussian_nll(m, lv, vv)),
            "val_mse": float(((m - vv) ** 2).mean()),
        }

    loop = LoopConfig(epochs=cfg.epochs, patience=cfg.patience, progress=cfg.progress)
    res = fit(model, opt, step, batches, validate, loop, rng, checkpoint, resume, desc)
    model.eval()
    return model, res


def predict(model, x: np.ndarray):
    with torch.no_grad():
        m, lv = model(torch.as_tensor(x))
    return m.numpy(), np.exp(lv.numpy())


def split_subjects(cfg: EcgTrainConfig):
    """(train seeds, test seeds): a subject-wise holdout over the synthetic subjects."""
    seeds = np.arange(cfg.n_subjects)
    tr, te = group_holdout(seeds, cfg.test_fraction, seed=cfg.seed)
    return seeds[tr].tolist(), seeds[te].tolist()


DATASETS = ("synthetic", "dreamer", "amigos", "wesad")


def load_subjects(cfg: EcgTrainConfig) -> Tuple[List[SubjectData], List[SubjectData]]:
    """(train subjects, test subjects), split by subject. ``dataset = "synthetic"`` generates
    them; the real corpora are read from ``data_path`` in their published formats."""
    if cfg.dataset == "synthetic":
        train_seeds, test_seeds = split_subjects(cfg)
        synth = SynthConfig()
        return (
            make_subjects(train_seeds, synth, progress=cfg.progress, workers=cfg.workers),
            make_subjects(test_seeds, synth, progress=cfg.progress, workers=cfg.workers),
        )
    if cfg.dataset not in DATASETS:
        raise ConfigError("ecg.dataset", cfg.dataset, f"one of {DATASETS}")
    if not cfg.data_path:
        raise ConfigError("ecg.data_path", cfg.data_path, f"the path of the {cfg.dataset} data")
    from ..data import physio
    from .real_data import subjects_from_corpus

    loader = {
        "dreamer": physio.load_dreamer,
        "amigos": physio.load_amigos,
        "wesad": physio.load_wesad,
    }
    subjects = subjects_from_corpus(loader[cfg.dataset](cfg.data_path))
    ids = np.array([d.subject for d in subjects])
    tr, te = group_holdout(ids, cfg.test_fraction, seed=cfg.seed)
    return [subjects[i] for i in tr], [subjects[i] for i in te]


def train_task(config_path, resume: bool = False) -> Dict:
    """Train the shipped model on the training subjects (never the evaluation's test subjects)."""
    cfg = EcgTrainConfig.from_toml(config_path)
    subjects, test_subjects = load_subjects(cfg)
    train_seeds = [d.subject for d in subjects]
    test_seeds = [d.subject for d in test_subjects]
    out = Path(cfg.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model, res = train_model(subjects, cfg, out / "last.ckpt", resume)
    torch.save(
        {
            "config": model.config(),
            "state_dict": model.state_dict(),
            "seq_len": cfg.seq_len,
            "synth": asdict(SynthConfig()),
            "train_subjects": train_seeds,
            "test_subjects": test_seeds,
        },
        out / "model.pt",
    )
    metrics = {
        "task": "ecg",
        "config": asdict(cfg),
        "best_epoch": res.best_epoch,
        "best_val_loss": res.best_value,
        "stopped_early": res.stopped_early,
        "history": res.history,
        "n_parameters": sum(p.numel() for p in model.parameters()),
    }
    write_json(out / "train_metrics.json", metrics)
    return metrics


def load_checkpoint(path) -> HrvVaNet:
    ck = torch.load(path, map_location="cpu", weights_only=False)
    model = HrvVaNet(**ck["config"])
    model.load_state_dict(ck["state_dict"])
    model.eval()
    return model
