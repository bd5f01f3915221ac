"""Causal, stateful filters for streaming ECG (state carried across chunks).

Every filter here processes a chunk with the state left by the previous one, so a
signal pushed in any chunking gives bit-identical output to the whole signal pushed at
once (same operations in the same order). No per-chunk allocation of history.
"""

from __future__ import annotations

from typing import Optional, Sequence, Tuple

import numpy as np
from scipy.signal import butter, firwin, iirnotch, lfilter, lfilter_zi, sosfilt, sosfilt_zi, tf2sos

try:  # the compiled kernel behind scipy.signal.sosfilt, without its per-call validation
    from scipy.signal._sosfilt import _sosfilt as _sosfilt_kernel
except ImportError:  # pragma: no cover - other SciPy layouts use the public function
    _sosfilt_kernel = None

__all__ = [
    "SosFilter",
    "FirFilter",
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
            b, a = iirnotch(f0, q, fs=fs)
            out.append(tf2sos(b, a))
    return out


def design_detection_sos(
    fs: float, band_hz: Tuple[float, float] = (5.0, 30.0), mains_hz: Mains = (50.0, 60.0)
) -> np.ndarray:
    """QRS-band band-pass (+ powerline notches) as one second-order-section cascade."""
    hi = min(band_hz[1], 0.45 * fs)
    parts = [butter(2, (band_hz[0], hi), btype="bandpass", fs=fs, output="sos")]
    parts += _notch_sos(fs, mains_hz)
    return np.vstack(parts)


def design_clean_sos(
    fs: float, highpass_hz: float = 0.5, lowpass_hz: float = 40.0, mains_hz: Mains = (50.0, 60.0)
) -> np.ndarray:
    """Diagnostic-ish cleaning: baseline-wander high-pass, notches, muscle-noise low-pass."""
    parts = [butter(2, highpass_hz, btype="highpass", fs=fs, output="sos")]
    parts += _notch_sos(fs, mains_hz)
    parts.append(butter(4, min(lowpass_hz, 0.45 * fs), btype="lowpass", fs=fs, output="sos"))
    return np.vstack(parts)


class SosFilter:
    """``sosfilt`` with carried state; the state starts at the steady state of the first sample.

    Small chunks are dominated by ``scipy.signal.sosfilt``'s argument handling (~50 us),
    so the compiled kernel is called directly when SciPy exposes it; output is identical.
    """

    def __init__(self, sos: np.ndarray):
        self.sos = np.ascontiguousarray(sos, dtype=np.float64)
        self._zi0 = sosfilt_zi(self.sos)
        self.zi: Optional[np.ndarray] = None  # shape (1, n_sections, 2) when set

    def __call__(self, x: np.ndarray) -> np.ndarray:
        if x.size == 0:
            return x.astype(np.float64)
        if self.zi is None:
            self.zi = np.ascontiguousarray((self._zi0 * x[0])[None, :, :])
        if _sosfilt_kernel is not None:
            y = np.array(x, dtype=np.float64, order="C").reshape(1, -1)
            _sosfilt_kernel(self.sos, y, self.zi)
            return y[0]
        y, zi = sosfilt(self.sos, x, zi=self.zi[0])
        self.zi = zi[None, :, :]
        return y

    def reset(self) -> None:
        self.zi = None


class FirFilter:
    """FIR ``lfilter`` with carried state (delay = (taps-1)/2 samples for symmetric taps)."""

    def __init__(self, taps: np.ndarray, steady: bool = True):
        self.b = np.asarray(taps, dtype=np.float64)
        self._zi0 = lfilter_zi(self.b, [1.0]) if steady else np.zeros(self.b.size - 1)
        self._steady = steady
        self.zi: Optional[np.ndarray] = None

    @property
    def delay(self) -> float:
        return (self.b.size - 1) / 2.0

    def __call__(self, x: np.ndarray) -> np.ndarray:
        if x.size == 0:
            return x.astype(np.float64)
        if self.zi is None:
            self.zi = self._zi0 * (x[0] if self._steady else 0.0)
        y, self.zi = lfilter(self.b, [1.0], x, zi=self.zi)
        return y

    def reset(self) -> None:
        self.zi = None


class MovingAverage:
    """Causal moving average over ``n`` samples with carried state (zeros before the start).

    O(1) per sample and bit-identical whatever the chunking: running sums restart at
    absolute block boundaries (every ``block`` samples) and are accumulated strictly
    sequentially (``np.cumsum``), so every output is the same floating-point expression
    of the same inputs; restarting bounds the cancellation error of ``C[n] - C[n-w]``.
    """

    def __init__(self, n: int, block: int = 8192):
        self.n = int(n)
        self.block = max(int(block), self.n)
        self._i = 0  # absolute index of the next sample
        self._carry = 0.0  # running sum up to the previous sample (same block)
        self._final_prev = 0.0  # last running sum of the previous block
        self._hist = np.zeros(self.n)  # running sums at absolute indices [i - n, i)
        self._scale = 1.0 / self.n

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Moving *sums* scaled by 1/n (the mean), one per input sample."""
        x = np.asarray(x, dtype=np.float64)
        n, acc = self.n, np.add.accumulate
        out = np.empty(x.size)
        pos = 0
        while pos < x.size:
            k, off = divmod(self._i, self.block)
            take = min(x.size - pos, self.block - off)
            part = x[pos : pos + take]
            if off == 0:
                c = acc(part)
            else:
                w = np.empty(take + 1)
                w[0] = self._carry
                w[1:] = part
                c = acc(w)[1:]
            hist = self._hist
            # running sums at j - n
            cm = hist[:take] if take <= n else np.concatenate((hist, c[: take - n]))
            # outputs j < t subtract a running sum of the previous block (or before the start)
            t = min(max(k * self.block - self._i + n, 0), take)
            o = out[pos : pos + take]
            if t:
                np.subtract(self._final_prev, cm[:t], out=o[:t])
                o[:t] += c[:t]
            np.subtract(c[t:], cm[t:], out=o[t:])
            self._hist = c[-n:] if take >= n else np.concatenate((hist[take:], c))
            self._carry = float(c[-1])
            if off + take == self.block:
                self._final_prev = self._carry
            self._i += take
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
