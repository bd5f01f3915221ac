"""Map a device's sample clock onto the host's monotonic clock, drift-corrected. Pure logic.

Each observation is (device time of a frame's last sample, host time the frame arrived).
Arrival is never earlier than sampling, so the *lower envelope* of host - device is the
clock offset plus the smallest latency. The envelope is kept as per-block minima (one
block per ``block_s`` of device time); a least-squares line through the block minima
gives offset and drift (ppm), and ``to_host`` maps any device time.

The drift is bounded to ``max_drift`` (1 %, a ceramic resonator is within 0.5 %): a backlog
read all at once has minima falling with device time at a slope of -1, and an unbounded fit
would conclude the device clock stands still and time every sample at the arrival. For the
same reason a block whose minimum came with the same arrival (the same read) as a later frame
is dropped, not kept: that later frame, sampled after it, bounds the offset more tightly.
"""

from __future__ import annotations

from collections import deque
from typing import Deque, Optional, Tuple

__all__ = ["ClockMapper"]


class ClockMapper:
    def __init__(self, block_s: float = 2.0, n_blocks: int = 30, max_drift: float = 0.01):
        self.block_s = block_s
        self.max_drift = max_drift
        self._blocks: Deque[Tuple[float, float]] = deque(maxlen=n_blocks)  # (t_dev, min offset)
        # (block start, t_dev, offset, host arrival) of the current block's minimum
        self._cur: Optional[Tuple[float, float, float, float]] = None
        self._fit: Optional[Tuple[float, float, float]] = None  # (t_ref, offset at t_ref, slope)

    def reset(self) -> None:
        self._blocks.clear()
        self._cur = None
        self._fit = None

    @property
    def drift_ppm(self) -> float:
        return self._fit[2] * 1e6 if self._fit else 0.0

    def observe(self, t_dev: float, t_host: float) -> None:
        off = t_host - t_dev
        cur = self._cur
        if cur is None or t_dev - cur[0] >= self.block_s or t_dev < cur[0]:
            if cur is not None and not (cur[3] == t_host and t_dev > cur[1]):  # else: same read, dominated
                self._blocks.append((cur[1], cur[2]))
            self._cur = (t_dev, t_dev, off, t_host)
            self._refit()
        elif off < cur[2]:
            self._cur = (cur[0], t_dev, off, t_host)
            if not self._blocks:
                self._refit()
        below = self._line(t_dev) - off
        if below > 0:  # arrival before its mapped time is impossible: lower the line onto it
            t_ref, o_ref, slope = self._fit
            self._fit = (t_ref, o_ref - below, slope)

    def _refit(self) -> None:
        pts = list(self._blocks)
        if self._cur is not None:
            pts.append((self._cur[1], self._cur[2]))
        if len(pts) < 3:
            t, o = min(pts, key=lambda p: p[1])
            self._fit = (t, o, 0.0)
            return
        mt = sum(p[0] for p in pts) / len(pts)
        mo = sum(p[1] for p in pts) / len(pts)
        var = sum((p[0] - mt) ** 2 for p in pts)
        slope = sum((p[0] - mt) * (p[1] - mo) for p in pts) / var if var > 0 else 0.0
        slope = min(max(slope, -self.max_drift), self.max_drift)
        # shift the line down onto the envelope: no observation lies below it
        lift = min(p[1] - (mo + slope * (p[0] - mt)) for p in pts)
        self._fit = (mt, mo + lift, slope)

    def _line(self, t_dev: float) -> float:
        t_ref, o_ref, slope = self._fit
        return o_ref + slope * (t_dev - t_ref)

    def to_host(self, t_dev: float) -> float:
        if self._fit is None:
            raise ValueError("to_host() before any observe(): no device/host time pair yet")
        t_ref, o_ref, slope = self._fit
        return t_dev + o_ref + slope * (t_dev - t_ref)
