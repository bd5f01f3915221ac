"""Model input features from HRV windows, relative to a per-user resting baseline.

Shared by training (``cardiotune.export.skeleton_va``) and the runtime, so there is no
train/serve skew. Absolute heart rate says little across people (resting HR ranges from
~50 to ~90 bpm); the change from the wearer's own resting baseline carries the arousal
signal, hence log ratios to a baseline taken from the first minutes (calibration).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import List, Optional

import numpy as np

from .ecg.hrv import VALID, HrvWindow

__all__ = ["FEATURE_NAMES", "Baseline", "BaselineTracker", "feature_vector"]

FEATURE_NAMES = ("log_hr_ratio", "log_rmssd_ratio", "log_sdnn_ratio")


@dataclass(frozen=True)
class Baseline:
    hr_bpm: float
    rmssd_ms: float
    sdnn_ms: float
    n_windows: int

    def to_dict(self) -> dict:
        return {"hr_bpm": self.hr_bpm, "rmssd_ms": self.rmssd_ms, "sdnn_ms": self.sdnn_ms,
                "n_windows": self.n_windows}


class BaselineTracker:
    """Median of the valid windows that end within the first ``calibration_s`` seconds.

    Until calibration completes, ``baseline`` is provisional (median so far) and
    ``calibrated`` is False; the runtime marks estimates made on it as questionable.
    """

    def __init__(self, calibration_s: float = 120.0, t0: float = 0.0, min_windows: int = 10):
        self.calibration_s, self.t0, self.min_windows = float(calibration_s), float(t0), int(min_windows)
        self._rows: List[tuple] = []
        self._frozen: Optional[Baseline] = None

    @classmethod
    def fixed(cls, baseline: Baseline) -> BaselineTracker:
        """A tracker that starts calibrated, e.g. with a stored per-user baseline."""
        tracker = cls()
        tracker._frozen = baseline
        return tracker

    @property
    def calibrated(self) -> bool:
        return self._frozen is not None

    def update(self, window: HrvWindow) -> None:
        if self._frozen is not None:
            return
        if window.quality == VALID:
            self._rows.append((window.hr_bpm, window.rmssd_ms, window.sdnn_ms))
        if window.t_end - self.t0 >= self.calibration_s and len(self._rows) >= self.min_windows:
            self._frozen = self._median()

    def _median(self) -> Optional[Baseline]:
        if not self._rows:
            return None
        hr, rmssd, sdnn = np.median(np.asarray(self._rows), axis=0)
        return Baseline(float(hr), float(rmssd), float(sdnn), len(self._rows))

    @property
    def baseline(self) -> Optional[Baseline]:
        return self._frozen if self._frozen is not None else self._median()


def _log_ratio(x: float, ref: float) -> float:
    if not (x > 0 and ref > 0):
        return math.nan
    return math.log(x / ref)


def feature_vector(window: HrvWindow, baseline: Baseline) -> np.ndarray:
    """float32 vector in the order of ``FEATURE_NAMES``; NaN where a value is missing."""
    return np.array(
        [
            _log_ratio(window.hr_bpm, baseline.hr_bpm),
            _log_ratio(window.rmssd_ms, baseline.rmssd_ms),
            _log_ratio(window.sdnn_ms, baseline.sdnn_ms),
        ],
        dtype=np.float32,
    )
