"""Decoder for the "one number per line" text that hobby ECG sketches print.

Lines are ASCII integers (``512``), optionally ``!`` for "leads off" (the SparkFun AD8232
example prints that), ended by ``\\n`` or ``\\r\\n``. There are no timestamps: the host
stamps each read and the sample rate is estimated from the arrival of many samples.
Pure logic: the caller passes the host time of each read.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Deque, List, Optional, Tuple

__all__ = ["LegacyTextDecoder", "LegacyChunk", "MAX_LINE"]

MAX_LINE = 32


@dataclass(frozen=True)
class LegacyChunk:
    first_index: int
    t_first: float  # estimated host time of values[0]
    fs: float  # estimated sample rate at this chunk
    values: Tuple[Optional[int], ...]  # None: the sketch reported leads off for this sample


@dataclass
class LegacyStats:
    lines: int = 0
    bad_lines: int = 0  # not an integer nor "!", or longer than MAX_LINE
    lead_off: int = 0


@dataclass
class _Rate:
    """Sample rate and time offset from (host time of a read, samples received so far)."""

    window_s: float
    points: Deque[Tuple[float, int]] = field(default_factory=deque)

    def add(self, t: float, n_total: int) -> None:
        self.points.append((t, n_total))
        while len(self.points) > 2 and t - self.points[0][0] > self.window_s:
            self.points.popleft()

    def rate(self) -> Optional[float]:
        if len(self.points) < 3:
            return None
        ts = [p[0] for p in self.points]
        ns = [p[1] for p in self.points]
        mt, mn = sum(ts) / len(ts), sum(ns) / len(ns)
        var = sum((t - mt) ** 2 for t in ts)
        if var <= 0:
            return None
        slope = sum((t - mt) * (n - mn) for t, n in zip(ts, ns)) / var
        return slope if slope > 0 else None

    def offset(self, fs: float) -> float:
        # a sample is never received before it was taken: the lower envelope is the clock
        return min(t - n / fs for t, n in self.points)


class LegacyTextDecoder:
    """``feed(data, t_host) -> [LegacyChunk]``; ``fs_hint`` is used until an estimate exists."""

    def __init__(self, fs_hint: float = 250.0, window_s: float = 10.0):
        if fs_hint <= 0:
            raise ValueError(f"fs_hint={fs_hint!r}: expected a positive sample rate in Hz")
        self.fs_hint = fs_hint
        self.stats = LegacyStats()
        self._buf = b""
        self._overflow = False
        self._n = 0
        self._rate = _Rate(window_s)

    @property
    def samples(self) -> int:
        """Samples decoded so far."""
        return self._n

    @property
    def fs(self) -> float:
        est = self._rate.rate()
        return est if est is not None else self.fs_hint

    def feed(self, data: bytes, t_host: float) -> List[LegacyChunk]:
        lines = (self._buf + bytes(data)).split(b"\n")
        self._buf = lines.pop()
        if len(self._buf) > MAX_LINE:
            self._buf, self._overflow = b"", True
        values: List[Optional[int]] = []
        for raw in lines:
            if self._overflow:  # the rest of an over-long line
                self._overflow = False
                self.stats.bad_lines += 1
                continue
            line = raw.strip()
            if not line:
                continue
            self.stats.lines += 1
            if line == b"!":
                self.stats.lead_off += 1
                values.append(None)
                continue
            if len(line) > MAX_LINE:
                self.stats.bad_lines += 1
                continue
            try:
                values.append(int(line))
            except ValueError:
                self.stats.bad_lines += 1
        if not values:
            return []
        first = self._n
        self._n += len(values)
        self._rate.add(t_host, self._n)
        fs = self.fs
        t_first = self._rate.offset(fs) + (first + 1) / fs
        return [LegacyChunk(first, t_first, fs, tuple(values))]
