"""Log-mel features in numpy: the *one* implementation used by training and the device.

Definition (so that an independent implementation can be checked against it):

- audio is float in [-1, 1], mono, resampled to ``cfg.sample_rate`` with a polyphase
  filter (:func:`resample_to`, ``resample_poly`` as in scipy);
- frames of ``n_fft`` samples every ``hop`` samples, no centring and no padding except
  that audio shorter than one frame is zero-padded to one frame (causal: a frame only
  needs samples that have already arrived, so :class:`StreamingLogMel` gives identical
  frames for any chunking);
- periodic Hann window, power spectrum ``|rfft|**2``;
- triangular filters equally spaced on the HTK mel scale ``2595 log10(1 + f/700)``
  between ``fmin`` and ``fmax``, peak 1 (no area normalisation);
- ``log(mel_power + eps)`` (natural log), float32, shape ``(n_frames, n_mels)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Optional

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

__all__ = [
    "LogMelConfig",
    "hz_to_mel",
    "mel_to_hz",
    "mel_filterbank",
    "log_mel",
    "resample_to",
    "StreamingLogMel",
]


@dataclass(frozen=True)
class LogMelConfig:
    sample_rate: int = 16000
    n_fft: int = 400  # 25 ms
    hop: int = 160  # 10 ms
    n_mels: int = 40
    fmin: float = 50.0
    fmax: float = 8000.0
    eps: float = 1e-6

    def __post_init__(self) -> None:
        if self.sample_rate <= 0 or self.n_fft <= 0 or self.hop <= 0 or self.n_mels <= 0:
            raise ValueError(f"{self!r}: sample_rate, n_fft, hop and n_mels must be > 0")
        if not 0 <= self.fmin < self.fmax <= self.sample_rate / 2:
            raise ValueError(
                f"fmin={self.fmin!r}, fmax={self.fmax!r}: expected 0 <= fmin < fmax <= "
                f"sample_rate/2 = {self.sample_rate / 2:g}"
            )

    def n_frames(self, n_samples: int) -> int:
        return 1 + max(n_samples - self.n_fft, 0) // self.hop

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def hz_to_mel(f):
    return 2595.0 * np.log10(1.0 + np.asarray(f, dtype=np.float64) / 700.0)


def mel_to_hz(m):
    return 700.0 * (10.0 ** (np.asarray(m, dtype=np.float64) / 2595.0) - 1.0)


def mel_filterbank(
    sample_rate: int, n_fft: int, n_mels: int, fmin: float, fmax: float
) -> np.ndarray:
    """Triangular mel filters, shape ``(n_mels, n_fft // 2 + 1)``, each with peak 1."""
    freqs = np.arange(n_fft // 2 + 1) * (sample_rate / n_fft)
    edges = mel_to_hz(np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), n_mels + 2))
    lo, mid, hi = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (freqs[None, :] - lo) / (mid - lo)
    falling = (hi - freqs[None, :]) / (hi - mid)
    return np.maximum(0.0, np.minimum(rising, falling))


_FB_CACHE: dict = {}


def _filterbank(cfg: LogMelConfig) -> np.ndarray:
    key = (cfg.sample_rate, cfg.n_fft, cfg.n_mels, cfg.fmin, cfg.fmax)
    fb = _FB_CACHE.get(key)
    if fb is None:
        fb = mel_filterbank(*key)
        _FB_CACHE[key] = fb
    return fb


def _hann(n: int) -> np.ndarray:
    return 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(n) / n)  # periodic


def log_mel(audio, cfg: Optional[LogMelConfig] = None) -> np.ndarray:
    """Log-mel spectrogram of mono audio already at ``cfg.sample_rate``."""
    cfg = cfg or LogMelConfig()
    x = np.asarray(audio, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"audio has shape {x.shape}: expected mono 1-D samples")
    if x.size < cfg.n_fft:
        x = np.concatenate([x, np.zeros(cfg.n_fft - x.size)])
    frames = sliding_window_view(x, cfg.n_fft)[:: cfg.hop]
    power = np.abs(np.fft.rfft(frames * _hann(cfg.n_fft), axis=1)) ** 2
    return np.log(power @ _filterbank(cfg).T + cfg.eps).astype(np.float32)


def resample_to(audio, sr_in: int, sr_out: int) -> np.ndarray:
    """Polyphase resampling (:func:`..dsp.resample_poly`) from ``sr_in`` to ``sr_out``."""
    from ..dsp import resample_poly

    x = np.asarray(audio, dtype=np.float64)
    if sr_in <= 0 or sr_out <= 0:
        raise ValueError(f"sr_in={sr_in!r}, sr_out={sr_out!r}: expected positive sample rates")
    if int(sr_in) == int(sr_out):
        return x
    ratio = Fraction(int(sr_out), int(sr_in))
    return resample_poly(x, ratio.numerator, ratio.denominator)


class StreamingLogMel:
    """Push audio chunks at ``cfg.sample_rate``; get the log-mel frames that became complete.

    Frames are exactly those :func:`log_mel` returns for the concatenated audio (for audio
    of at least one frame), whatever the chunking.
    """

    def __init__(self, cfg: Optional[LogMelConfig] = None):
        self.cfg = cfg or LogMelConfig()
        self._buf = np.zeros(0)

    def push(self, chunk) -> np.ndarray:
        x = np.asarray(chunk, dtype=np.float64).reshape(-1)
        self._buf = np.concatenate([self._buf, x])
        cfg = self.cfg
        if self._buf.size < cfg.n_fft:
            return np.zeros((0, cfg.n_mels), dtype=np.float32)
        n = cfg.n_frames(self._buf.size)
        used = (n - 1) * cfg.hop + cfg.n_fft
        out = log_mel(self._buf[:used], cfg)
        self._buf = self._buf[n * cfg.hop :]
        return out
