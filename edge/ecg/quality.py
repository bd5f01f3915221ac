"""Signal quality per one-second segment of raw ECG (pure, streaming, chunk-invariant).

Each completed second becomes a :class:`QualitySegment` with a label in
{valid, questionable, not-available} and the reasons:

- ``missing``: NaN/inf or lead-off samples (device flag) - more than half -> not-available;
- ``flat``: peak-to-peak below ``flat_range`` (disconnected lead, or stuck at a rail);
- ``clipped``: more than 1 % of samples pinned at the segment's extreme value in runs
  (amplifier saturation) -> questionable, more than 30 % -> not-available;
- ``noise``: kurtosis below 3.5 - ECG is spiky (kurtosis well above 5), broadband
  noise is Gaussian-like (3) - after Li, Mark & Clifford 2008 (kSQI) -> questionable.

Downstream (``HrvWindower``) turns segment labels into window labels and drops beats
that fall into not-available seconds, so estimates can be vetoed on signal quality.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Tuple

import numpy as np

__all__ = [
    "QualitySegment",
    "QualityTracker",
    "segment_quality",
    "VALID",
    "QUESTIONABLE",
    "NOT_AVAILABLE",
]

VALID, QUESTIONABLE, NOT_AVAILABLE = "valid", "questionable", "not-available"
_sum, _min, _max = np.add.reduce, np.minimum.reduce, np.maximum.reduce
RANK = {VALID: 0, QUESTIONABLE: 1, NOT_AVAILABLE: 2}


@dataclass(frozen=True)
class QualitySegment:
    t_start: float
    t_end: float
    label: str
    reason: str = ""
    missing_frac: float = 0.0
    clipped_frac: float = 0.0
    kurtosis: float = float("nan")


def segment_quality(
    x: np.ndarray, bad: np.ndarray, flat_range: float = 0.005
) -> Tuple[str, str, float, float, float]:
    """(label, reason, missing fraction, clipped fraction, kurtosis) of one segment."""
    # ufunc reductions instead of ndarray.mean/min/max: the same sums and divisions (same
    # values), without numpy's Python-level wrappers - this runs once per second of stream
    n = x.size
    n_bad = int(np.count_nonzero(bad)) if n else 0
    missing = n_bad / n if n else 1.0
    good = x[~bad] if n_bad else x
    if missing > 0.5 or good.size < 8:
        return (
            NOT_AVAILABLE,
            f"{missing:.0%} samples missing or lead off",
            missing,
            0.0,
            float("nan"),
        )
    lo, hi = float(_min(good)), float(_max(good))
    if hi - lo < flat_range:
        return NOT_AVAILABLE, f"flat line (range {hi - lo:.3g})", missing, 0.0, float("nan")
    pinned = (good == hi) | (good == lo)
    runs = pinned[1:] & pinned[:-1]  # pinned in consecutive samples: saturation, not a peak
    m = good.size
    clipped = float(np.count_nonzero(runs)) / m
    c = good - _sum(good) / m
    v = float(_sum(c * c) / m)
    kurt = float((_sum(c**4) / m) / (v * v)) if v > 0 else float("nan")
    if clipped > 0.3:
        return (
            NOT_AVAILABLE,
            f"saturated ({clipped:.0%} samples at the rail)",
            missing,
            clipped,
            kurt,
        )
    reasons = []
    if clipped > 0.01:
        reasons.append(f"clipped {clipped:.0%}")
    if missing > 0:
        reasons.append(f"{missing:.0%} samples missing")
    if kurt < 3.5:
        reasons.append(f"noise-like (kurtosis {kurt:.1f})")
    return (QUESTIONABLE if reasons else VALID), "; ".join(reasons), missing, clipped, kurt


class QualityTracker:
    """Push raw chunks (+ invalid mask); get completed one-second :class:`QualitySegment` s."""

    def __init__(
        self, fs: float, t0: float = 0.0, segment_s: float = 1.0, flat_range: float = 0.005
    ):
        self.fs, self.t0 = float(fs), float(t0)
        self.seg = max(int(round(segment_s * fs)), 1)
        self.flat_range = flat_range
        self._xb = np.empty(self.seg)  # the pending part of the current second
        self._bb = np.zeros(self.seg, bool)
        self._k = 0  # samples pending (< seg)
        self._done = 0  # segments completed
        self._zeros = np.zeros(0, bool)

    def _no_bad(self, n: int) -> np.ndarray:
        if self._zeros.size < n:
            self._zeros = np.zeros(n, bool)
        return self._zeros[:n]

    def push(self, x: np.ndarray, bad: Optional[np.ndarray]) -> List[QualitySegment]:
        n = x.size
        if n == 0:
            return []
        k = self._k
        if k + n < self.seg:  # the second is not complete: only buffered (copies, no lists)
            self._xb[k : k + n] = x
            self._bb[k : k + n] = False if bad is None else bad
            self._k = k + n
            return []
        xs = np.concatenate((self._xb[:k], x))
        bs = np.concatenate((self._bb[:k], self._no_bad(n) if bad is None else bad))
        m = xs.size // self.seg
        out = []
        for i in range(m):
            sl = slice(i * self.seg, (i + 1) * self.seg)
            label, reason, miss, clip, kurt = segment_quality(xs[sl], bs[sl], self.flat_range)
            t = self.t0 + (self._done * self.seg) / self.fs
            out.append(QualitySegment(t, t + self.seg / self.fs, label, reason, miss, clip, kurt))
            self._done += 1
        rest = m * self.seg
        self._k = xs.size - rest
        self._xb[: self._k] = xs[rest:]
        self._bb[: self._k] = bs[rest:]
        return out
