"""Seeded synthetic ECG whose autonomic modulation follows valence/arousal (VA).

Ground truth is known exactly, so the whole chain can be scored. Relations used (all
directions as reported in the literature; magnitudes are our choice and synthetic):

- Heart rate rises with arousal (Kreibig 2010, Biol. Psychol. 84:394, review of 134
  studies: HR increases in anger, fear, anxiety, amusement; decreases in calm states).
- Vagally mediated HRV (RMSSD, HF power) falls with arousal/stress and LF/HF rises
  (Castaldo et al. 2015, Biomed. Signal Process. Control 18:370, meta-analysis of
  stress; Thayer et al. 2012, Neurosci. Biobehav. Rev. 36:747).
- Respiration rate rises with arousal (Kreibig 2010), moving the HF peak.
- Valence has weak, less consistent cardiac correlates (Kreibig 2010); we model a small
  HF increase and small HR decrease for positive valence, so valence is only weakly
  identifiable from ECG - as in reality.

Rhythm: integral pulse frequency modulation (IPFM) of a mean rate with respiratory
(HF) and Mayer-wave (LF, 0.1 Hz) sinusoids plus low-pass noise. Waveform: a sum of
Gaussians per beat (P, Q, R, S, T) as in ECGSYN (McSharry et al. 2003, IEEE TBME 50:289),
with QT shortening by Bazett's sqrt(RR). Per-subject baselines differ (seeded).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Sequence, Tuple

import numpy as np

from ..dsp import sosfilt

__all__ = ["Phase", "SubjectProfile", "SyntheticSession", "synthesize_session", "DEMO_PHASES"]


@dataclass(frozen=True)
class Phase:
    """A stretch of a session with a target valence/arousal, both in [-1, 1]."""

    name: str
    duration_s: float
    valence: float
    arousal: float


# The bundled demo: rest -> stress -> recovery, 4 minutes each.
DEMO_PHASES: Tuple[Phase, ...] = (
    Phase("rest", 240.0, 0.2, -0.6),
    Phase("stress", 240.0, -0.5, 0.7),
    Phase("recovery", 240.0, 0.4, -0.3),
)


@dataclass(frozen=True)
class SubjectProfile:
    """Per-subject physiology. ``from_seed`` draws a plausible adult at rest."""

    hr_rest_bpm: float = 66.0
    hf_depth: float = 0.06  # relative HR modulation by respiration at rest
    lf_depth: float = 0.03  # relative HR modulation by Mayer waves at rest
    hr_gain: float = 0.22  # relative HR change per unit arousal
    r_amplitude_mv: float = 1.2
    noise_mv: float = 0.02
    resp_hz: float = 0.25

    @classmethod
    def from_seed(cls, seed: int) -> SubjectProfile:
        rng = np.random.default_rng(seed)
        return cls(
            hr_rest_bpm=float(rng.uniform(56, 80)),
            hf_depth=float(rng.uniform(0.035, 0.08)),
            lf_depth=float(rng.uniform(0.015, 0.04)),
            hr_gain=float(rng.uniform(0.15, 0.3)),
            r_amplitude_mv=float(rng.uniform(0.8, 1.6)),
            noise_mv=float(rng.uniform(0.01, 0.04)),
            resp_hz=float(rng.uniform(0.2, 0.3)),
        )


@dataclass
class SyntheticSession:
    """A synthetic recording with its ground truth."""

    ecg_mv: np.ndarray  # float32 millivolts
    fs: float
    r_peak_times: np.ndarray  # seconds, true R apex times
    va_times: np.ndarray  # seconds, ground truth sample times (va_fs Hz)
    valence: np.ndarray
    arousal: np.ndarray
    phases: List[Phase] = field(default_factory=list)
    phase_starts: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @property
    def duration_s(self) -> float:
        return len(self.ecg_mv) / self.fs


def _va_trajectory(phases: Sequence[Phase], t: np.ndarray, tau_s: float, rng) -> Tuple[np.ndarray, np.ndarray]:
    """Piecewise-constant targets smoothed by a first-order response (time constant tau)."""
    edges = np.cumsum([0.0] + [p.duration_s for p in phases])
    idx = np.clip(np.searchsorted(edges, t, side="right") - 1, 0, len(phases) - 1)
    target_v = np.array([p.valence for p in phases])[idx]
    target_a = np.array([p.arousal for p in phases])[idx]
    dt = t[1] - t[0]
    alpha = dt / (tau_s + dt)
    v, a = np.empty_like(t), np.empty_like(t)
    v[0], a[0] = target_v[0], target_a[0]
    # slow within-phase wandering so the truth is not a step function
    wander_v = np.cumsum(rng.normal(0, 0.004, t.size))
    wander_a = np.cumsum(rng.normal(0, 0.004, t.size))
    wander_v -= _lowpass(wander_v, 0.002 / dt)
    wander_a -= _lowpass(wander_a, 0.002 / dt)
    for i in range(1, t.size):
        v[i] = v[i - 1] + alpha * (target_v[i] - v[i - 1])
        a[i] = a[i - 1] + alpha * (target_a[i] - a[i - 1])
    return np.clip(v + 0.5 * wander_v, -1, 1), np.clip(a + 0.5 * wander_a, -1, 1)


def _lowpass(x: np.ndarray, alpha: float) -> np.ndarray:
    """One-pole low-pass y[n] = alpha x[n] + (1 - alpha) y[n-1] (bit-identical to
    ``lfilter([alpha], [1, alpha - 1], x)``: the same transposed direct form)."""
    alpha = float(np.clip(alpha, 1e-6, 1.0))
    return sosfilt(np.array([[alpha, 0.0, 0.0, 1.0, alpha - 1.0, 0.0]]), x)


def _beat_times(
    t: np.ndarray, valence: np.ndarray, arousal: np.ndarray, prof: SubjectProfile, rng
) -> np.ndarray:
    """IPFM: a beat each time the integral of the instantaneous rate crosses an integer."""
    dt = t[1] - t[0]
    hr = prof.hr_rest_bpm * (1 + prof.hr_gain * (arousal + 0.6) - 0.03 * valence)
    hf = prof.hf_depth * np.exp(-0.9 * (arousal + 0.6) + 0.25 * valence)
    lf = prof.lf_depth * np.exp(0.25 * (arousal + 0.6))
    resp_hz = prof.resp_hz * (1 + 0.25 * arousal)
    resp_phase = 2 * np.pi * np.cumsum(resp_hz) * dt + rng.uniform(0, 2 * np.pi)
    lf_phase = 2 * np.pi * 0.1 * t + rng.uniform(0, 2 * np.pi)
    noise = _lowpass(rng.normal(0, 1, t.size), dt / 3.0)
    noise *= 0.02 / max(noise.std(), 1e-9)
    rate_hz = hr / 60.0 * (1 + hf * np.sin(resp_phase) + lf * np.sin(lf_phase) + noise)
    phase = np.cumsum(rate_hz) * dt + rng.uniform(0, 1)
    crossings = np.nonzero(np.diff(np.floor(phase)) > 0)[0]
    # interpolate the exact crossing time inside the grid step
    frac = (np.ceil(phase[crossings]) - phase[crossings]) / (phase[crossings + 1] - phase[crossings])
    return t[crossings] + frac * dt


# (offset from R in s at RR=1 s, amplitude relative to R, width s); T offset scales with sqrt(RR)
_WAVES = (("P", -0.2, 0.12, 0.025), ("Q", -0.03, -0.12, 0.010), ("R", 0.0, 1.0, 0.011),
          ("S", 0.03, -0.22, 0.011), ("T", 0.28, 0.28, 0.055))


def _render_ecg(beats: np.ndarray, n: int, fs: float, prof: SubjectProfile, rng) -> np.ndarray:
    ecg = np.zeros(n, dtype=np.float64)
    rr = np.diff(beats, prepend=beats[0] - 60.0 / prof.hr_rest_bpm) if beats.size else beats
    half = int(0.6 * fs)
    k = np.arange(-half, half + 1)
    for tb, r in zip(beats, rr):
        centre = int(round(tb * fs))
        lo, hi = max(centre - half, 0), min(centre + half + 1, n)
        if lo >= hi:
            continue
        tt = (k[lo - centre + half : hi - centre + half] + centre) / fs - tb
        scale = np.sqrt(np.clip(r, 0.3, 2.0))
        amp = prof.r_amplitude_mv * rng.uniform(0.95, 1.05)
        for name, off, a, w in _WAVES:
            o = off * scale if name in ("T", "P") else off
            ecg[lo:hi] += amp * a * np.exp(-0.5 * ((tt - o) / w) ** 2)
    t = np.arange(n) / fs
    wander = 0.15 * np.sin(2 * np.pi * 0.05 * t + rng.uniform(0, 6.3)) + 0.05 * np.sin(
        2 * np.pi * 0.3 * t + rng.uniform(0, 6.3)
    )
    mains = 0.01 * np.sin(2 * np.pi * 50.0 * t)
    return ecg + wander + mains + rng.normal(0, prof.noise_mv, n)


def synthesize_session(
    phases: Sequence[Phase] = DEMO_PHASES,
    fs: float = 250.0,
    seed: int = 0,
    profile: SubjectProfile | None = None,
    va_fs: float = 4.0,
    tau_s: float = 8.0,
) -> SyntheticSession:
    """Generate a session: ECG at ``fs`` plus ground-truth VA at ``va_fs``. Deterministic in ``seed``."""
    if fs < 100 or fs > 1000:
        raise ValueError(f"fs={fs!r}: expected a sample rate between 100 and 1000 Hz")
    if not phases:
        raise ValueError("phases is empty: expected at least one Phase")
    rng = np.random.default_rng(seed)
    prof = profile or SubjectProfile.from_seed(seed)
    total = float(sum(p.duration_s for p in phases))
    grid_dt = 0.01
    t_grid = np.arange(0, total, grid_dt)
    v_grid, a_grid = _va_trajectory(phases, t_grid, tau_s, rng)
    beats = _beat_times(t_grid, v_grid, a_grid, prof, rng)
    n = int(round(total * fs))
    ecg = _render_ecg(beats, n, fs, prof, rng).astype(np.float32)
    va_t = np.arange(0, total, 1.0 / va_fs)
    step = int(round(1.0 / (va_fs * grid_dt)))
    starts = np.cumsum([0.0] + [p.duration_s for p in phases[:-1]])
    return SyntheticSession(
        ecg_mv=ecg,
        fs=fs,
        r_peak_times=beats,
        va_times=va_t,
        valence=v_grid[::step][: va_t.size].astype(np.float32),
        arousal=a_grid[::step][: va_t.size].astype(np.float32),
        phases=list(phases),
        phase_starts=starts,
    )
