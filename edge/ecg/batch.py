"""Offline convenience over the streaming code: a whole record in, beats + quality + HRV out.

    res = analyze(ecg, fs, window_s=60, hop_s=5)
    res.beats, res.quality, res.windows

It pushes the record through :class:`EcgFrontEnd` and :class:`HrvWindower` exactly as a
live stream would (in ``chunk_s`` pieces; the result does not depend on the chunking),
so offline numbers are the numbers the device produces.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Sequence

import numpy as np

from .frontend import Beat, EcgFrontEnd, as_samples
from .hrv import HrvWindow, HrvWindower
from .quality import QualitySegment

__all__ = ["Analysis", "analyze", "reference_windows"]


@dataclass
class Analysis:
    beats: List[Beat]
    quality: List[QualitySegment]
    windows: List[HrvWindow]

    @property
    def beat_times(self) -> np.ndarray:
        return np.array([b.t for b in self.beats])


def analyze(
    ecg,
    fs: float,
    window_s: float = 30.0,
    hop_s: float = 5.0,
    t0: float = 0.0,
    chunk_s: float = 1.0,
    lead_off=None,
) -> Analysis:
    """Beats, per-second quality and HRV windows of a whole record.

    ``lead_off``: optional boolean array (one per sample) from the device's lead-off flag.
    """
    x = as_samples(ecg, "ecg")
    lo = None if lead_off is None else np.asarray(lead_off, dtype=bool).reshape(-1)
    if lo is not None and lo.size != x.size:
        raise ValueError(
            f"lead_off has {lo.size} flags for {x.size} samples: expected one per sample"
        )
    fe = EcgFrontEnd(fs, t0)
    w = HrvWindower(window_s, hop_s, t0)
    step = max(int(chunk_s * fs), 1)
    beats: List[Beat] = []
    quality: List[QualitySegment] = []
    windows: List[HrvWindow] = []
    for i in range(0, x.size, step):
        chunk = x[i : i + step]
        if lo is not None and lo[i : i + step].any():
            chunk = np.where(lo[i : i + step], np.nan, chunk)  # masked like NaN, sample-exact
        out = fe.push(chunk)
        beats += out.beats
        quality += out.quality
        windows += w.push(out.beats, out.t_decided, out.quality)
    return Analysis(beats, quality, windows)


def reference_windows(
    beat_times: Sequence[float],
    duration_s: float,
    window_s: float = 30.0,
    hop_s: float = 5.0,
    t0: float = 0.0,
) -> List[HrvWindow]:
    """HRV windows from known beat times (annotations, or a chest strap), for comparison."""
    w = HrvWindower(window_s, hop_s, t0)
    beats = [Beat(float(t), -1, float("nan")) for t in beat_times]
    return w.push(beats, t0 + duration_s)
