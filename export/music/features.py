"""Clip-level music features for catalog building (server/export side; uses librosa).

:func:`summary_features` reproduces the Soundtracks110 release's feature set (Eerola &
Vuoskoski excerpts, ``soundtrack_features.csv``): the time means of librosa's RMS, spectral
centroid, bandwidth, roll-off, zero-crossing rate and MFCC 1-20 at librosa's defaults
(22,050 Hz mono, 2048-sample frames, hop 512). A model trained on that file can then score
any audio file the same way. librosa JIT-compiles on first use (~20 s); keep it off the
device path - the edge runtime reads the catalog this produces.
"""

from __future__ import annotations

from typing import List

import numpy as np

from cardiotune._imports import import_optional

from ..data.music import SOUNDTRACKS110_FEATURES

__all__ = ["summary_features", "file_features", "FEATURE_NAMES", "SAMPLE_RATE"]

FEATURE_NAMES: List[str] = list(SOUNDTRACKS110_FEATURES)
SAMPLE_RATE = 22050


def summary_features(y: np.ndarray, sr: int = SAMPLE_RATE) -> np.ndarray:
    """25 features (order of :data:`FEATURE_NAMES`) of a mono signal ``y`` at ``sr``."""
    librosa = import_optional("librosa", "server", "music feature extraction")
    y = np.asarray(y, dtype=np.float32)
    if y.ndim != 1 or y.size < 2048:
        raise ValueError(f"expected a mono signal of >= 2048 samples, got shape {y.shape}")
    f = librosa.feature
    parts = [
        f.rms(y=y).mean(),
        f.spectral_centroid(y=y, sr=sr).mean(),
        f.spectral_bandwidth(y=y, sr=sr).mean(),
        f.spectral_rolloff(y=y, sr=sr).mean(),
        f.zero_crossing_rate(y).mean(),
    ]
    mfcc = f.mfcc(y=y, sr=sr, n_mfcc=20).mean(axis=1)
    return np.concatenate([np.asarray(parts, dtype=np.float64), mfcc.astype(np.float64)])


def file_features(path: str, offset: float = 0.0, duration: float = None) -> np.ndarray:
    """:func:`summary_features` of an audio file, decoded mono at 22,050 Hz."""
    librosa = import_optional("librosa", "server", "music feature extraction")
    y, sr = librosa.load(path, sr=SAMPLE_RATE, mono=True, offset=offset, duration=duration)
    return summary_features(y, sr)
