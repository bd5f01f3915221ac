"""Realistic ECG noise at a chosen SNR, seeded (for robustness tests and ``eval rpeaks --snr``).

Noise types, modelled on what the MIT-BIH Noise Stress Test Database records
(Moody, Muldrow & Mark 1984) contain; generated here because that database is not
shipped with the project:

- ``bw``  baseline wander: respiration (0.15-0.4 Hz) and slow drift (< 0.1 Hz) plus a
  random walk, as from breathing and electrode-skin impedance changes;
- ``em``  electrode motion: intermittent bursts of band-limited (1-15 Hz) noise and
  steps with exponential recovery, as from a moving person pulling on the electrode -
  the hardest kind for detectors because it overlaps the QRS band;
- ``ma``  muscle artefact: band-limited (20-150 Hz) Gaussian noise with a slowly
  varying envelope (EMG bursts);
- ``pl``  powerline: 50 or 60 Hz plus its third harmonic, with slow amplitude drift.

SNR follows the noise stress test convention (``nst``): signal power is
``(median QRS peak-to-peak amplitude)**2 / 8``, noise power is its mean square.
"""

from __future__ import annotations

from typing import Dict, Optional, Sequence

import numpy as np
from scipy.signal import butter, sosfiltfilt

__all__ = ["NOISE_KINDS", "make_noise", "add_noise", "qrs_signal_power"]

NOISE_KINDS = ("bw", "em", "ma", "pl")
DEFAULT_MIX: Dict[str, float] = {"bw": 0.25, "em": 0.35, "ma": 0.3, "pl": 0.1}


def _band(x: np.ndarray, fs: float, lo: Optional[float], hi: Optional[float]) -> np.ndarray:
    nyq = 0.5 * fs
    if lo and hi and hi < nyq * 0.95:
        sos = butter(2, (lo, hi), btype="bandpass", fs=fs, output="sos")
    elif lo:
        sos = butter(2, lo, btype="highpass", fs=fs, output="sos")
    else:
        sos = butter(2, min(hi, nyq * 0.95), btype="lowpass", fs=fs, output="sos")
    return sosfiltfilt(sos, x)


def _unit(x: np.ndarray) -> np.ndarray:
    rms = float(np.sqrt(np.mean(x * x))) if x.size else 0.0
    return x / rms if rms > 0 else x


def make_noise(
    kind: str, n: int, fs: float, rng: np.random.Generator, mains_hz: float = 50.0
) -> np.ndarray:
    """Unit-RMS noise of one kind (see module docstring)."""
    t = np.arange(n) / fs
    if kind == "bw":
        resp = np.sin(2 * np.pi * rng.uniform(0.15, 0.4) * t + rng.uniform(0, 6.3))
        drift = np.sin(2 * np.pi * rng.uniform(0.01, 0.08) * t + rng.uniform(0, 6.3))
        walk = _band(np.cumsum(rng.normal(0, 1, n)), fs, None, 0.5)
        return _unit(_unit(resp) + 0.7 * _unit(drift) + 0.5 * _unit(walk - walk.mean()))
    if kind == "em":
        base = _band(rng.normal(0, 1, n), fs, 1.0, 15.0)
        # bursts: on/off envelope with ~2-8 s episodes covering about half the time
        env = np.zeros(n)
        i = 0
        while i < n:
            on = int(rng.uniform(2, 8) * fs)
            off = int(rng.uniform(1, 6) * fs)
            env[i : i + on] = rng.uniform(0.5, 1.5)
            i += on + off
        env = _band(env, fs, None, 2.0)
        steps = np.zeros(n)
        for k in rng.integers(0, max(n, 1), size=max(int(n / fs / 10), 1)):
            decay = np.exp(-np.arange(n - k) / (rng.uniform(0.2, 1.0) * fs))
            steps[k:] += rng.normal(0, 1.5) * decay
        return _unit(base * np.abs(env) + 0.3 * _unit(steps))
    if kind == "ma":
        hi = min(150.0, 0.45 * fs)
        base = _band(rng.normal(0, 1, n), fs, 20.0, hi)
        env = 0.4 + np.abs(_band(rng.normal(0, 1, n), fs, None, 0.5))
        return _unit(base * _unit(env))
    if kind == "pl":
        f0 = mains_hz if mains_hz < 0.45 * fs else 0.3 * fs
        drift = 1.0 + 0.2 * np.sin(2 * np.pi * 0.05 * t + rng.uniform(0, 6.3))
        x = np.sin(2 * np.pi * f0 * t + rng.uniform(0, 6.3))
        if 3 * f0 < 0.45 * fs:
            x = x + 0.2 * np.sin(2 * np.pi * 3 * f0 * t)
        return _unit(drift * x)
    raise ValueError(f"noise kind {kind!r}: expected one of {', '.join(NOISE_KINDS)}")


def qrs_signal_power(ecg: np.ndarray, fs: float, beats: Sequence[int]) -> float:
    """NST signal power: (median QRS peak-to-peak amplitude)**2 / 8."""
    h = max(int(0.05 * fs), 1)
    b = np.asarray(beats, dtype=int)
    b = b[(b >= h) & (b < ecg.size - h)]
    if b.size == 0:
        raise ValueError("qrs_signal_power: no beats inside the signal to measure QRS amplitude")
    win = ecg[b[:, None] + np.arange(-h, h + 1)[None, :]]
    p2p = float(np.median(win.max(axis=1) - win.min(axis=1)))
    return p2p * p2p / 8.0


def add_noise(
    ecg,
    fs: float,
    snr_db: float,
    beats: Sequence[int],
    kinds: Dict[str, float] | None = None,
    seed: int = 0,
    mains_hz: float = 50.0,
) -> np.ndarray:
    """``ecg`` plus a seeded mix of noise kinds (weights = share of noise power) at ``snr_db``."""
    x = np.asarray(ecg, dtype=np.float64)
    mix = dict(DEFAULT_MIX if kinds is None else kinds)
    total = sum(mix.values())
    if not mix or total <= 0:
        raise ValueError(f"kinds={kinds!r}: expected positive weights for some of {NOISE_KINDS}")
    rng = np.random.default_rng(seed)
    noise = np.zeros_like(x)
    for kind, w in mix.items():
        noise += np.sqrt(w / total) * make_noise(kind, x.size, fs, rng, mains_hz)
    p_sig = qrs_signal_power(x, fs, beats)
    p_noise = float(np.mean(noise * noise))
    scale = np.sqrt(p_sig / (p_noise * 10 ** (snr_db / 10.0))) if p_noise > 0 else 0.0
    return x + scale * noise
