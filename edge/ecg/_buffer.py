"""A growable, compacting sample buffer addressed by absolute stream index.

Appends are amortised O(chunk); old samples are discarded by moving the live tail to
the front only when the spare capacity runs out (never an ``np.roll`` per chunk).
"""

from __future__ import annotations

import numpy as np

__all__ = ["StreamBuffer"]


class StreamBuffer:
    def __init__(self, capacity: int = 4096, dtype=np.float64):
        self._data = np.zeros(max(int(capacity), 16), dtype=dtype)
        self._len = 0  # live samples in _data[:_len]
        self.start = 0  # absolute index of _data[0]

    @property
    def end(self) -> int:
        """Absolute index one past the last sample."""
        return self.start + self._len

    def append(self, x: np.ndarray) -> None:
        n = x.size
        if n == 0:
            return
        if self._len + n > self._data.size:
            grown = np.zeros(max(2 * self._data.size, self._len + n), dtype=self._data.dtype)
            grown[: self._len] = self._data[: self._len]
            self._data = grown
        self._data[self._len : self._len + n] = x
        self._len += n

    def extend(self, n: int) -> np.ndarray:
        """Grow by ``n`` samples and return their (writable) slot, to be filled in place."""
        L = self._len
        if L + n > self._data.size:
            grown = np.zeros(max(2 * self._data.size, L + n), dtype=self._data.dtype)
            grown[:L] = self._data[:L]
            self._data = grown
        self._len = L + n
        return self._data[L : L + n]

    def view(self, lo: int, hi: int) -> np.ndarray:
        """Samples with absolute indices ``[lo, hi)`` (clipped to what is held)."""
        a = max(lo - self.start, 0)
        b = min(hi - self.start, self._len)
        return self._data[a:b] if b > a else self._data[0:0]

    def __getitem__(self, i: int) -> float:
        return self._data[i - self.start]

    def discard_before(self, index: int) -> None:
        """Forget samples before absolute ``index`` (compacts once half the buffer is dead)."""
        drop = min(index - self.start, self._len)
        if drop <= 0:
            return
        if drop >= self._data.size // 2 or drop == self._len:
            keep = self._len - drop
            self._data[:keep] = self._data[drop : self._len]
            self._len = keep
            self.start += drop
