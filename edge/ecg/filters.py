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
    """Causal moving average over ``n`` samples with carried history (zeros before the start).

    Each output is ``np.convolve`` of the same samples in the same order whatever the
    chunking, so results are bit-identical across chunkings; no running sum drifts.
    """

    def __init__(self, n: int):
        self.n = int(n)
        self._k = np.full(self.n, 1.0 / self.n)
        self._tail = np.zeros(self.n - 1)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        if x.size == 0:
            return x.astype(np.float64)
        z = np.concatenate([self._tail, x])
        self._tail = z[z.size - (self.n - 1) :] if self.n > 1 else z[:0]
        return np.convolve(z, self._k, mode="valid")


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
