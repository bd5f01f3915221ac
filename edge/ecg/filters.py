"""Causal, stateful filters for streaming ECG (state carried across chunks).

Every filter here processes a chunk with the state left by the previous one, so a
signal pushed in any chunking gives bit-identical output to the whole signal pushed at
once (same operations in the same order). No per-chunk allocation of history.
"""

from __future__ import annotations

from typing import Optional, Sequence, Tuple

import numpy as np

from ..dsp import butter_sos, firwin, notch_sos, sosfilt_kernel, sosfilt_zi

__all__ = [
    "hold_invalid",
    "SosFilter",
    "MovingAverage",
    "design_detection_sos",
    "design_clean_sos",
    "EcgCleaner",
]

Mains = Optional[Sequence[float]]


def _notch_sos(fs: float, mains_hz: Mains, q: float = 30.0) -> list:
    out = []
    for f0 in mains_hz or ():
        if 0 < f0 < 0.45 * fs:  # a notch at/above ~Nyquist is meaningless at low fs
            out.append(notch_sos(f0, q, fs))
    return out


def design_detection_sos(
    fs: float, band_hz: Tuple[float, float] = (5.0, 30.0), mains_hz: Mains = (50.0, 60.0)
) -> np.ndarray:
    """QRS-band band-pass (+ powerline notches) as one second-order-section cascade."""
    hi = min(band_hz[1], 0.45 * fs)
    parts = [butter_sos(2, (band_hz[0], hi), "bandpass", fs)]
    parts += _notch_sos(fs, mains_hz)
    return np.vstack(parts)


def design_clean_sos(
    fs: float, highpass_hz: float = 0.5, lowpass_hz: float = 40.0, mains_hz: Mains = (50.0, 60.0)
) -> np.ndarray:
    """Diagnostic-ish cleaning: baseline-wander high-pass, notches, muscle-noise low-pass."""
    parts = [butter_sos(2, highpass_hz, "highpass", fs)]
    parts += _notch_sos(fs, mains_hz)
    parts.append(butter_sos(4, min(lowpass_hz, 0.45 * fs), "lowpass", fs))
    return np.vstack(parts)


def hold_invalid(x: np.ndarray, bad: np.ndarray, last: Optional[float]) -> Optional[np.ndarray]:
    """``x`` with every invalid (``bad``) sample replaced by the last valid one before it -
    ``last`` (the stream's previous valid sample) before the first valid one of ``x``, or that
    first valid sample when ``last`` is None. None when nothing is valid and there is no
    ``last``. Filters then see a held value instead of NaN, which would poison their state."""
    good = ~bad
    if not good.any():
        return None if last is None else np.full(x.size, last)
    idx = np.where(good, np.arange(x.size), -1)
    np.maximum.accumulate(idx, out=idx)
    first = last if last is not None else x[good][0]
    return np.where(idx >= 0, x[np.maximum(idx, 0)], first)


class SosFilter:
    """``sosfilt`` with carried state; the state starts at the steady state of the first sample.

    SciPy's compiled kernel is called directly (:func:`..dsp.sosfilt_kernel`): it skips
    ``scipy.signal.sosfilt``'s argument handling (~50 us, most of a small chunk's cost) and
    the ~70 MB import of ``scipy.signal``. Where that file is missing the public function
    is used; output is identical either way (same compiled loop).
    """

    def __init__(self, sos: np.ndarray):
        self.sos = np.ascontiguousarray(sos, dtype=np.float64)
        self._zi0 = sosfilt_zi(self.sos)
        self.zi: Optional[np.ndarray] = None  # shape (1, n_sections, 2) when set
        self._kernel = sosfilt_kernel()

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64).reshape(-1)
        out = np.empty(x.size)
        self.into(x, out)
        return out

    def into(self, x: np.ndarray, out: np.ndarray) -> None:
        """Filter ``x`` into ``out`` (same size, C-contiguous): no temporary arrays."""
        if x.size == 0:
            return
        if self.zi is None:
            self.zi = np.ascontiguousarray((self._zi0 * x[0])[None, :, :])
        out[:] = x
        if self._kernel is not None:
            self._kernel(self.sos, out.reshape(1, -1), self.zi)
        else:
            from scipy.signal import sosfilt

            out[:], zi = sosfilt(self.sos, x, zi=self.zi[0])
            self.zi = zi[None, :, :]

    def reset(self) -> None:
        self.zi = None


