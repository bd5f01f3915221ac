"""Score one audio file: tags, duration, VA (+ sd) per track and per segment, an embedding.

Runs in worker processes (:mod:`.build`); everything heavy (librosa, torch) is imported
here, never on the device. VA is reported on the catalog scale, valence and arousal in
[-1, 1] with 0 neutral (docs/catalog.md); the music model rates on 1-9, so x -> (x - 5) / 4.

Scorers, chosen by what exists (the choice is recorded as the model version):

* ``music_va``: the Soundtracks110 MLP ensemble (export/checkpoints/music/music_va.pt):
  mean VA and a variance per prediction (ensemble spread + predicted variance).
* embedding ``cmer``: the CMER-CL music encoder's correlation embedding E (d = 8,
  export/checkpoints/cmer/cmer_cl.pt), the space in which a VA query is matched to music.
* fallbacks (no checkpoint): VA from loudness and brightness z-scores against the
  Soundtracks110 feature statistics (arousal only; valence 0 with sd 1), and the z-scored
  25 features as the embedding. Documented in docs/catalog.md.
"""
from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import numpy as np

from cardiotune._imports import import_optional

__all__ = ["SEGMENT_S", "Scorer", "TrackResult", "analyze_file", "read_tags", "sha256_file",
           "default_checkpoints", "AUDIO_EXTENSIONS"]

log = logging.getLogger(__name__)

AUDIO_EXTENSIONS = (".mp3", ".flac", ".ogg", ".oga", ".wav")
SEGMENT_S = 5.0  # dynamic VA: one estimate per 5 s of audio
MIN_SEGMENT_S = 2.5  # a shorter tail is folded into no segment
SR = 22050
FEATURES_VERSION = "st110-librosa-v1"


def default_checkpoints() -> Dict[str, Path]:
    root = Path(__file__).resolve().parents[2] / "export" / "checkpoints"
    try:  # installed package: cardiotune.export lives next to cardiotune.server
        import cardiotune.export as exp

        root = Path(exp.__file__).resolve().parent / "checkpoints"
    except ImportError:
        pass
    return {"music": root / "music" / "music_va.pt", "cmer": root / "cmer" / "cmer_cl.pt"}


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def _short_sha(path: Path) -> str:
    return sha256_file(path)[:12]


def read_tags(path: Path) -> Dict[str, Any]:
    """Title / artist / album / duration from the file's tags (mutagen). Raises ValueError
    when mutagen does not recognise the file as audio."""
    mutagen = import_optional("mutagen", "server", "reading audio tags")
    try:
        f = mutagen.File(str(path), easy=True)
    except mutagen.MutagenError as exc:
        raise ValueError(f"unreadable tags ({type(exc).__name__}: {exc})") from None
    if f is None:
        raise ValueError("not a recognised audio file (mutagen found no audio format)")
    tags = f.tags or {}

    def first(key: str) -> str:
        try:
            v = tags.get(key)
        except (KeyError, ValueError):
            return ""
        return str(v[0]) if v else ""

    length = getattr(getattr(f, "info", None), "length", None)
    return {"title": first("title"), "artist": first("artist"), "album": first("album"),
            "duration_s": float(length) if length else None}


@dataclass
class TrackResult:
    valence: float
    arousal: float
    valence_sd: float
    arousal_sd: float
    embedding: np.ndarray
    duration_s: float
    segments: List[Tuple[float, float, float, float, float, float]] = field(default_factory=list)
    tags: Dict[str, Any] = field(default_factory=dict)


