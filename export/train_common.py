"""Seeded training loop shared by the export tasks: progress bars, checkpoints + resume,
early stopping on a validation split, metrics JSON.

The loop is generic: a task supplies ``batches(epoch, rng)`` (an iterable of batches),
``step(batch) -> loss tensor`` and ``validate() -> dict`` (with the key named by
``LoopConfig.monitor``, lower is better). A checkpoint holds the model, the optimiser,
the epoch, the best state, the history and the RNG states, so an interrupted run resumed
with ``resume=True`` continues exactly where it stopped.
"""

from __future__ import annotations

import copy
import json
import logging
import math
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Optional

import numpy as np

from .._imports import import_optional
from ..errors import ConfigError

torch = import_optional("torch", "train", "training")

log = logging.getLogger(__name__)

__all__ = ["LoopConfig", "seed_everything", "fit", "write_json", "load_toml_section"]


@dataclass
class LoopConfig:
    epochs: int = 30
    patience: int = 8  # epochs without improvement of ``monitor`` before stopping
    monitor: str = "val_loss"
    progress: bool = True
    min_delta: float = 0.0

    def __post_init__(self) -> None:
        if self.epochs < 1:
            raise ConfigError("epochs", self.epochs, "an integer >= 1")
        if self.patience < 1:
            raise ConfigError("patience", self.patience, "an integer >= 1")


@dataclass
class FitResult:
    history: List[Dict[str, float]] = field(default_factory=list)
    best_epoch: int = -1
    best_value: float = math.inf
    stopped_early: bool = False


def seed_everything(seed: int) -> np.random.Generator:
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)
    return np.random.default_rng(seed)


def write_json(path, obj: Any) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, sort_keys=True, default=_jsonable) + "\n")
    return path


def _jsonable(o):
    if isinstance(o, (np.floating, np.integer)):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def load_toml_section(path, section: str, defaults: Dict[str, Any]) -> Dict[str, Any]:
    """Read ``[section]`` of a TOML file; unknown keys and wrong types raise ConfigError."""
    try:
        import tomllib
    except ImportError:  # pragma: no cover - python < 3.11
        import tomli as tomllib
    path = Path(path)
    if not path.is_file():
        raise ConfigError("--config", str(path), "an existing TOML file")
    with open(path, "rb") as fh:
        data = tomllib.load(fh)
    raw = data.get(section, {})
    out = dict(defaults)
    for key, val in raw.items():
        if key not in defaults:
            raise ConfigError(f"{section}.{key}", val, f"one of {sorted(defaults)}", str(path))
        want = type(defaults[key])
        ok = isinstance(val, want) or (
            want is float and isinstance(val, int) and not isinstance(val, bool)
        )
        if defaults[key] is not None and not ok:
            raise ConfigError(f"{section}.{key}", val, f"a {want.__name__}", str(path))
        out[key] = float(val) if want is float else val
    return out


def fit(
    model,
    optimizer,
    step: Callable[[Any], Any],
    batches: Callable[[int, np.random.Generator], Iterable],
    validate: Callable[[], Dict[str, float]],
    cfg: LoopConfig,
    rng: np.random.Generator,
    checkpoint: Optional[Path] = None,
    resume: bool = False,
    desc: str = "train",
) -> FitResult:
    """Train with early stopping; the model ends holding the best validation weights."""
    res = FitResult()
    start = 0
    best_state = copy.deepcopy(model.state_dict())
    since_best = 0
    if resume and checkpoint is not None and Path(checkpoint).is_file():
        ck = torch.load(checkpoint, map_location="cpu", weights_only=False)
        model.load_state_dict(ck["model"])
        optimizer.load_state_dict(ck["optimizer"])
        best_state = ck["best_state"]
        res.history, res.best_epoch, res.best_value = (
            ck["history"],
            ck["best_epoch"],
            ck["best_value"],
        )
        since_best = ck["since_best"]
        rng.bit_generator.state = ck["rng"]
        torch.set_rng_state(ck["torch_rng"])
        start = ck["epoch"] + 1
        log.info("resumed %s from %s at epoch %d", desc, checkpoint, start)
    tqdm = import_optional("tqdm", "train", "progress bars").tqdm
    bar = tqdm(
        range(start, cfg.epochs),
        desc=desc,
        disable=not cfg.progress,
        leave=False,
        initial=start,
        total=cfg.epochs,
    )
    for epoch in bar:
        if since_best >= cfg.patience:
            res.stopped_early = True
            break
        model.train()
        losses = []
        for batch in batches(epoch, rng):
            optimizer.zero_grad()
            loss = step(batch)
            loss.backward()
            optimizer.step()
            losses.append(float(loss.detach()))
        model.eval()
        with torch.no_grad():
            metrics = dict(validate())
        if cfg.monitor not in metrics:
            raise KeyError(
                f"validate() returned {sorted(metrics)}: expected the key {cfg.monitor!r}"
            )
        metrics["epoch"] = epoch
        metrics["train_loss"] = float(np.mean(losses)) if losses else math.nan
        res.history.append(metrics)
        value = metrics[cfg.monitor]
        if value < res.best_value - cfg.min_delta:
            res.best_value, res.best_epoch, since_best = value, epoch, 0
            best_state = copy.deepcopy(model.state_dict())
        else:
            since_best += 1
        bar.set_postfix(train=f"{metrics['train_loss']:.3f}", **{cfg.monitor: f"{value:.3f}"})
        if checkpoint is not None:
            Path(checkpoint).parent.mkdir(parents=True, exist_ok=True)
            torch.save(
                {
                    "model": model.state_dict(),
                    "optimizer": optimizer.state_dict(),
                    "best_state": best_state,
                    "history": res.history,
                    "best_epoch": res.best_epoch,
                    "best_value": res.best_value,
                    "since_best": since_best,
                    "epoch": epoch,
                    "rng": rng.bit_generator.state,
                    "torch_rng": torch.get_rng_state(),
                },
                checkpoint,
            )
    else:
        res.stopped_early = since_best >= cfg.patience and len(res.history) < cfg.epochs
    model.load_state_dict(best_state)
    return res