class MovingAverage:
    """Causal moving average over ``n`` samples with carried state (zeros before the start).

    O(1) per sample and bit-identical whatever the chunking: running sums restart at
    absolute block boundaries (every ``block`` samples) and are accumulated strictly
    sequentially (``np.add.accumulate`` continuing from the previous running sum), so
    every output is the same floating-point expression of the same inputs; restarting
    bounds the cancellation error of ``C[n] - C[n-w]``. The running sums of the current
    block live in one preallocated array, so a small chunk costs four numpy calls.
    """

    def __init__(self, n: int, block: int = 8192):
        self.n = int(n)
        self.block = max(int(block), self.n)
        self._cs = np.zeros(self.block)  # running sums of the current block, [0, _len)
        self._len = 0  # samples of the current block seen (= offset in the block)
        self._final_prev = 0.0  # last running sum of the previous block
        self._prev_tail = np.zeros(self.n)  # its last n running sums (zeros before the start)
        self._scale = 1.0 / self.n

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Moving *sums* scaled by 1/n (the mean), one per input sample."""
        x = np.asarray(x, dtype=np.float64)
        m, n, L, cs = x.size, self.n, self._len, self._cs
        if n <= L and L + m <= self.block:  # common case: inside one block, no look-back
            cs[L : L + m] = x
            np.add.accumulate(cs[L - 1 : L + m], out=cs[L - 1 : L + m])
            out = cs[L : L + m] - cs[L - n : L + m - n]
            self._len = L + m
            out *= self._scale
            return out
        return self._general(x, np.empty(m))

    def mean_of_squares(self, y: np.ndarray, out: np.ndarray) -> None:
        """``out[:] = self(y * y)``, written in place (the envelope of a streaming detector)."""
        m, n, L, cs = y.size, self.n, self._len, self._cs
        if n <= L and L + m <= self.block:
            seg = cs[L - 1 : L + m]
            np.multiply(y, y, out=seg[1:])
            np.add.accumulate(seg, out=seg)
            np.subtract(seg[1:], cs[L - n : L + m - n], out=out)
            out *= self._scale
            self._len = L + m
        else:
            self._general(y * y, out)

    def _general(self, x: np.ndarray, out: np.ndarray) -> np.ndarray:
        m, n, cs = x.size, self.n, self._cs
        pos = 0
        while pos < m:
            if self._len == self.block:  # block done: its tail feeds the next block's start
                self._prev_tail = cs[self.block - n :].copy()
                self._final_prev = float(cs[-1])
                self._len = 0
            L = self._len
            take = min(m - pos, self.block - L)
            part = x[pos : pos + take]
            if L == 0:
                np.add.accumulate(part, out=cs[:take])
            else:
                cs[L : L + take] = part
                np.add.accumulate(cs[L - 1 : L + take], out=cs[L - 1 : L + take])
            c = cs[L : L + take]
            o = out[pos : pos + take]
            t = min(max(n - L, 0), take)  # outputs whose j - n lies in the previous block
            if t:
                np.subtract(self._final_prev, self._prev_tail[L : L + t], out=o[:t])
                o[:t] += c[:t]
            np.subtract(c[t:], cs[L + t - n : L + take - n], out=o[t:])
            self._len = L + take
            pos += take
        out *= self._scale
        return out


def lowpass_fir(fs: float, cutoff_hz: float = 35.0, length_s: float = 0.04) -> np.ndarray:
    """Linear-phase low-pass (odd length): exact, frequency-independent delay."""
    n = max(int(round(length_s * fs)) | 1, 3)
    return firwin(n, min(cutoff_hz, 0.4 * fs), fs=fs)


class EcgCleaner:
    """Causal cleaned ECG for display/recording/quality: push chunks, get cleaned chunks."""

    def __init__(
        self,
        fs: float,
        highpass_hz: float = 0.5,
        lowpass_hz: float = 40.0,
        mains_hz: Mains = (50.0, 60.0),
    ):
        self.fs = float(fs)
        self._f = SosFilter(design_clean_sos(fs, highpass_hz, lowpass_hz, mains_hz))

    def push(self, samples) -> np.ndarray:
        return self._f(np.asarray(samples, dtype=np.float64).reshape(-1))
