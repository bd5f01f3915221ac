"""HRV feature sequences for the ECG valence/arousal model - shared by training and device.

Input: :class:`cardiotune.edge.ecg.HrvWindow` objects from ``HrvWindower`` (the real
front-end). Each window becomes a vector relative to a per-user *resting baseline*
(calibration):

=====  ====================  ===================================================
index  name                  value
=====  ====================  ===================================================
0      ``log_hr_ratio``      ln(HR / HR_rest)
1      ``log_rmssd_ratio``   ln(RMSSD / RMSSD_rest)
2      ``log_sdnn_ratio``    ln(SDNN / SDNN_rest)
3      ``quality``           1 valid, 0.5 questionable, 0 not available
=====  ====================  ===================================================

Ratios are clipped to [-3, 3]; a window without a value contributes zeros (= "as at
rest") with quality 0, so the model sees the gap instead of a stale number. The model
input is the last ``seq_len`` vectors, oldest first: ``(seq_len, 4)`` float32.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import Deque, Iterable, List, Optional, Sequence

import numpy as np

from .ecg.hrv import NOT_AVAILABLE, QUESTIONABLE, VALID, HrvWindow

__all__ = [
    "FEATURE_NAMES",
    "RestingBaseline",
    "BaselineCalibrator",
    "window_features",
    "windows_to_features",
    "HrvSequencer",
]

FEATURE_NAMES = ("log_hr_ratio", "log_rmssd_ratio", "log_sdnn_ratio", "quality")
_QUALITY = {VALID: 1.0, QUESTIONABLE: 0.5, NOT_AVAILABLE: 0.0}
_CLIP = 3.0


@dataclass(frozen=True)
class RestingBaseline:
    """Median HR / RMSSD / SDNN of the valid windows of a resting calibration period."""

    hr_bpm: float
    rmssd_ms: float
    sdnn_ms: float
    n_windows: int

    @classmethod
    def from_windows(cls, windows: Iterable[HrvWindow], min_windows: int = 3) -> RestingBaseline:
        ok = [w for w in windows if w.quality == VALID and w.rmssd_ms > 0 and w.sdnn_ms > 0]
        if len(ok) < min_windows:
            raise ValueError(
                f"resting baseline from {len(ok)} valid HRV window(s): "
                f"expected at least {min_windows}"
                " - record a longer or cleaner calibration"
            )
        return cls(
            float(np.median([w.hr_bpm for w in ok])),
            float(np.median([w.rmssd_ms for w in ok])),
            float(np.median([w.sdnn_ms for w in ok])),
            len(ok),
        )

    def to_dict(self) -> dict:
        return {
            "hr_bpm": self.hr_bpm,
            "rmssd_ms": self.rmssd_ms,
            "sdnn_ms": self.sdnn_ms,
            "n_windows": self.n_windows,
        }


class BaselineCalibrator:
    """Collects windows ending within ``duration_s`` of ``t0``; ``baseline`` is set once done."""

    def __init__(self, duration_s: float = 120.0, t0: float = 0.0, min_windows: int = 3):
        self.t_done = float(t0) + float(duration_s)
        self.min_windows = min_windows
        self._windows: List[HrvWindow] = []
        self.baseline: Optional[RestingBaseline] = None

    def push(self, windows: Iterable[HrvWindow]) -> Optional[RestingBaseline]:
        for w in windows:
            if self.baseline is not None:
                break
            if w.t_end <= self.t_done:
                self._windows.append(w)
            else:
                self.baseline = RestingBaseline.from_windows(self._windows, self.min_windows)
        return self.baseline


def _log_ratio(x: float, ref: float) -> float:
    if not (math.isfinite(x) and x > 0 and ref > 0):
        return 0.0
    return float(np.clip(math.log(x / ref), -_CLIP, _CLIP))


def window_features(w: HrvWindow, baseline: RestingBaseline) -> np.ndarray:
    q = _QUALITY.get(w.quality)
    if q is None:
        raise ValueError(f"HrvWindow.quality={w.quality!r}: expected one of {sorted(_QUALITY)}")
    if q == 0.0:
        return np.zeros(len(FEATURE_NAMES), dtype=np.float32)
    return np.array(
        [
            _log_ratio(w.hr_bpm, baseline.hr_bpm),
            _log_ratio(w.rmssd_ms, baseline.rmssd_ms),
            _log_ratio(w.sdnn_ms, baseline.sdnn_ms),
            q,
        ],
        dtype=np.float32,
    )


def windows_to_features(windows: Sequence[HrvWindow], baseline: RestingBaseline) -> np.ndarray:
    """``(n_windows, 4)`` float32."""
    if not windows:
        return np.zeros((0, len(FEATURE_NAMES)), dtype=np.float32)
    return np.stack([window_features(w, baseline) for w in windows])


class HrvSequencer:
    """Push windows; after each, the model input of the last ``seq_len`` windows (once full)."""

    def __init__(self, baseline: RestingBaseline, seq_len: int = 16):
        if seq_len < 1:
            raise ValueError(f"seq_len={seq_len!r}: expected >= 1")
        self.baseline, self.seq_len = baseline, seq_len
        self._buf: Deque[np.ndarray] = deque(maxlen=seq_len)  # drop-oldest by design

    def push(self, windows: Iterable[HrvWindow]) -> List[np.ndarray]:
        out = []
        for w in windows:
            self._buf.append(window_features(w, self.baseline))
            if len(self._buf) == self.seq_len:
                out.append(np.stack(self._buf))
        return out
