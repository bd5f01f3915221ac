"""Heart rate and HRV over sliding windows of beats, with a quality status per window.

Pure logic: push beats and the time up to which beats are final; get windows back.
Windows are emitted on data time, so a silent stretch (lead off, no beats) still yields
windows, flagged ``not-available`` - never a stale value presented as fresh.
"""
from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import Deque, Iterable, List

import numpy as np

from .frontend import Beat

__all__ = ["HrvWindow", "HrvWindower", "VALID", "QUESTIONABLE", "NOT_AVAILABLE", "hrv_from_rr"]

VALID, QUESTIONABLE, NOT_AVAILABLE = "valid", "questionable", "not-available"
RR_MIN_S, RR_MAX_S = 0.3, 2.0  # 30-200 bpm: outside this an interval is an artefact


@dataclass(frozen=True)
class HrvWindow:
    t_start: float
    t_end: float
    n_beats: int
    hr_bpm: float
    rmssd_ms: float
    sdnn_ms: float
    quality: str
    reason: str = ""


def hrv_from_rr(rr_s: np.ndarray):
    """HR (bpm), RMSSD (ms), SDNN (ms) of clean RR intervals in seconds."""
    if rr_s.size < 2:
        return math.nan, math.nan, math.nan
    hr = 60.0 / float(np.mean(rr_s))
    rmssd = 1000.0 * float(np.sqrt(np.mean(np.diff(rr_s) ** 2)))
    sdnn = 1000.0 * float(np.std(rr_s, ddof=1))
    return hr, rmssd, sdnn


class HrvWindower:
    """Sliding windows of ``window_s`` every ``hop_s`` over the beat stream."""

    def __init__(self, window_s: float = 30.0, hop_s: float = 1.0, t0: float = 0.0, min_beats: int = 8):
        if window_s <= 0 or hop_s <= 0:
            raise ValueError(f"window_s={window_s!r}, hop_s={hop_s!r}: expected both > 0")
        self.window_s, self.hop_s, self.min_beats = float(window_s), float(hop_s), int(min_beats)
        self._next_end = float(t0) + self.window_s
        self._beats: Deque[float] = deque()

    def push(self, beats: Iterable[Beat], t_decided: float) -> List[HrvWindow]:
        for b in beats:
            self._beats.append(b.t)
        out: List[HrvWindow] = []
        while self._next_end <= t_decided:
            out.append(self._window(self._next_end - self.window_s, self._next_end))
            self._next_end += self.hop_s
        horizon = self._next_end - self.window_s - RR_MAX_S
        while self._beats and self._beats[0] < horizon:
            self._beats.popleft()
        return out

    def _window(self, t_start: float, t_end: float) -> HrvWindow:
        t = np.fromiter((x for x in self._beats if t_start <= x < t_end), dtype=float)
        rr = np.diff(t)
        good = (rr >= RR_MIN_S) & (rr <= RR_MAX_S)
        # successive-difference rule (Malik 1989): >20 % jump from the previous interval
        if rr.size > 1:
            jump = np.abs(np.diff(rr)) > 0.2 * rr[:-1]
            good[1:] &= ~jump
        expected = self.window_s / float(np.median(rr)) if rr.size else 0.0
        if t.size < self.min_beats or good.sum() < self.min_beats - 1:
            return HrvWindow(t_start, t_end, int(t.size), math.nan, math.nan, math.nan,
                             NOT_AVAILABLE, f"only {t.size} beats in {self.window_s:g} s")
        hr, rmssd, sdnn = hrv_from_rr(rr[good])
        bad_frac = 1.0 - good.sum() / rr.size
        gap = (t[0] - t_start) + (t_end - t[-1])
        if bad_frac > 0.2 or gap > 3.0 or t.size < 0.7 * expected:
            quality, reason = QUESTIONABLE, f"{bad_frac:.0%} artefact intervals, {gap:.1f} s without beats"
        else:
            quality, reason = VALID, ""
        return HrvWindow(t_start, t_end, int(t.size), hr, rmssd, sdnn, quality, reason)
