"""Streaming R-peak detector: push chunks of any size, get beats with a bounded delay.

Pipeline (all causal, state carried across chunks):

1. invalid samples (NaN/inf, lead-off chunks) are held at the last valid value and
   masked; no beat is ever reported whose QRS overlaps a masked sample;
2. QRS band-pass 5-30 Hz + powerline notches (50 and 60 Hz), Pan & Tompkins five-point
   derivative, squaring and a 120 ms moving integration -> envelope ``I``;
3. candidates are local maxima of ``I`` over +-``NEIGHBOUR_S``; a candidate is decided
   as soon as that neighbourhood is buffered, so decisions never wait on anything
   later than ``decision_delay_s`` after the R apex;
4. adaptive thresholds (Pan & Tompkins 1985 signal/noise peak levels). In place of the
   unbounded "searchback" the threshold is lowered once the time since the last beat
   exceeds a fraction of the recent RR average (a searchback that needs no look-back),
   and T waves are rejected by the slope rule within 360 ms of a beat;
5. each accepted beat is refined to the R apex on the raw signal smoothed by a
   linear-phase FIR (exact, known delay), so beat times carry no filter-phase jitter.

Chunk invariance: every quantity depends only on samples in stream order and decisions
are made on a fixed neighbourhood, so any chunking (1 sample, 7, 250, whole file) gives
the same beats. ``detect_beats(ecg, fs)`` is the batch convenience over the same code.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import List, Optional, Sequence

import numpy as np
from scipy.signal import group_delay, sos2tf

from ...errors import DataError
from ._buffer import StreamBuffer
from .filters import MovingAverage, SosFilter, design_detection_sos, lowpass_fir

__all__ = ["Beat", "FrontEndOutput", "EcgFrontEnd", "detect_beats", "as_samples"]


@dataclass(frozen=True)
class Beat:
    """One detected heartbeat."""

    t: float  # R apex, seconds on the source clock
    sample: int  # absolute index of the R apex in the stream
    amplitude: float  # baseline-relative amplitude of the apex on the smoothed raw signal


@dataclass(frozen=True)
class FrontEndOutput:
    beats: List[Beat]
    t_decided: float  # every beat before this time has been reported (source clock, s)
    n_samples: int  # samples pushed so far
    invalid_samples: int = 0  # NaN/inf/lead-off samples in this push (masked, no beats)
    quality: list = field(default_factory=list)  # QualitySegment list (see quality.py)
    gaps: list = field(default_factory=list)  # (t_start, t_end) of missing data filled as invalid


def as_samples(samples, what: str = "samples") -> np.ndarray:
    """Validate a chunk: 1-D (or one column) of real numbers -> float64 array."""
    try:
        x = np.asarray(samples, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise DataError(
            f"{what}: expected a sequence of numbers, got {type(samples).__name__} ({exc})"
        ) from exc
    if x.ndim == 2 and 1 in x.shape:
        x = x.reshape(-1)
    if x.ndim > 1:
        raise DataError(f"{what}: expected a 1-D chunk of one ECG lead, got shape {x.shape}")
    return x.reshape(-1)


class EcgFrontEnd:
    """Push chunks of ECG (any length, including 0 and 1) and get beats back.

    ``t0`` is the source time of the first sample; sample ``k`` is at ``t0 + k / fs``.
    """

    BAND_HZ = (5.0, 30.0)
    LEARN_S = 2.0  # threshold initialisation period (and after a re-learn)
    REFRACTORY_S = 0.2
    T_WAVE_S = 0.36
    NEIGHBOUR_S = 0.16  # a candidate is the largest envelope value within +- this
    INTEGRATION_S = 0.12
    APEX_SEARCH_S = 0.06  # +- around the expected QRS centre
    ENV_DERIV = False  # envelope of the derivative (Pan-Tompkins) or of the band-passed ECG
    POLARITY = 0.3  # the R apex is the positive peak unless the negative one is 1/POLARITY larger
    FLAT_S = 0.25  # identical samples for this long: lead off / rail, masked like NaN
    THR_FRAC = 0.25  # threshold = noise + THR_FRAC * (signal - noise) peak levels
    LATE1, MULT1 = 0.8, 0.6  # past LATE1 x mean RR without a beat, threshold x MULT1
    LATE2, MULT2 = 1.5, 0.3
    EARLY, EARLY_MULT = 0.6, 1.5  # before EARLY x mean RR, threshold x EARLY_MULT

    def __init__(
        self,
        fs: float,
        t0: float = 0.0,
        band_hz=None,
        mains_hz: Optional[Sequence[float]] = (50.0, 60.0),
        quality: bool = True,
    ):
        if not isinstance(fs, (int, float)) or not 100 <= fs <= 1000:
            raise ValueError(f"fs={fs!r}: expected a sample rate between 100 and 1000 Hz")
        self.fs = fs = float(fs)
        self.t0 = float(t0)
        sos = design_detection_sos(fs, band_hz or self.BAND_HZ, mains_hz)
        self._bp = SosFilter(sos)
        self._w = max(int(round(self.INTEGRATION_S * fs)), 1)
        self._integ = MovingAverage(self._w)
        self._smooth_taps = lowpass_fir(fs, 35.0, 0.03)
        b, a = sos2tf(sos[:1])
        gd = float(group_delay((b, a), w=[12.0], fs=fs)[1][0])
        # sample offset from the QRS centre to the envelope peak it causes
        self._env_offset = int(round(gd + (self._w - 1) / 2.0))
        self._smooth_half = (self._smooth_taps.size - 1) // 2
        self._nb = max(int(round(self.NEIGHBOUR_S * fs)), 1)
        self._refr = int(round(self.REFRACTORY_S * fs))
        self._twave = int(round(self.T_WAVE_S * fs))
        self._apex = max(int(round(self.APEX_SEARCH_S * fs)), 2)
        cap = int(8 * fs)
        self._trim_every = int(fs)
        self._env = StreamBuffer(cap)
        self._y = StreamBuffer(cap)  # band-passed ECG
        self._raw = StreamBuffer(cap)  # raw ECG (invalid samples held)
        self._bad_runs: List[tuple] = []  # (first, last) absolute indices of masked samples
        self._n = 0
        self._last_valid = 0.0
        self._have_valid = False
        self._bad_until = -1  # last absolute index of a masked sample
        self._flat_start = 0  # first index of the current run of identical samples
        self._flat_len = max(int(round(self.FLAT_S * fs)), 2)
        self._learn_until = int(self.LEARN_S * fs)
        self._learning = True
        self._next = self._nb  # next undecided candidate index (waits for learning first)
        self._spk = self._npk = 0.0
        self._last_beat = -(10**9)
        self._last_slope = 0.0
        self._rr: List[int] = []
        self._rr_sum = 0
        self._quality = None
        if quality:
            from .quality import QualityTracker

            self._quality = QualityTracker(fs, t0)

    # ----------------------------------------------------------------- properties
    @property
    def decision_delay_s(self) -> float:
        """Worst-case delay from an R apex to the push that reports it."""
        return (self._env_offset + self._nb + self._apex + 1) / self.fs

    @property
    def n_samples(self) -> int:
        return self._n

    @property
    def t_decided(self) -> float:
        """Every beat before this time has been reported (no later decision can produce one)."""
        first_open = (
            self._next
            if not self._learning
            else min(self._next, self._learn_until - int(self.LEARN_S * self.fs))
        )
        return self._time(max(first_open - self._env_offset - self._apex, 0))

    def _time(self, sample: float) -> float:
        return self.t0 + sample / self.fs

    # ----------------------------------------------------------------------- push
    def push(self, samples, lead_off: bool = False) -> FrontEndOutput:
        x = as_samples(samples)
        n_bad, bad = 0, None
        if x.size:
            if lead_off or not np.isfinite(x).all():
                bad = np.ones(x.size, dtype=bool) if lead_off else ~np.isfinite(x)
                n_bad = int(bad.sum())
                x = self._hold(x, bad)
            else:
                self._have_valid = True
            self._filter(x, bad)
        quality = self._quality.push(x, bad) if self._quality is not None else []
        beats = self._decide()
        return FrontEndOutput(beats, self.t_decided, self._n, n_bad, quality)

    MAX_FILL_S = 60.0  # longer gaps re-anchor the clock instead of filling samples

    def push_chunk(self, chunk) -> FrontEndOutput:
        """Push a source chunk (``EcgChunk``): checks its sample rate and timestamps.

        A gap in timestamps is filled with masked samples (no beats can come from it),
        reported in ``gaps`` and followed by threshold re-learning; longer than
        ``MAX_FILL_S`` the clock is re-anchored. Overlapping/backward timestamps and a
        sample-rate mismatch raise :class:`DataError` naming the values.
        """
        fs = float(getattr(chunk, "fs", self.fs))
        if abs(fs - self.fs) > 1e-6 * self.fs:
            raise DataError(
                f"sample-rate mismatch: chunk fs={fs:g} Hz, front-end configured for {self.fs:g} Hz"
            )
        t_first = float(getattr(chunk, "t_first", self._time(self._n)))
        if not math.isfinite(t_first):
            raise DataError(f"chunk t_first={t_first!r}: expected a finite time in seconds")
        expected = self._time(self._n)
        gap = t_first - expected
        gaps, beats, n_bad, quality = [], [], 0, []
        if self._n and gap < -1.5 / self.fs:
            raise DataError(
                f"chunk t_first={t_first:.6f} s is {-gap:.3f} s before the expected "
                f"{expected:.6f} s: "
                "timestamps overlap or went backwards"
            )
        if self._n == 0:
            self.t0 = t_first
            if self._quality is not None:
                self._quality.t0 = t_first
        elif gap > 1.5 / self.fs:
            fill = int(round(min(gap, self.MAX_FILL_S) * self.fs))
            gaps.append((expected, t_first))
            out = self.push(np.full(fill, np.nan))
            beats += out.beats
            n_bad += out.invalid_samples
            quality += out.quality
            self.t0 += gap - fill / self.fs  # re-anchor beyond MAX_FILL_S
            if self._quality is not None:
                self._quality.t0 += gap - fill / self.fs
            self.relearn()
        out = self.push(chunk.samples, lead_off=bool(getattr(chunk, "lead_off", False)))
        return FrontEndOutput(
            beats + out.beats,
            out.t_decided,
            out.n_samples,
            n_bad + out.invalid_samples,
            quality + out.quality,
            gaps,
        )

    def relearn(self) -> None:
        """Re-initialise thresholds from the next ``LEARN_S`` seconds (after a gap or lead-off)."""
        self._learn_until = self._n + int(self.LEARN_S * self.fs)
        self._learning = True
        self._rr.clear()
        self._rr_sum = 0

    def _hold(self, x: np.ndarray, bad: np.ndarray) -> np.ndarray:
        x = x.copy()
        good = ~bad
        if not good.any():
            x[:] = self._last_valid
            return x
        idx = np.where(good, np.arange(x.size), -1)
        np.maximum.accumulate(idx, out=idx)
        first = self._last_valid if self._have_valid else x[good][0]
        self._have_valid = True
        x = np.where(idx >= 0, x[np.maximum(idx, 0)], first)
        return x

    def _mask(self, first: int, last: int) -> None:
        runs = self._bad_runs
        if runs and first <= runs[-1][1] + 1 and last >= runs[-1][0] - 1:
            runs[-1] = (min(first, runs[-1][0]), max(last, runs[-1][1]))  # growing or touching
        else:
            runs.append((first, last))  # pruned by position in _decide, never by count
        self._bad_until = max(self._bad_until, last)

    def _flat_runs(self, x: np.ndarray) -> None:
        """Mask runs of identical samples >= FLAT_S (lead off, stuck at a rail), steps included."""
        prev = self._last_valid if self._n else x[0]
        n, L = self._n, self._flat_len
        if 2 <= x.size < L and x[0] != prev and x[-1] != x[-2]:  # common case, no arrays
            if n - self._flat_start >= L:
                self._mask(self._flat_start, n)
            self._flat_start = n + x.size - 1
            return
        d = np.empty(x.size, dtype=bool)
        d[0] = x[0] != prev
        np.not_equal(x[1:], x[:-1], out=d[1:])
        brk = d.nonzero()[0]
        if brk.size == 0:  # the current run goes on
            if n + x.size - self._flat_start >= L:
                self._mask(self._flat_start, n + x.size)
            return
        first_end = n + int(brk[0]) - 1
        if first_end - self._flat_start + 1 >= L:
            self._mask(self._flat_start, first_end + 1)  # +1: the step out is part of the artefact
        if brk.size > 1:
            gaps = brk[1:] - brk[:-1]
            for k in (gaps >= L).nonzero()[0]:
                self._mask(n + int(brk[k]), n + int(brk[k + 1]))
        self._flat_start = n + int(brk[-1])
        if n + x.size - self._flat_start >= L:
            self._mask(self._flat_start, n + x.size)

    def _filter(self, x: np.ndarray, bad: Optional[np.ndarray]) -> None:
        self._flat_runs(x)
        self._last_valid = float(x[-1])
        y = self._bp(x)
        self._env.append(self._integ(y * y))
        self._y.append(y)
        self._raw.append(x)
        if bad is not None:  # each run of bad samples on its own: a push may hold several
            idx = np.flatnonzero(bad)
            brk = np.flatnonzero(idx[1:] - idx[:-1] > 1)
            for a, b in zip(idx[np.r_[0, brk + 1]], idx[np.r_[brk, idx.size - 1]]):
                self._mask(self._n + int(a), self._n + int(b))
        self._n += x.size

    # ------------------------------------------------------------------- decisions
    def _learn(self) -> None:
        env = self._env.view(self._learn_until - int(self.LEARN_S * self.fs), self._learn_until)
        self._next = max(self._next, self._learn_until - int(self.LEARN_S * self.fs) + self._nb)
        if env.size:
            self._spk = 0.6 * float(env.max())
            self._npk = float(np.mean(env))

    def _decide(self) -> List[Beat]:
        nb = self._nb
        hi = self._n - nb  # candidates in [next, hi) have their full neighbourhood
        beats: List[Beat] = []
        if self._n < self._learn_until or hi <= self._next:
            return beats  # learning: the first beats are reported once thresholds exist
        if self._learning:
            self._learn()
            self._learning = False
        lo = self._next
        seg = self._env.view(lo - nb, hi + nb)
        base = max(lo - nb, self._env.start)
        i0, i1 = lo - base, hi - base  # the undecided range inside seg
        if i1 > i0 and i0 >= 1:
            mid = seg[i0:i1]
            # local maxima first (cheap), then the +-nb neighbourhood test on those few
            local = np.nonzero(
                (mid > seg[i0 - 1 : i1 - 1]) & (mid >= seg[i0 + 1 : i1 + 1]) & (mid > 0)
            )[0]
            if local.size > 16:  # batch-sized input: vectorised over all local maxima
                local = self._dominant(seg, i0 + local) - i0
            else:
                local = [
                    r
                    for r in local
                    if seg[i0 + r] >= seg[max(i0 + r - nb, 0) : i0 + r + nb + 1].max()
                ]
            for rel in local:
                beat = self._consider(lo + int(rel))
                if beat is not None:
                    beats.append(beat)
        self._next = hi
        keep = (
            min(self._next, self._learn_until - int(self.LEARN_S * self.fs))
            - max(2 * nb, self._env_offset + self._apex + self._smooth_half + self._w)
            - 8
        )
        if self._bad_runs and self._bad_runs[0][1] < keep:  # no later candidate can reach these
            self._bad_runs = [r for r in self._bad_runs if r[1] >= keep]
        if keep - self._env.start > self._trim_every:  # trim in batches, not per chunk
            for buf in (self._env, self._y, self._raw):
                buf.discard_before(keep)
        return beats

    def _dominant(self, seg: np.ndarray, p: np.ndarray) -> np.ndarray:
        """Local maxima ``p`` of ``seg`` that are the maximum of their +-nb neighbourhood.

        A window's maximum lies at an interior local maximum or at an end point, so
        comparing with the neighbouring local maxima and both end points is exact.
        """
        nb = self._nb
        inner = seg[1:-1]
        q = np.nonzero((inner > seg[:-2]) & (inner >= seg[2:]))[0] + 1  # every local maximum
        v = seg[q]
        ok = (v >= seg[np.maximum(q - nb, 0)]) & (v >= seg[np.minimum(q + nb, seg.size - 1)])
        for d in range(1, q.size):
            near = q[d:] - q[:-d] <= nb
            if not near.any():
                break
            ok[:-d] &= ~near | (v[:-d] >= v[d:])
            ok[d:] &= ~near | (v[d:] >= v[:-d])
        return p[np.isin(p, q[ok], assume_unique=True)]

    def _consider(self, c: int) -> Optional[Beat]:
        level = float(self._env[c])
        elapsed = c - self._last_beat  # envelope peak (lags the QRS) - last apex
        if elapsed < self._refr:
            return None
        thr = self._npk + self.THR_FRAC * (self._spk - self._npk)
        if len(self._rr) >= 2:
            rr_avg = self._rr_sum / len(self._rr)
            if elapsed > self.LATE2 * rr_avg:  # keeps halving for every further mean RR
                thr *= self.MULT2 * 0.5 ** min(int((elapsed - self.LATE2 * rr_avg) / rr_avg), 12)
            elif elapsed > self.LATE1 * rr_avg:
                thr *= self.MULT1
            elif elapsed < self.EARLY * rr_avg:
                thr *= self.EARLY_MULT
        elif elapsed > 2.0 * self.fs:
            thr *= self.MULT2
        if level <= thr:
            self._npk = 0.125 * level + 0.875 * self._npk
            return None
        qrs_lo = c - self._w - 2
        yq = self._y.view(qrs_lo - 1, c + 1)
        slope = float(np.abs(yq[1:] - yq[:-1]).max()) if yq.size > 1 else 0.0
        is_beat = True
        if elapsed < self._twave and slope < 0.5 * self._last_slope:
            is_beat = False  # T wave (Pan & Tompkins slope rule)
        elif qrs_lo - self._apex <= self._bad_until:
            lo_b = qrs_lo - self._apex - self._smooth_half
            if any(a <= c and b >= lo_b for a, b in self._bad_runs):
                is_beat = False  # masked samples: never report a beat built on them
        if not is_beat:
            self._npk = 0.125 * level + 0.875 * self._npk
            return None
        apex, amp = self._refine(c)
        if self._last_beat >= 0 and apex - self._last_beat < self._refr:
            return None  # refined onto the previous beat's QRS
        self._spk = (
            0.125 * min(level, 3.0 * self._spk if self._spk > 0 else level) + 0.875 * self._spk
        )
        if self._last_beat >= 0:
            self._rr.append(apex - self._last_beat)
            self._rr_sum += apex - self._last_beat
            if len(self._rr) > 8:
                self._rr_sum -= self._rr.pop(0)
        self._last_beat = apex
        self._last_slope = slope
        return Beat(self._time(apex), apex, amp)

    def _refine(self, c: int):
        """R apex: dominant deflection of the smoothed raw signal around the expected QRS."""
        centre = c - self._env_offset
        lo, hi = centre - self._apex, centre + self._apex + 1
        h = self._smooth_half
        raw = self._raw.view(lo - h, hi + h)
        if raw.size < self._smooth_taps.size + 1:
            return max(centre, 0), math.nan
        seg = np.correlate(raw, self._smooth_taps)  # symmetric taps: linear phase, no shift
        lo = hi - seg.size if lo - h < self._raw.start else lo
        s = seg - 0.5 * (seg[0] + seg[-1])  # baseline: the window's end points
        ip, im = int(s.argmax()), int(s.argmin())
        k = ip if s[ip] >= self.POLARITY * -s[im] else im
        return lo + k, float(s[k])


def detect_beats(
    ecg, fs: float, t0: float = 0.0, chunk: Optional[int] = None, **kwargs
) -> np.ndarray:
    """Batch convenience over the streaming code: R-apex sample indices of a whole record."""
    fe = EcgFrontEnd(fs, t0, quality=False, **kwargs)
    x = as_samples(ecg, "ecg")
    out: List[int] = []
    step = x.size if not chunk else int(chunk)
    for i in range(0, max(x.size, 1), max(step, 1)):
        out.extend(b.sample for b in fe.push(x[i : i + step]).beats)
    # flush: pad with the held last value so beats near the end get their neighbourhood
    tail = np.full(int(fe.decision_delay_s * fs) + 2, x[-1] if x.size else 0.0)
    out.extend(b.sample for b in fe.push(tail).beats if b.sample < x.size)
    return np.asarray(out, dtype=np.int64)
