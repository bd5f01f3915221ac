"""Streaming ECG front-end: causal band-pass (state carried across chunks), energy
envelope, R-peak decisions with a fixed look-ahead, R-apex refinement.

This is the walking-skeleton detector (Pan-Tompkins-style adaptive thresholds). The seam
is ``EcgFrontEnd.push(samples) -> FrontEndOutput``; a better detector replaces the class
behind the same interface.

Chunk invariance by construction: a sample ``i`` is only decided once the buffer holds
``[i - R, i + R]`` (R = half the refractory period), and the adaptive threshold is
updated in sample order, so any chunking yields the same beats.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy.signal import butter, group_delay, lfilter, lfilter_zi, sosfilt, sosfilt_zi

__all__ = ["Beat", "FrontEndOutput", "EcgFrontEnd"]


@dataclass(frozen=True)
class Beat:
    """One detected heartbeat."""

    t: float  # R apex, seconds on the source clock
    sample: int  # absolute index of the R apex in the stream
    amplitude: float  # band-passed amplitude at the apex (signal units)


@dataclass(frozen=True)
class FrontEndOutput:
    beats: List[Beat]
    t_decided: float  # every beat before this time has been reported (source clock, s)
    n_samples: int  # samples pushed so far


class EcgFrontEnd:
    """Push chunks of ECG (any length, including 0 and 1) and get beats back.

    ``t0`` is the source time of the first sample; sample ``k`` is at ``t0 + k / fs``.
    """

    LEARN_S = 2.0  # threshold initialisation period; no decisions before it
    REFRACTORY_S = 0.25

    def __init__(self, fs: float, t0: float = 0.0, band_hz=(5.0, 20.0)):
        if not 100 <= fs <= 1000:
            raise ValueError(f"fs={fs!r}: expected a sample rate between 100 and 1000 Hz")
        self.fs = float(fs)
        self.t0 = float(t0)
        self._sos = butter(2, band_hz, btype="bandpass", fs=fs, output="sos")
        self._zi: Optional[np.ndarray] = None
        self._ma_len = max(int(round(0.1 * fs)), 1)
        self._ma_b = np.full(self._ma_len, 1.0 / self._ma_len)
        self._ma_zi = lfilter_zi(self._ma_b, [1.0]) * 0.0
        _, gd = group_delay((*butter(2, band_hz, btype="bandpass", fs=fs),), w=[12.0], fs=fs)
        self._filter_delay = float(gd[0])  # samples, removed from reported beat times
        self._half = int(round(self.REFRACTORY_S * fs / 2))
        self._refractory = int(round(self.REFRACTORY_S * fs))
        # recent filtered signal and envelope; buffer index + _buf_start = absolute sample
        self._buf_start = 0
        self._filt = np.zeros(0)
        self._env = np.zeros(0)
        self._n = 0
        self._next_decide = int(self.LEARN_S * fs)
        self._spk: Optional[float] = None
        self._npk = 0.0
        self._last_beat = -(10**9)

    @property
    def decision_delay_s(self) -> float:
        return (self._half + 1) / self.fs

    def _time(self, sample: float) -> float:
        return self.t0 + sample / self.fs

    def push(self, samples) -> FrontEndOutput:
        x = np.asarray(samples, dtype=np.float64).reshape(-1)
        if x.size:
            if self._zi is None:
                self._zi = sosfilt_zi(self._sos) * x[0]
            y, self._zi = sosfilt(self._sos, x, zi=self._zi)
            e, self._ma_zi = lfilter(self._ma_b, [1.0], y * y, zi=self._ma_zi)
            self._filt = np.concatenate([self._filt, y])
            self._env = np.concatenate([self._env, e])
            self._n += x.size
        beats = self._decide()
        self._trim()
        return FrontEndOutput(beats, self._time(self._next_decide), self._n)

    def _decide(self) -> List[Beat]:
        last = self._n - self._half - 1  # highest index whose neighbourhood is complete
        if last < self._next_decide:
            return []
        if self._spk is None:  # learning: initial signal peak level from the first seconds
            learn = self._env[: int(self.LEARN_S * self.fs) - self._buf_start]
            self._spk = 0.5 * float(learn.max()) if learn.size else 0.0
            self._npk = 0.5 * float(np.median(learn)) if learn.size else 0.0
        beats: List[Beat] = []
        lo = self._next_decide - self._buf_start
        hi = last - self._buf_start + 1
        env = self._env
        seg_lo = lo - self._half
        windows = sliding_window_view(env[seg_lo : hi + self._half], 2 * self._half + 1)
        centre = env[lo:hi]
        is_peak = (centre >= windows.max(axis=1)) & (centre > env[lo - 1 : hi - 1])
        for rel in np.nonzero(is_peak)[0]:
            i = lo + int(rel)  # buffer index
            level = float(env[i])
            threshold = self._npk + 0.25 * (self._spk - self._npk)
            absolute = i + self._buf_start
            if level > threshold and absolute - self._last_beat >= self._refractory:
                self._spk = 0.125 * level + 0.875 * self._spk
                apex = self._refine(i)
                self._last_beat = absolute
                t = self._time(apex + self._buf_start - self._filter_delay)
                beats.append(Beat(t, apex + self._buf_start, float(self._filt[apex])))
            else:
                self._npk = 0.125 * level + 0.875 * self._npk
        self._next_decide = last + 1
        return beats

    def _refine(self, i: int) -> int:
        """The R apex is the largest |band-passed| sample in the envelope's averaging window."""
        lo = max(i - self._ma_len, 0)
        seg = np.abs(self._filt[lo : i + 1])
        return lo + int(np.argmax(seg))

    def _trim(self) -> None:
        # keep enough history for the neighbourhood and apex search of undecided samples
        if self._spk is None:
            return  # still learning the initial threshold from the first seconds
        keep_from = max(self._next_decide - self._half - self._ma_len - 2, 0)
        drop = keep_from - self._buf_start
        if drop > 0:
            self._filt = self._filt[drop:]
            self._env = self._env[drop:]
            self._buf_start = keep_from
