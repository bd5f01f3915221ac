"""Streaming R-peak detector: push chunks of any size, get beats with a bounded delay.

Pipeline (all causal, state carried across chunks):

1. invalid samples (NaN/inf, lead-off chunks) are held at the last valid value and
   masked; no beat is ever reported whose QRS overlaps a masked sample;
2. QRS band-pass 5-30 Hz + powerline notches (50 and 60 Hz), Pan & Tompkins five-point
   derivative, squaring and a 120 ms moving integration -> envelope ``I``;
3. candidates are local maxima of ``I`` over ``NEIGHBOUR_S`` before and ``LOOKAHEAD_S``
   after them; a candidate is decided as soon as that neighbourhood is buffered, so
   decisions never wait on anything later than ``decision_delay_s`` after the R apex;
4. adaptive thresholds (Pan & Tompkins 1985 signal/noise peak levels). In place of the
   unbounded "searchback" the threshold is lowered once the time since the last beat
   exceeds a fraction of the recent RR average (a searchback that needs no look-back),
   and T waves are rejected by the slope rule within 360 ms of a beat;
5. each accepted beat is refined to the R apex on the raw signal smoothed by a
   linear-phase FIR (exact, known delay), so beat times carry no filter-phase jitter.

Chunk invariance: every quantity depends only on samples in stream order and decisions
are made on a fixed neighbourhood, so any chunking (1 sample, 7, 250, whole file) gives
the same beats. ``detect_beats(ecg, fs)`` is the batch convenience over the same code.

Cost: per-chunk Python/numpy call overhead, not arithmetic, is the cost of streaming, so
a push is only copied into a pending buffer until a beat could be decided. After each
processing step the earliest sample count at which any candidate could become a beat is
known exactly from the envelope seen so far (a candidate must top everything already
buffered in its neighbourhood, and must lie past the refractory period of the last
beat); the stages run again only then, on everything pending. Beats are therefore
reported in the same push as with per-push processing (same delay), with ~4x fewer
processing steps at 40 ms chunks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import List, Optional, Sequence

import numpy as np

from ...errors import DataError
from ..dsp import group_delay, sos2tf
from ._buffer import StreamBuffer
from .filters import MovingAverage, SosFilter, design_detection_sos, hold_invalid, lowpass_fir

__all__ = ["Beat", "FrontEndOutput", "EcgFrontEnd", "detect_beats", "as_samples"]

_F64 = np.dtype(np.float64)
_max = np.maximum.reduce
_all = np.logical_and.reduce


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


_new = object.__new__


def _output(beats, t_decided, n_samples, invalid, quality, gaps) -> FrontEndOutput:
    """``FrontEndOutput(...)`` without the frozen dataclass's per-field ``object.__setattr__``
    (a third of a small push's bookkeeping); same fields, same object."""
    out = _new(FrontEndOutput)
    out.__dict__.update(
        beats=beats,
        t_decided=t_decided,
        n_samples=n_samples,
        invalid_samples=invalid,
        quality=quality,
        gaps=gaps,
    )
    return out


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
    NEIGHBOUR_S = 0.16  # a candidate is the largest envelope value within this before it
    LOOKAHEAD_S = 0.16  # ... and within this after it (look-ahead: adds to the decision delay)
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
        self._nf = max(int(round(self.LOOKAHEAD_S * fs)), 1)
        self._refr = int(round(self.REFRACTORY_S * fs))
        self._twave = int(round(self.T_WAVE_S * fs))
        self._apex = max(int(round(self.APEX_SEARCH_S * fs)), 2)
        self._pend = np.empty(max(int(fs), 64))  # pushed, not yet processed
        self._n_pend = 0
        self._pend_bad = False  # a pending sample is NaN/inf (lead-off is stored as NaN)
        self._total = 0  # samples pushed (processed + pending)
        self._wake = 0  # pushed count before which no beat can be decided: process from there
        self._outbox: List[Beat] = []  # beats of a flush in relearn(), reported by the next push
        cap = int(8 * fs)
        self._trim_every = int(fs)
        self._env = StreamBuffer(cap)
        self._y = StreamBuffer(cap)  # band-passed ECG
        self._raw = StreamBuffer(cap)  # raw ECG (invalid samples held)
        # (first, last, known) absolute indices of masked samples; ``known``: the sample count
        # from which the run is known (a flat run only once it has lasted FLAT_S), so a
        # decision sees exactly the runs known when its neighbourhood was complete
        self._bad_runs: List[tuple] = []
        self._n = 0
        self._last_valid = 0.0
        self._have_valid = False
        self._bad_until = -1  # last absolute index of a masked sample
        self._flat_start = 0  # first index of the current run of identical samples
        self._flat_len = max(int(round(self.FLAT_S * fs)), 2)
        self._learn_n = int(self.LEARN_S * fs)
        self._learn_until = self._learn_n
        self._keep_margin = (
            max(self._nb + self._nf, self._env_offset + self._apex + self._smooth_half + self._w)
            + 8
        )
        self._learning = True
        self._next = self._nb  # next undecided candidate index (waits for learning first)
        self._dec = 0  # t_decided as a sample index (updated when processing)
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
        return (self._env_offset + self._nf + self._apex + 1) / self.fs

    @property
    def n_samples(self) -> int:
        return self._total

    @property
    def t_decided(self) -> float:
        """Every beat before this time has been reported (no later decision can produce one)."""
        return self.t0 + self._dec / self.fs

    def _update_t_decided(self) -> None:
        first_open = (
            self._next
            if not self._learning
            else min(self._next, self._learn_until - int(self.LEARN_S * self.fs))
        )
        self._dec = max(first_open - self._env_offset - self._apex, self._dec)

    def _time(self, sample: float) -> float:
        return self.t0 + sample / self.fs

    # ----------------------------------------------------------------------- push
    def push(self, samples, lead_off: bool = False) -> FrontEndOutput:
        x = samples
        if type(x) is not np.ndarray or x.dtype != _F64 or x.ndim != 1:
            x = as_samples(samples)
        n = x.size
        n_bad, bad = 0, None
        if n:
            if lead_off:
                n_bad, x = n, np.full(n, np.nan)  # masked exactly like NaN samples
                bad = np.ones(n, dtype=bool)
            else:
                fin = np.isfinite(x)
                if not _all(fin):
                    bad = ~fin
                    n_bad = n - int(np.count_nonzero(fin))
            self._pend_bad = self._pend_bad or n_bad > 0
            # quality at once (not deferred with the detector): it only looks at valid samples
            quality = self._quality.push(x, bad) if self._quality is not None else []
            self._total = total = self._total + n
            due = total >= self._wake
            if due and self._n_pend == 0:
                beats = self._process(x)  # nothing pending: no copy
            else:
                k = self._n_pend
                if k + n > self._pend.size:
                    grown = np.empty(2 * (k + n))
                    grown[:k] = self._pend[:k]
                    self._pend = grown
                self._pend[k : k + n] = x
                self._n_pend = k + n
                if due:
                    self._n_pend = 0
                    beats = self._process(self._pend[: k + n])  # no stage keeps it
                else:
                    beats = []  # only buffered: no beat could be decided yet
        else:
            beats, quality = [], []
        if self._outbox:
            beats, self._outbox = self._outbox + beats, []
        return _output(beats, self.t0 + self._dec / self.fs, self._total, n_bad, quality, [])

    def flush(self) -> List[Beat]:
        """Process every pending sample now; returns the beats that decides."""
        if not self._n_pend:
            return []
        k, self._n_pend = self._n_pend, 0
        return self._process(self._pend[:k])

    def _process(self, x: np.ndarray) -> List[Beat]:
        bad = None
        if self._pend_bad:
            self._pend_bad = False
            fin = np.isfinite(x)
            if not fin.all():
                bad = ~fin
                x = self._hold(x, bad)
            else:
                self._have_valid = True
        else:
            self._have_valid = True
        self._filter(x, bad)
        beats = self._decide()
        self._update_t_decided()
        self._schedule()
        return beats

    def _schedule(self) -> None:
        """Earliest candidate that could still become a beat -> when to process next.

        Every candidate before ``hi`` is decided. One in ``[hi, n)`` can only become a beat
        if it is at least every envelope value already seen after it and every value in
        ``[n - 1 - nb, hi)`` (inside each of their look-back windows), and if it lies past
        the refractory period of the last beat (earlier ones are ignored without touching
        any state). The first such one is the first maximum of the allowed part of the
        range, if that reaches the look-back bound; unseen candidates come after ``n``.
        Nothing can be decided before that candidate's neighbourhood is complete, so
        processing waits until then (same beats, same reporting push), and no beat still
        to come can have its apex before it (``t_decided`` moves up to there).
        """
        if self._learning:
            self._wake = 0
            return
        n, nf = self._n, self._nf
        hi = n - nf
        first = max(hi, self._last_beat + self._refr)  # earliest allowed candidate
        c_pot = max(n, first)
        if first < n:
            env, st = self._env._data, self._env.start
            r = env[first - st : n - st]
            p = int(r.argmax())
            a, b = max(n - 1 - self._nb - st, 0), hi - st
            if b <= a or r[p] >= _max(env[a:b]):
                c_pot = first + p
        self._wake = c_pot + nf + 1
        self._dec = max(self._dec, c_pot - self._env_offset - self._apex)

    MAX_FILL_S = 60.0  # longer gaps re-anchor the clock instead of filling samples
    JITTER_SAMPLES = 1.5  # a chunk's time this close to the expected one is contiguous (no gap)

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
        t_first = float(getattr(chunk, "t_first", self._time(self._total)))
        if not math.isfinite(t_first):
            raise DataError(f"chunk t_first={t_first!r}: expected a finite time in seconds")
        expected = self._time(self._total)
        gap = t_first - expected
        gaps, beats, n_bad, quality = [], [], 0, []
        if self._total and gap < -self.JITTER_SAMPLES / self.fs:
            raise DataError(
                f"chunk t_first={t_first:.6f} s is {-gap:.3f} s before the expected "
                f"{expected:.6f} s: "
                "timestamps overlap or went backwards"
            )
        if self._total == 0:
            self.t0 = t_first
            if self._quality is not None:
                self._quality.t0 = t_first
        elif gap > self.JITTER_SAMPLES / self.fs:
            fill = int(round(min(gap, self.MAX_FILL_S) * self.fs))
            gaps.append((expected, t_first))
            out = self.push(np.full(fill, np.nan))
            b = self.flush()  # everything before the gap is timed on the old clock
            beats += out.beats + b
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
        self._outbox += self.flush()  # pending samples are decided with the old thresholds
        self._wake = 0
        self._learn_until = self._n + int(self.LEARN_S * self.fs)
        self._learning = True
        self._rr.clear()
        self._rr_sum = 0

    def _hold(self, x: np.ndarray, bad: np.ndarray) -> np.ndarray:
        held = hold_invalid(x, bad, self._last_valid if self._have_valid else None)
        if held is None:  # nothing valid yet: held at the initial value
            return np.full(x.size, self._last_valid)
        self._have_valid = True
        return held

    def _mask(self, first: int, last: int, flat: bool = False) -> None:
        runs = self._bad_runs
        known = first + self._flat_len if flat else first
        r = runs[-1] if runs else None
        if r is not None and (
            (first == r[0] and r[2] != r[0]) if flat else (r[2] == r[0] and first <= r[1] + 1)
        ):
            # the same flat run grown, or touching invalid samples: one entry
            runs[-1] = (r[0], max(last, r[1]), r[2])
        else:
            runs.append((first, last, known))  # pruned by position in _decide, never by count
        self._bad_until = max(self._bad_until, last)

    def _flat_runs(self, x: np.ndarray) -> None:
        """Mask runs of identical samples >= FLAT_S (lead off, stuck at a rail), steps included."""
        n, L = self._n, self._flat_len
        if x.size >= 2 and x[-1] != x[-2] and n + x.size - self._flat_start <= L:
            # common case, no arrays: a new run starts at the last sample and no run that
            # ends in this chunk can have lasted L samples
            self._flat_start = n + x.size - 1
            return
        prev = self._last_valid if self._n else x[0]
        d = np.empty(x.size, dtype=bool)
        d[0] = x[0] != prev
        np.not_equal(x[1:], x[:-1], out=d[1:])
        brk = d.nonzero()[0]
        if brk.size == 0:  # the current run goes on
            if n + x.size - self._flat_start >= L:
                self._mask(self._flat_start, n + x.size, True)
            return
        first_end = n + int(brk[0]) - 1
        if first_end - self._flat_start + 1 >= L:
            self._mask(self._flat_start, first_end + 1, True)  # +1: the step out is part of it
        if brk.size > 1:
            gaps = brk[1:] - brk[:-1]
            for k in (gaps >= L).nonzero()[0]:
                self._mask(n + int(brk[k]), n + int(brk[k + 1]), True)
        self._flat_start = n + int(brk[-1])
        if n + x.size - self._flat_start >= L:
            self._mask(self._flat_start, n + x.size, True)

    def _filter(self, x: np.ndarray, bad: Optional[np.ndarray]) -> None:
        self._flat_runs(x)
        self._last_valid = float(x[-1])
        n = x.size  # each stage writes straight into its history buffer
        self._raw.extend(n)[:] = x
        y = self._y.extend(n)
        self._bp.into(x, y)
        self._integ.mean_of_squares(y, self._env.extend(n))
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
        nb, nf = self._nb, self._nf
        hi = self._n - nf  # candidates in [next, hi) have their full neighbourhood
        lo = self._next
        beats: List[Beat] = []
        if self._n < self._learn_until or hi <= lo:
            return beats  # learning: the first beats are reported once thresholds exist
        if self._learning:
            self._learn()
            self._learning = False
            lo = self._next
        # streaming-sized range, cut into pieces of at most min(nb, nf) + 1 samples: every
        # position's neighbourhood contains its whole piece, so only a piece's maximum (and
        # any tie with it) can be a candidate - one reduction per piece, then the exact test
        # on those few, instead of the local-maximum search over the whole range
        env = self._env._data
        st = self._env.start
        j0, j1 = lo - st, hi - st
        step = min(nb, nf) + 1
        if j0 >= 1 and j1 - j0 <= 8 * step:
            for p0 in range(j0, j1, step):
                piece = env[p0 : min(p0 + step, j1)]
                q0 = int(piece.argmax())  # first maximum; a tie later on is checked too
                top = piece[q0]
                if top <= 0:
                    continue
                last = piece.size - 1 - int(piece[::-1].argmax())
                for q in [q0] if last == q0 else np.flatnonzero(piece == top).tolist():
                    c = p0 + q
                    v = env[c]
                    if (
                        v > env[c - 1]
                        and v >= env[c + 1]
                        and v >= _max(env[max(c - nb, 0) : c + nf + 1])
                    ):
                        beat = self._consider(c + st)
                        if beat is not None:
                            beats.append(beat)
            self._next = hi
            keep = min(hi, self._learn_until - self._learn_n) - self._keep_margin
            if (self._bad_runs and self._bad_runs[0][1] < keep) or (
                keep - self._env.start > self._trim_every
            ):
                self._forget(keep)
            return beats
        seg = self._env.view(lo - nb, hi + nf)
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
                    if seg[i0 + r] >= seg[max(i0 + r - nb, 0) : i0 + r + nf + 1].max()
                ]
            for rel in local:
                beat = self._consider(lo + int(rel))
                if beat is not None:
                    beats.append(beat)
        self._next = hi
        self._forget(min(hi, self._learn_until - self._learn_n) - self._keep_margin)
        return beats

    def _forget(self, keep: int) -> None:
        """Drop what no later decision can reach (samples before ``keep``)."""
        if self._bad_runs and self._bad_runs[0][1] < keep:
            self._bad_runs = [r for r in self._bad_runs if r[1] >= keep]
        if keep - self._env.start > self._trim_every:  # trim in batches, not per chunk
            for buf in (self._env, self._y, self._raw):
                buf.discard_before(keep)

    def _dominant(self, seg: np.ndarray, p: np.ndarray) -> np.ndarray:
        """Local maxima ``p`` of ``seg`` that are the maximum of their [-nb, +nf] neighbourhood.

        A window's maximum lies at an interior local maximum or at an end point, so
        comparing with the neighbouring local maxima and both end points is exact.
        """
        nb, nf = self._nb, self._nf
        inner = seg[1:-1]
        q = np.nonzero((inner > seg[:-2]) & (inner >= seg[2:]))[0] + 1  # every local maximum
        v = seg[q]
        ok = (v >= seg[np.maximum(q - nb, 0)]) & (v >= seg[np.minimum(q + nf, seg.size - 1)])
        for d in range(1, q.size):
            dist = q[d:] - q[:-d]  # later maximum minus earlier one
            near_f, near_b = dist <= nf, dist <= nb
            if not (near_f.any() or near_b.any()):
                break
            ok[:-d] &= ~near_f | (v[:-d] >= v[d:])  # a later one within the look-ahead
            ok[d:] &= ~near_b | (v[d:] >= v[:-d])  # an earlier one within the look-back
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
        elif qrs_lo - self._apex - self._smooth_half <= self._bad_until:
            lo_b = qrs_lo - self._apex - self._smooth_half
            d = c + self._nf + 1  # what was known when c was decidable, whatever the chunking
            if any(a <= c and b >= lo_b and k <= d for a, b, k in self._bad_runs):
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
    # flush: pad with invalid samples (held at the last value and masked) so beats near the
    # end get their neighbourhood but none is built on the padding
    tail = np.full(int(fe.decision_delay_s * fs) + 2, np.nan)
    out.extend(b.sample for b in fe.push(tail).beats if b.sample < x.size)
    out.extend(b.sample for b in fe.flush() if b.sample < x.size)
    return np.asarray(out, dtype=np.int64)
