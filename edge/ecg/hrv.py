"""Heart rate and HRV over sliding windows of beats, with a quality status per window.

Pure logic: push beats and the time up to which beats are final (and, optionally, the
signal-quality segments of the front-end); get windows back. Windows are emitted on
data time, so a silent stretch (lead off, no beats) still yields windows, flagged
``not-available`` - never a stale value presented as fresh.

Per window: the beats in it, RR cleaning (:mod:`.rr`, Lipponen & Tarvainen 2019), then
HR, SDNN, RMSSD, pNN50, SD1/SD2 (Poincare), LF/HF power and LF/HF ratio from a
Lomb-Scargle periodogram of the cleaned RR series (no resampling needed for uneven
beats). Every feature that cannot be computed is NaN with a reason in ``reasons``.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from typing import Deque, Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np

from ..dsp import trapezoid
from .frontend import Beat
from .quality import NOT_AVAILABLE, QUESTIONABLE, VALID, QualitySegment
from .rr import clean_rr

__all__ = [
    "HrvWindow",
    "HrvWindower",
    "VALID",
    "QUESTIONABLE",
    "NOT_AVAILABLE",
    "hrv_from_rr",
    "hrv_features",
    "RrFrontEnd",
]

RR_MIN_S, RR_MAX_S = 0.3, 2.0  # 30-200 bpm: outside this an interval is an artefact
LF_BAND, HF_BAND = (0.04, 0.15), (0.15, 0.4)
FEATURES = (
    "hr_bpm",
    "sdnn_ms",
    "rmssd_ms",
    "pnn50",
    "sd1_ms",
    "sd2_ms",
    "lf_ms2",
    "hf_ms2",
    "lf_hf",
)


@dataclass(frozen=True)
class HrvWindow:
    t_start: float
    t_end: float
    n_beats: int
    hr_bpm: float
    rmssd_ms: float
    sdnn_ms: float
    quality: str
    reason: str = ""
    features: Dict[str, float] = field(default_factory=dict)  # every entry of FEATURES
    reasons: Dict[str, str] = field(default_factory=dict)  # why a feature is NaN
    n_rr: int = 0  # RR intervals used (after cleaning)
    n_corrected: int = 0  # intervals the RR cleaning corrected


# Exact stand-ins for np.mean / np.std(ddof=1) / np.median / np.diff on 1-D float arrays:
# the same ufunc sums and divisions in the same order (so the same values), without numpy's
# Python-level wrappers, which cost more than the arithmetic on a window's ~30 intervals.
_sum = np.add.reduce
_SQRT_HALF = float(np.sqrt(0.5))


def _mean(a: np.ndarray) -> float:
    return float(_sum(a) / a.size)


def _frac(mask: np.ndarray) -> float:
    """np.mean of a boolean array."""
    return np.count_nonzero(mask) / mask.size


def _std1(a: np.ndarray) -> float:
    c = a - _sum(a) / a.size
    np.multiply(c, c, out=c)
    return math.sqrt(_sum(c) / (a.size - 1))


def _median(a: np.ndarray) -> float:
    s = np.sort(a)
    n = s.size
    if n == 0 or s[-1] != s[-1]:  # empty, or NaN sorted last: np.median gives NaN
        return math.nan
    h = n // 2
    return float(s[h]) if n % 2 else float((s[h - 1] + s[h]) / 2)


def _diff(a: np.ndarray) -> np.ndarray:
    return a[1:] - a[:-1]


def hrv_from_rr(rr_s: np.ndarray):
    """HR (bpm), RMSSD (ms), SDNN (ms) of clean RR intervals in seconds."""
    if rr_s.size < 2:
        return math.nan, math.nan, math.nan
    hr = 60.0 / _mean(rr_s)
    rmssd = 1000.0 * math.sqrt(_mean(_diff(rr_s) ** 2))
    sdnn = 1000.0 * _std1(rr_s)
    return hr, rmssd, sdnn


_GRIDS: Dict[tuple, tuple] = {}


def _grid(band, df: float):
    """(f, 2 pi f) of a band, built once (read-only)."""
    key = (band[0], band[1], df)
    if key not in _GRIDS:
        f = np.arange(band[0], band[1] + 1e-9, df)
        w = 2 * np.pi * f
        f.flags.writeable = w.flags.writeable = False
        _GRIDS[key] = (f, w)
    return _GRIDS[key]


def _lomb_scargle(t: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Classic Lomb-Scargle power (Lomb 1976, Scargle 1982) of centred ``y`` at angular
    frequencies ``w``, in ``scipy.signal.lombscargle``'s default "power" units; the same
    formula as SciPy's C implementation up to SciPy 1.14, vectorised over frequencies.

    SciPy >= 1.15 computes the same periodogram by a weighted least-squares route with
    ~100 us of argument handling per call (more than the arithmetic for one HRV window);
    the two agree to ~1e-12 relative (checked in tests/edge/ecg/test_ecg_hrv.py).
    """
    wt = np.multiply.outer(w, t)
    c, s = np.cos(wt), np.sin(wt)
    xc, xs = c @ y, s @ y
    cc = np.einsum("ij,ij->i", c, c)
    ss = np.einsum("ij,ij->i", s, s)
    cs = np.einsum("ij,ij->i", c, s)
    tau = np.arctan2(2.0 * cs, cc - ss) / (2.0 * w)
    ct, st = np.cos(w * tau), np.sin(w * tau)
    ct2, st2, cst = ct * ct, st * st, 2.0 * ct * st
    return 0.5 * (
        (ct * xc + st * xs) ** 2 / (ct2 * cc + cst * cs + st2 * ss)
        + (ct * xs - st * xc) ** 2 / (ct2 * ss - cst * cs + st2 * cc)
    )


