"""Training of the speech emotion model (``cardiotune train speech --config ...``)."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Dict, Optional

import numpy as np

from ...edge.speech import LogMelConfig
from ...errors import ConfigError
from ..data.speech import CATEGORY_VA, EMODB_CLASSES, SpeechCorpus, load_emodb
from ..splits import assert_disjoint, group_holdout
from ..train_common import LoopConfig, fit, load_toml_section, seed_everything, write_json
from .baseline import LogRegBaseline, SpeechEnsemble, StatsLogReg, baseline_module
from .features import corpus_features
from .model import SpeechEmotionNet, speech_loss, torch

log = logging.getLogger(__name__)

__all__ = [
    "SpeechTrainConfig",
    "train_model",
    "predict",
    "load_corpus",
    "train_task",
    "load_checkpoint",
]


@dataclass
class SpeechTrainConfig:
    corpus: str = "emodb"
    data_dir: str = ""  # empty: $CARDIOTUNE_DATA/speech/emodb
    n_mels: int = 40
    clip_s: float = 2.0
    width: int = 64
    dropout: float = 0.2
    stats_skip: bool = True
    epochs: int = 60
    patience: int = 15
    batch_size: int = 32
    lr: float = 1e-3
    weight_decay: float = 1e-3
    va_weight: float = 0.5
    val_fraction: float = 0.15  # of the training *speakers*, for early stopping
    augment: bool = True
    seed: int = 0
    out_dir: str = "export/checkpoints/speech"
    progress: bool = True

    @classmethod
    def from_toml(cls, path) -> SpeechTrainConfig:
        return cls(**load_toml_section(path, "speech", asdict(cls())))

    def feature_config(self) -> LogMelConfig:
        return LogMelConfig(n_mels=self.n_mels)


def load_corpus(cfg: SpeechTrainConfig) -> SpeechCorpus:
    if cfg.corpus != "emodb":
        raise ConfigError(
            "speech.corpus",
            cfg.corpus,
            "'emodb' (RAVDESS/IEMOCAP loaders exist; training on them is not wired up yet)",
        )
    root = cfg.data_dir or os.path.join(os.environ.get("CARDIOTUNE_DATA", ""), "speech", "emodb")
    return load_emodb(root)


def labels(corpus: SpeechCorpus):
    y = np.array([EMODB_CLASSES.index(u.emotion) for u in corpus.utterances])
    va = np.array([[u.valence, u.arousal] for u in corpus.utterances], dtype=np.float32)
    return y, va


def _augment(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Time shift, +-6 dB gain, one time mask and one mel-band mask per clip (SpecAugment-like)."""
    x = x.copy()
    n, t, m = x.shape
    for i in range(n):
        x[i] = np.roll(x[i], int(rng.integers(-t // 8, t // 8 + 1)), axis=0)
        x[i] += float(rng.uniform(-1.4, 1.4))  # log-power offset of +-6 dB
        t0, tw = int(rng.integers(0, t)), int(rng.integers(0, t // 8))
        x[i, t0 : t0 + tw] = x[i].min()
        f0, fw = int(rng.integers(0, m)), int(rng.integers(0, m // 8 + 1))
        x[i, :, f0 : f0 + fw] = x[i].mean()
    return x


def train_model(
    x: np.ndarray,
    y: np.ndarray,
    va: np.ndarray,
    groups: np.ndarray,
    cfg: SpeechTrainConfig,
    checkpoint: Optional[Path] = None,
    resume: bool = False,
    desc: str = "speech",
):
    """Train on the given utterances; early stopping on a held-out set of *speakers*."""
    rng = seed_everything(cfg.seed)
    tr, val = group_holdout(groups, cfg.val_fraction, seed=cfg.seed)
    assert_disjoint(groups, tr, val)
    flat = x[tr].reshape(-1, x.shape[2])
    model = SpeechEmotionNet(
        x.shape[2],
        len(EMODB_CLASSES),
        cfg.width,
        cfg.dropout,
        flat.mean(axis=0),
        flat.std(axis=0) + 1e-3,
        cfg.stats_skip,
    )
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    counts = np.bincount(y[tr], minlength=len(EMODB_CLASSES)).astype(np.float32)
    cw = torch.as_tensor(counts.sum() / np.maximum(counts, 1) / len(counts))
    xv, yv, vav = torch.as_tensor(x[val]), torch.as_tensor(y[val]), torch.as_tensor(va[val])

    def batches(epoch, rng):
        order = rng.permutation(tr)
        for s in range(0, len(order), cfg.batch_size):
            idx = order[s : s + cfg.batch_size]
            xb = _augment(x[idx], rng) if cfg.augment else x[idx]
            yield torch.as_tensor(xb), torch.as_tensor(y[idx]), torch.as_tensor(va[idx])

    def step(b):
        return speech_loss(model(b[0]), b[1], b[2], cfg.va_weight, cw)

    def validate() -> Dict[str, float]:
        out = model(xv)
        acc = float((out[0].argmax(1) == yv).float().mean())
        return {"val_loss": float(speech_loss(out, yv, vav, cfg.va_weight, cw)), "val_acc": acc}

    loop = LoopConfig(epochs=cfg.epochs, patience=cfg.patience, progress=cfg.progress)
    res = fit(model, opt, step, batches, validate, loop, rng, checkpoint, resume, desc)
    model.eval()
    return model, res


def predict(model, x: np.ndarray, batch: int = 256):
    """(class probabilities, VA mean, VA variance) as numpy."""
    probs, mean, var = [], [], []
    model.eval()
    with torch.no_grad():
        for s in range(0, len(x), batch):
            logits, m, lv = model(torch.as_tensor(x[s : s + batch]))
            probs.append(torch.softmax(logits, 1).numpy())
            mean.append(m.numpy())
            var.append(torch.exp(lv).numpy())
    return np.concatenate(probs), np.concatenate(mean), np.concatenate(var)


def train_task(config_path, resume: bool = False) -> Dict:
    """Train the shipped model on all EMO-DB speakers (a speaker subset for early stopping)."""
    cfg = SpeechTrainConfig.from_toml(config_path)
    corpus = load_corpus(cfg)
    x = corpus_features(corpus, cfg.feature_config(), cfg.clip_s, progress=cfg.progress)
    y, va = labels(corpus)
    out = Path(cfg.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model, res = train_model(x, y, va, corpus.speakers, cfg, out / "last.ckpt", resume)
    stats = baseline_module(LogRegBaseline().fit(x, y, len(EMODB_CLASSES)))
    torch.save(
        {
            "stats_state": dict(stats.state_dict()),
            "config": model.config(),
            "state_dict": model.state_dict(),
            "classes": list(EMODB_CLASSES),
            "feature": cfg.feature_config().to_dict(),
            "clip_s": cfg.clip_s,
            "category_va": {k: CATEGORY_VA[k] for k in EMODB_CLASSES},
        },
        out / "model.pt",
    )
    metrics = {
        "task": "speech",
        "config": asdict(cfg),
        "best_epoch": res.best_epoch,
        "best_val_loss": res.best_value,
        "stopped_early": res.stopped_early,
        "history": res.history,
        "n_parameters": sum(p.numel() for p in model.parameters()),
    }
    ens = SpeechEnsemble(model, stats).eval()
    manifest = export_onnx(ens, x, out, cfg, metrics)
    metrics["onnx_bytes"] = json.loads(manifest.read_text())["size_bytes"]
    write_json(out / "train_metrics.json", metrics)
    return metrics


def export_onnx(model, x: np.ndarray, out: Path, cfg: SpeechTrainConfig, metrics: Dict) -> Path:
    """The shipped ensemble as ``out/model.onnx`` + ``manifest.json`` (parity-checked against
    torch on real utterances and on other clip lengths). Input: raw log-mel frames exactly as
    :func:`cardiotune.edge.speech.log_mel` returns them."""
    from ..onnx_io import export_with_manifest

    extra = {
        "description": "log-mel frames -> 7 EMO-DB categories (log-probabilities, CNN + "
        "log-mel-statistics log-reg ensemble) + valence/arousal mean and log-variance",
        "inputs": [
            {
                "name": "logmel",
                "dtype": "float32",
                "shape": ["batch", "frames", cfg.n_mels],
                "feature": cfg.feature_config().to_dict(),
                "clip_s": cfg.clip_s,
            }
        ],
        "outputs": [
            {"name": "log_probs", "shape": ["batch", 7], "classes": list(EMODB_CLASSES)},
            {"name": "va_mean", "shape": ["batch", 2], "meaning": "valence, arousal in [-1, 1]"},
            {"name": "va_logvar", "shape": ["batch", 2], "meaning": "log predictive variance"},
        ],
        "category_va": {k: CATEGORY_VA[k] for k in EMODB_CLASSES},
        "training": {"data": "EMO-DB, all 10 speakers (speaker subset for early stopping)",
                     "best_epoch": metrics["best_epoch"]},
    }
    return export_with_manifest(
        model,
        [x[:1]],
        out,
        name="speech_emotion",
        version="0.1.0",
        input_names=["logmel"],
        output_names=["log_probs", "va_mean", "va_logvar"],
        dynamic_axes={"logmel": {0: "batch", 1: "frames"}},
        manifest_extra=extra,
        parity_batches=[[x[:32]], [x[:3, :120]]],
    )


def load_checkpoint(path):
    """The shipped model: :class:`SpeechEnsemble` (CNN + statistics log-reg) when the
    checkpoint holds both, else the CNN alone."""
    ck = torch.load(path, map_location="cpu", weights_only=False)
    model = SpeechEmotionNet(**ck["config"])
    model.load_state_dict(ck["state_dict"])
    if "stats_state" in ck:
        st = ck["stats_state"]
        stats = StatsLogReg(st["mu"].numpy(), st["sd"].numpy(), st["lin.weight"], st["lin.bias"])
        model = SpeechEnsemble(model, stats)
    model.eval()
    return model