class Scorer:
    """Features -> (VA mean, VA sd) on the catalog scale, and the embedding."""

    def __init__(self, music_ckpt: Optional[Path] = None, cmer_ckpt: Optional[Path] = None):
        from cardiotune.export.data.music import SOUNDTRACKS110_FEATURES  # noqa: F401 (names)

        self._music = None
        self._cmer = None
        parts = [FEATURES_VERSION]
        if music_ckpt is not None and Path(music_ckpt).is_file() and self._have_torch():
            self._music = self._load_music(Path(music_ckpt))
            parts.append(f"music_va:{_short_sha(Path(music_ckpt))}")
        else:
            parts.append("va:feature-fallback")
        if cmer_ckpt is not None and Path(cmer_ckpt).is_file() and self._have_torch():
            self._cmer = self._load_cmer(Path(cmer_ckpt))
            parts.append(f"cmer:{_short_sha(Path(cmer_ckpt))}")
        else:
            parts.append("emb:zfeatures")
        self.version = "+".join(parts)
        if self._music is None or self._cmer is None:
            log.warning("catalog scorer: %s (a checkpoint or torch is missing; see docs/catalog.md)", "+".join(parts))

    @staticmethod
    def _have_torch() -> bool:
        import importlib.util

        return importlib.util.find_spec("torch") is not None

    @staticmethod
    def _load_music(path: Path):
        torch = import_optional("torch", "train", "scoring music with the music VA model")
        from cardiotune.export.music.model import MusicVAModel

        state = torch.load(str(path), map_location="cpu", weights_only=True)
        models = []
        for sd in state["state_dicts"]:
            m = MusicVAModel(int(state["d_in"]), tuple(state["units"]))
            m.load_state_dict(sd)
            m.eval()
            models.append(m)
        return models

    @staticmethod
    def _load_cmer(path: Path):
        torch = import_optional("torch", "train", "the CMER music embedding")
        from cardiotune.export.cmer.models import CMERCL

        state = torch.load(str(path), map_location="cpu", weights_only=True)
        cfg = state["config"]
        model = CMERCL(d_music=len(state["feature_mean"]), d_emb=int(cfg["d_emb"]),
                       music_encoder=cfg["music_encoder"], emotion_encoder=cfg["emotion_encoder"],
                       music_cfg=cfg.get("music", {}), emotion_cfg=cfg.get("emotion", {}))
        model.load_state_dict(state["state_dict"])
        model.eval()
        return model, np.asarray(state["feature_mean"]), np.asarray(state["feature_std"])

    def va(self, feats: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """(N, 25) features -> mean (N, 2), sd (N, 2), [valence, arousal] in [-1, 1]."""
        feats = np.atleast_2d(feats)
        if self._music is None:
            return _fallback_va(feats)
        import torch

        with torch.no_grad():
            x = torch.as_tensor(feats, dtype=torch.float32)
            outs = [m(x) for m in self._music]
        mus = np.stack([o[0].numpy() for o in outs])
        var = np.stack([o[1].numpy() for o in outs]).mean(0) + mus.var(0)
        mean = np.clip((mus.mean(0) - 5.0) / 4.0, -1.0, 1.0)
        return mean, np.sqrt(var) / 4.0

    def embed(self, feats: np.ndarray) -> np.ndarray:
        feats = np.atleast_2d(feats)
        if self._cmer is None:
            return _zscore(feats).astype(np.float32)
        import torch

        model, mu, sd = self._cmer
        with torch.no_grad():
            z = torch.as_tensor((feats - mu) / sd, dtype=torch.float32)[:, None, :]
            e, _, _ = model.music(z)
        return e.numpy().astype(np.float32)


_ST110_STATS: Optional[Tuple[np.ndarray, np.ndarray]] = None


def _st110_stats() -> Tuple[np.ndarray, np.ndarray]:
    """Mean and sd of the 25 features over Soundtracks110 as published (fixed numbers, so the
    fallback does not need the dataset): computed once with ``_compute_stats`` below."""
    global _ST110_STATS
    if _ST110_STATS is None:
        from .st110_stats import MEAN, STD

        _ST110_STATS = (np.asarray(MEAN), np.asarray(STD))
    return _ST110_STATS


def _zscore(feats: np.ndarray) -> np.ndarray:
    mu, sd = _st110_stats()
    return (feats - mu) / sd


def _fallback_va(feats: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    # Arousal follows loudness and brightness (RMS, spectral centroid); valence is not
    # predictable from these features (R^2 ~ 0 even for the trained model), so 0 +- 1.
    z = _zscore(feats)
    arousal = np.tanh(0.5 * (z[:, 0] + z[:, 1]) / 2.0)
    mean = np.stack([np.zeros(len(z)), arousal], axis=1)
    sd = np.tile([1.0, 0.5], (len(z), 1))
    return mean, sd


def analyze_file(path: Path, scorer: Scorer, segment_s: float = SEGMENT_S) -> TrackResult:
    """Decode, featurise and score one file. Raises ValueError / OSError / RuntimeError with
    the reason when the file cannot be used."""
    librosa = import_optional("librosa", "server", "decoding music files")
    from cardiotune.export.music.features import summary_features

    tags = read_tags(path)
    try:
        y, sr = librosa.load(str(path), sr=SR, mono=True)
    except Exception as exc:  # noqa: BLE001 - decoders raise many types; the reason is reported
        raise ValueError(f"cannot decode audio ({type(exc).__name__}: {exc})") from None
    if y.size < 2048 or not np.isfinite(y).all():
        raise ValueError(f"decoded {y.size} samples ({y.size / SR:.2f} s): too short or not finite")
    duration = y.size / SR
    declared = tags.get("duration_s")
    if declared and duration < 0.9 * declared - 0.5:  # the header promises more than the file holds
        raise ValueError(f"truncated: decoded {duration:.1f} s of the {declared:.1f} s its header declares")
    seg_n = int(segment_s * SR)
    starts = list(range(0, max(1, y.size - int(MIN_SEGMENT_S * SR) + 1), seg_n)) if y.size >= int(
        MIN_SEGMENT_S * SR) else []
    feats = [summary_features(y, sr)]
    bounds = []
    for s in starts:
        e = min(y.size, s + seg_n)
        if e - s < 2048:
            continue
        feats.append(summary_features(y[s:e], sr))
        bounds.append((s / SR, e / SR))
    x = np.stack(feats)
    mean, sd = scorer.va(x)
    emb = scorer.embed(x[:1])[0]
    segments = [(b[0], b[1], float(mean[i + 1, 0]), float(mean[i + 1, 1]), float(sd[i + 1, 0]),
                 float(sd[i + 1, 1])) for i, b in enumerate(bounds)]
    return TrackResult(float(mean[0, 0]), float(mean[0, 1]), float(sd[0, 0]), float(sd[0, 1]),
                       emb, duration, segments, tags)


# ---- worker-process plumbing (concurrent.futures) --------------------------------------
_WORKER_SCORER: Optional[Scorer] = None


def init_worker(music_ckpt: Optional[str], cmer_ckpt: Optional[str]) -> None:
    global _WORKER_SCORER
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    try:
        import torch

        torch.set_num_threads(1)  # one core per worker: the pool is the parallelism
    except ImportError:
        pass
    _WORKER_SCORER = Scorer(Path(music_ckpt) if music_ckpt else None,
                            Path(cmer_ckpt) if cmer_ckpt else None)


def worker_analyze(path: str, segment_s: float) -> Tuple[str, Optional[TrackResult], Optional[str]]:
    """(path, result, None) or (path, None, reason). Never raises for a bad file."""
    assert _WORKER_SCORER is not None, "init_worker() was not called"
    try:
        return path, analyze_file(Path(path), _WORKER_SCORER, segment_s), None
    except (ValueError, OSError, RuntimeError, EOFError) as exc:
        return path, None, str(exc) or type(exc).__name__