def _band_power(t: np.ndarray, rr_ms: np.ndarray, band, df: float = 0.005) -> float:
    f, w = _grid(band, df)
    y = rr_ms - _sum(rr_ms) / rr_ms.size
    # normalised Lomb-Scargle -> power spectral density in ms^2/Hz (one-sided)
    p = _lomb_scargle(t, y, w) * 2.0 / t.size
    span = t[-1] - t[0]
    return float(trapezoid(p, f) * span) if span > 0 else math.nan


def hrv_features(
    rr_s: np.ndarray, window_s: float, t_beats: Optional[np.ndarray] = None, spectral: bool = True
) -> Tuple[Dict[str, float], Dict[str, str]]:
    """All features of FEATURES from cleaned RR intervals; NaN with a reason when not valid.

    ``spectral=False``: LF, HF and LF/HF are left NaN ("not computed") - the Lomb-Scargle
    periodogram is most of a window's cost, and a consumer that never reads them skips it."""
    feats = {k: math.nan for k in FEATURES}
    why: Dict[str, str] = {}
    n = rr_s.size
    if n < 2:
        for k in FEATURES:
            why[k] = f"{n} RR intervals"
        return feats, why
    hr, rmssd, sdnn = hrv_from_rr(rr_s)
    d = _diff(rr_s)
    sd1 = 1000.0 * float(_SQRT_HALF * _std1(d)) if d.size > 1 else math.nan
    sd2 = math.sqrt(max(2 * sdnn**2 - sd1**2, 0.0)) if not math.isnan(sd1) else math.nan
    feats.update(
        hr_bpm=hr,
        sdnn_ms=sdnn,
        rmssd_ms=rmssd,
        sd1_ms=sd1,
        sd2_ms=sd2,
        pnn50=_frac(np.abs(d) > 0.05) if d.size else math.nan,
    )
    if math.isnan(sd1):
        why["sd1_ms"] = why["sd2_ms"] = "fewer than 3 RR intervals"
    t = np.cumsum(rr_s) if t_beats is None else np.asarray(t_beats, dtype=float)
    for key, band in (("lf_ms2", LF_BAND), ("hf_ms2", HF_BAND)):
        need = 2.0 / band[0]  # two cycles of the band's slowest oscillation
        if not spectral:
            why[key] = "not computed (spectral=False)"
        elif window_s < need:
            why[key] = f"window {window_s:g} s < {need:g} s needed for {band[0]}-{band[1]} Hz"
        elif n < 2 * band[1] * window_s * 0.5:
            why[key] = f"{n} RR intervals too few to resolve {band[1]} Hz"
        else:
            feats[key] = _band_power(t, 1000.0 * rr_s, band)
    if not (math.isnan(feats["lf_ms2"]) or math.isnan(feats["hf_ms2"])) and feats["hf_ms2"] > 0:
        feats["lf_hf"] = feats["lf_ms2"] / feats["hf_ms2"]
    else:
        why["lf_hf"] = "LF or HF not available"
    return feats, why


class HrvWindower:
    """Sliding windows of ``window_s`` every ``hop_s`` over the beat stream."""

    def __init__(
        self,
        window_s: float = 30.0,
        hop_s: float = 1.0,
        t0: float = 0.0,
        min_beats: int = 8,
        max_unusable_frac: float = 0.2,
        max_questionable_frac: float = 0.1,
        spectral: bool = True,
    ):
        if not (window_s > 0 and hop_s > 0):
            raise ValueError(f"window_s={window_s!r}, hop_s={hop_s!r}: expected both > 0")
        self.window_s, self.hop_s, self.min_beats = float(window_s), float(hop_s), int(min_beats)
        # more than max_unusable_frac of the window in unusable or questionable (noisy,
        # clipped, partly missing) seconds -> not-available; more than
        # max_questionable_frac -> questionable. On MIT-BIH with added noise (quality.py)
        # the 20 % rule marks no clean window, 97 % of windows at 0 dB and 22 % at 6 dB.
        self.max_unusable_frac = float(max_unusable_frac)
        self.max_questionable_frac = float(max_questionable_frac)
        self.spectral = bool(spectral)  # LF/HF/LF-HF (see hrv_features)
        self._next_end = float(t0) + self.window_s
        self._beats: Deque[float] = deque()
        self._segs: Deque[QualitySegment] = deque()
        self._gaps: Deque[tuple] = deque()

    def push(
        self,
        beats: Iterable[Beat],
        t_decided: float,
        quality: Optional[Sequence[QualitySegment]] = None,
    ) -> List[HrvWindow]:
        for b in beats:
            self._beats.append(b.t)
        for s in quality or ():
            self._segs.append(s)
        out: List[HrvWindow] = []
        while self._next_end <= t_decided:
            out.append(self._window(self._next_end - self.window_s, self._next_end))
            self._next_end += self.hop_s
        horizon = self._next_end - self.window_s - RR_MAX_S
        while self._beats and self._beats[0] < horizon:
            self._beats.popleft()
        while self._segs and self._segs[0].t_end < horizon:
            self._segs.popleft()
        while self._gaps and self._gaps[0][1] < horizon:
            self._gaps.popleft()
        return out

    def mark_gap(self, t_start: float, t_end: float, reason: str = "gap") -> None:
        """Data missing in [t_start, t_end): windows overlapping it are not-available."""
        self._gaps.append((float(t_start), float(t_end), reason))

    def _quality_of(self, t_start: float, t_end: float):
        segs = [s for s in self._segs if s.t_end > t_start and s.t_start < t_end]
        bad = [s for s in segs if s.label == NOT_AVAILABLE]
        quest = [s for s in segs if s.label == QUESTIONABLE]
        gaps = [g for g in self._gaps if g[1] > t_start and g[0] < t_end]
        return segs, bad, quest, gaps

    def _window(self, t_start: float, t_end: float) -> HrvWindow:
        segs, bad, quest, gaps = self._quality_of(t_start, t_end)
        t = np.fromiter((x for x in self._beats if t_start <= x < t_end), dtype=float)
        if bad:  # beats inside unusable seconds are not trusted
            keep = np.ones(t.size, bool)
            for s in bad:
                keep &= ~((t >= s.t_start) & (t < s.t_end))
            t = t[keep]

        def na(reason: str) -> HrvWindow:
            feats = {k: math.nan for k in FEATURES}
            return HrvWindow(
                t_start,
                t_end,
                int(t.size),
                math.nan,
                math.nan,
                math.nan,
                NOT_AVAILABLE,
                reason,
                feats,
                {k: reason for k in FEATURES},
            )

        if gaps:
            return na(f"data gap ({gaps[0][2]})")

        def overlap(segs_) -> float:
            return sum(min(s.t_end, t_end) - max(s.t_start, t_start) for s in segs_) / self.window_s

        unusable = overlap(bad)
        if unusable > self.max_unusable_frac:
            return na(f"signal unusable {unusable:.0%} of the window ({bad[0].reason})")
        qfrac = overlap(quest) + unusable
        poor = quest[0].reason if quest else (bad[0].reason if bad else "")
        if qfrac > self.max_unusable_frac:
            return na(f"signal unusable or noisy {qfrac:.0%} of the window ({poor})")
        rr = _diff(t)
        ok = (rr >= RR_MIN_S) & (rr <= RR_MAX_S)
        if t.size < self.min_beats or ok.sum() < self.min_beats - 1:
            return na(f"only {t.size} beats in {self.window_s:g} s")
        cleaned = clean_rr(rr[ok])
        feats, why = hrv_features(cleaned.rr_s, self.window_s, spectral=self.spectral)
        corrected = cleaned.n_corrected / max(cleaned.rr_s.size, 1)
        med = _median(cleaned.rr_s)
        # what cleaning could not explain: intervals still > 30 % off the window median
        erratic = _frac(np.abs(cleaned.rr_s - med) > 0.3 * med)
        bad_frac = 1.0 - ok.sum() / rr.size + corrected + erratic
        gap = (t[0] - t_start) + (t_end - t[-1])
        expected = self.window_s / _median(rr)
        reasons = []
        if bad_frac > 0.2:
            reasons.append(f"{bad_frac:.0%} intervals artefact, corrected or erratic")
        if gap > 3.0:
            reasons.append(f"{gap:.1f} s without beats")
        if t.size < 0.7 * expected:
            reasons.append("beats missing")
        if qfrac > self.max_questionable_frac:
            reasons.append(f"signal questionable {qfrac:.0%} ({poor})")
        quality = QUESTIONABLE if reasons else VALID
        return HrvWindow(
            t_start,
            t_end,
            int(t.size),
            feats["hr_bpm"],
            feats["rmssd_ms"],
            feats["sdnn_ms"],
            quality,
            "; ".join(reasons),
            feats,
            why,
            int(cleaned.rr_s.size),
            cleaned.n_corrected,
        )


class RrFrontEnd:
    """RR intervals straight from a chest strap (e.g. Polar H10) as beats for HrvWindower.

    ``push(rr_s, t_beats)`` where ``t_beats[i]`` ends interval ``rr_s[i]``; returns the
    same :class:`FrontEndOutput` as the ECG front-end (``sample`` is -1: no samples).
    """

    def __init__(self, t0: float = 0.0):
        self._last_t: Optional[float] = None
        self._t_decided = float(t0)

    def push(self, rr_s, t_beats):
        from ...errors import DataError
        from .frontend import FrontEndOutput

        rr = np.asarray(rr_s, dtype=np.float64).reshape(-1)
        tb = np.asarray(t_beats, dtype=np.float64).reshape(-1)
        if rr.shape != tb.shape:
            raise DataError(
                f"RR chunk: {rr.size} intervals but {tb.size} beat times; expected equal lengths"
            )
        beats = []
        for r, t in zip(rr, tb):
            if not (np.isfinite(r) and np.isfinite(t)) or r <= 0:
                continue  # an invalid interval is dropped, never turned into a beat
            if self._last_t is None or t - r > self._last_t + 0.25 * r:
                beats.append(Beat(float(t - r), -1, math.nan))  # start of a run after a gap
            if self._last_t is None or t > self._last_t:
                beats.append(Beat(float(t), -1, math.nan))
                self._last_t = float(t)
        if self._last_t is not None:
            self._t_decided = max(self._t_decided, self._last_t)
        return FrontEndOutput(beats, self._t_decided, 0)
