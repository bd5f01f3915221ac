"""A live ECG source (serial board, LSL stream) made fit for the pipeline.

Two layers:

- :class:`LiveTimeline` (pure, no I/O): puts every item on one session timeline that
  starts at 0 with the first data and never goes backwards. Live chunk times are device
  times mapped onto the host clock, and that mapping is re-fitted as it learns (serial:
  ``ClockMapper``), so consecutive chunks can step back a little, and a crystal a few
  ppm off makes chunk times wander from ``sample count / fs``. The front-end counts
  samples and rejects backward steps, and fills any forward step with masked samples
  (which makes the whole HRV window not-available), so neither may reach it. The
  timeline therefore follows the *sample index* (the sources number samples
  contiguously and advance the index over every gap they report): a chunk is placed
  right after the previous one plus the samples the source said were missing. The
  device clock only matters when it disagrees by more than ``resync_s``: ahead (a
  clock jump, or loss the source did not number) becomes a :class:`Gap` and the
  timeline jumps forward to it; behind is clamped (``steps_back`` counts the chunks whose
own time stepped back further than the front-end tolerates, ``max_behind_s`` the largest
lead of the timeline over a chunk's own time). Overlapping
  samples (an index already delivered) are dropped, counted. A chunk rate within
  ``rate_tolerance`` (2 %) of the first chunk's is taken as the same rate; a larger change is
  an error naming both rates. The legacy text protocol states no rate (its decoder estimates
  one from arrival times, wildly at first): it runs at ``nominal_fs`` and the estimate is
  checked (10 %) only after ``settle_s`` of data.
- :class:`LiveSource` (async): wraps the inner source, runs it through the timeline,
  ends on :meth:`stop` (Ctrl-C / SIGTERM) or after ``duration_s`` of wall time, and
  lets the caller :meth:`peek` at the first item (the device's sample rate) before the
  pipeline is built.

RR intervals (:class:`RrChunk`) are shifted onto the same timeline; beats that do not
move forward are dropped (counted), so beat times never go backwards either.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from dataclasses import dataclass
from typing import Any, Callable, Deque, List, Optional, Union

import numpy as np

from cardiotune.errors import DataError

from ..tasks import cancel_and_wait
from .base import AudioChunk, EcgChunk, Gap, RrChunk

__all__ = ["LiveTimeline", "TimelineCounters", "LiveSource", "RATE_TOLERANCE", "ESTIMATED_RATE_TOLERANCE"]

log = logging.getLogger(__name__)
RATE_TOLERANCE = 0.02  # relative: a stated rate (binary frames, LSL nominal rate) that moves further has changed
ESTIMATED_RATE_TOLERANCE = 0.1  # a rate estimated from arrival times (legacy text) wanders more under load
Item = Union[EcgChunk, RrChunk, Gap, AudioChunk]


@dataclass
class TimelineCounters:
    chunks: int = 0
    steps_back: int = 0  # chunks whose own time started > 1.5 samples before the previous one ended
    max_step_back_s: float = 0.0  # the largest such step (what the front-end would have rejected)
    max_behind_s: float = 0.0  # the largest lead of the timeline over a chunk's own time (clamped)
    resyncs: int = 0  # the device clock ran ahead by more than resync_s: a gap was inserted
    resync_s_total: float = 0.0
    gaps: int = 0  # gaps reported by the source
    missing_samples: int = 0  # in those gaps and in resyncs
    overlap_samples: int = 0  # samples whose index had been delivered already (dropped)
    rr_intervals: int = 0
    rr_dropped: int = 0  # beats that did not move forward in time
    max_rate_dev_hz: float = 0.0  # largest difference of a chunk's stated rate from the run's rate


class LiveTimeline:
    def __init__(self, resync_s: float = 0.5, rate_tolerance: float = RATE_TOLERANCE,
                 nominal_fs: Optional[float] = None, settle_s: float = 10.0):
        if not resync_s > 0:
            raise ValueError(f"resync_s={resync_s!r}: expected a number of seconds > 0")
        if not 0 <= rate_tolerance < 1:
            raise ValueError(f"rate_tolerance={rate_tolerance!r}: expected a fraction in [0, 1)")
        if nominal_fs is not None and not nominal_fs > 0:
            raise ValueError(f"nominal_fs={nominal_fs!r}: expected a sample rate > 0 Hz, or None")
        self.resync_s = float(resync_s)
        self.rate_tolerance = float(rate_tolerance)
        # a source whose chunk rates are estimates (legacy text: from arrival times, wild at first) runs at
        # nominal_fs; the estimate is only checked against it once settle_s of data has passed
        self.nominal_fs = nominal_fs
        self.settle_s = float(settle_s)
        self.origin: Optional[float] = None  # source-clock time of timeline 0 (host monotonic for live sources)
        self.fs: Optional[float] = None
        self.counters = TimelineCounters()
        self._index_base = 0  # source index of our index 0
        self._next_index = 0  # next expected source index (ours)
        self._out_index = 0  # next index we hand out (resync gaps included)
        self._t_next = 0.0  # timeline time of the next expected sample
        self._last_beat: Optional[float] = None
        self._raw_end: Optional[float] = None  # the previous chunk's own end time (timeline clock)

    @property
    def position_s(self) -> float:
        """Timeline time up to which data has been delivered."""
        if self._last_beat is not None and self.fs is None:
            return self._last_beat
        return self._t_next

    def push(self, item: Any) -> List[Item]:
        if isinstance(item, EcgChunk):
            return self._ecg(item)
        if isinstance(item, Gap):
            return self._gap(item)
        if isinstance(item, RrChunk):
            return self._rr(item)
        if isinstance(item, AudioChunk):
            return [item]
        raise TypeError(f"live source yielded {type(item).__name__}; expected EcgChunk, RrChunk or Gap")

    def _ecg(self, c: EcgChunk) -> List[Item]:
        fs = float(c.fs)
        if self.origin is None:
            self.origin, self.fs = float(c.t_first), float(self.nominal_fs or fs)
            self._index_base = c.first_index
        if self.fs is None:  # RR first, then ECG: not a combination any source produces
            raise DataError("live source: ECG after RR intervals on one stream; expected one kind of data")
        if self.nominal_fs is not None and self._t_next < self.settle_s:
            fs = self.fs  # an early estimate: not yet worth checking
        elif abs(fs - self.fs) > self.rate_tolerance * self.fs:
            raise DataError(f"live source: sample rate changed from {self.fs:g} Hz to {fs:g} Hz during the run; "
                            "expected one rate (set source.fs to the device's rate, or restart the run after "
                            "reconfiguring the device)")
        else:
            # the same rate, stated a little differently (an estimate): keep the first
            self.counters.max_rate_dev_hz = max(self.counters.max_rate_dev_hz, abs(fs - self.fs))
            fs = self.fs
        samples, idx, t_in = c.samples, c.first_index - self._index_base, float(c.t_first) - self.origin
        if idx < self._next_index:  # an index already delivered: drop the overlap
            k = min(self._next_index - idx, len(samples))
            self.counters.overlap_samples += k
            samples, idx, t_in = samples[k:], idx + k, t_in + k / fs
            if not len(samples):
                return []
        out: List[Item] = []
        missing = idx - self._next_index  # the source reported these as a Gap (already counted there)
        t_idx = self._t_next + missing / fs
        self._out_index += missing
        d = t_in - t_idx
        if d > self.resync_s:
            n = int(round(d * fs))
            out.append(Gap(t_idx, t_idx + n / fs, n, f"device clock {d:.3f} s ahead of the sample count"))
            self.counters.resyncs += 1
            self.counters.resync_s_total += n / fs
            self.counters.missing_samples += n
            self._out_index += n
            t_idx += n / fs
            log.warning("live timeline: device clock %.3f s ahead of the sample count; re-synced with a gap", d)
        elif d < 0:
            self.counters.max_behind_s = max(self.counters.max_behind_s, -d)
        if self._raw_end is not None and t_in < self._raw_end - 1.5 / fs:
            self.counters.steps_back += 1
            self.counters.max_step_back_s = max(self.counters.max_step_back_s, self._raw_end - t_in)
        self._raw_end = t_in + len(samples) / fs
        self.counters.chunks += 1
        out.append(EcgChunk(samples, fs, t_idx, self._out_index, c.received, c.lead_off))
        self._out_index += len(samples)
        self._next_index = idx + len(samples)
        self._t_next = t_idx + len(samples) / fs
        return out

    def _gap(self, g: Gap) -> List[Item]:
        if self.origin is None or self.fs is None:
            return []  # nothing delivered yet: nothing is missing from this run
        self.counters.gaps += 1
        self.counters.missing_samples += g.n_missing
        # placed by the sample count like the chunks around it; the next chunk's index says where data resumes
        t0 = self._t_next
        return [Gap(t0, t0 + g.n_missing / self.fs, g.n_missing, g.reason)]

    def _rr(self, c: RrChunk) -> List[Item]:
        rr = np.asarray(c.rr_s, dtype=np.float64).reshape(-1)
        tb = np.asarray(c.t_beats, dtype=np.float64).reshape(-1)
        if rr.shape != tb.shape:
            raise DataError(f"RR chunk: {rr.size} intervals but {tb.size} beat times; expected equal lengths")
        if not rr.size:
            return []
        if self.origin is None:
            self.origin = float(tb[0] - rr[0])  # the beat that starts the first interval is time 0
        tb = tb - self.origin
        keep = np.ones(tb.size, dtype=bool)
        last = self._last_beat
        for i, t in enumerate(tb):
            if last is not None and not t > last:
                keep[i] = False
            else:
                last = float(t)
        self._last_beat = last
        self.counters.rr_dropped += int((~keep).sum())
        self.counters.rr_intervals += int(keep.sum())
        if not keep.any():
            return []
        return [RrChunk(rr[keep], tb[keep], c.received)]


class LiveSource:
    """``async with LiveSource(SerialSource(...), duration_s=60) as src: async for item in src: ...``

    Re-entrant: the app enters it to :meth:`peek` at the first item, then the runtime
    enters it again to iterate; only the outermost exit closes the inner source.
    """

    def __init__(self, inner, *, duration_s: Optional[float] = None, resync_s: float = 0.5,
                 rate_tolerance: float = RATE_TOLERANCE, nominal_fs: Optional[float] = None,
                 clock: Callable[[], float] = time.monotonic):
        if duration_s is not None and not duration_s > 0:
            raise ValueError(f"duration_s={duration_s!r}: expected seconds > 0, or None to run until stopped")
        self.inner = inner
        self.duration_s = duration_s
        self.timeline = LiveTimeline(resync_s, rate_tolerance, nominal_fs)
        self.clock = clock
        self.started_at: Optional[float] = None
        self.stop_reason = ""
        self._depth = 0
        self._buffer: Deque[Item] = deque()
        self._ended = False
        self._stop: Optional[asyncio.Event] = None
        self._stop_task: Optional[asyncio.Task] = None
        self._pending: Optional[asyncio.Future] = None

    @property
    def origin(self) -> Optional[float]:
        """Host monotonic time of timeline 0 (None before the first data): the microphone aligns to it."""
        return self.timeline.origin

    async def __aenter__(self) -> LiveSource:
        self._depth += 1
        if self._depth == 1:
            self._stop = asyncio.Event()
            self._stop_task = asyncio.ensure_future(self._stop.wait())
            self.started_at = self.clock()
            try:
                await self.inner.__aenter__()
            except BaseException:
                self._depth -= 1
                await cancel_and_wait([self._stop_task])
                raise
        return self

    async def __aexit__(self, *exc) -> None:
        self._depth -= 1
        if self._depth > 0:
            return
        await cancel_and_wait([self._pending, self._stop_task])
        self._pending = self._stop_task = None
        await self.inner.__aexit__(*exc)

    def stop(self, reason: str = "stopped") -> None:
        """End the stream after what has been delivered (safe from a signal handler)."""
        if self._stop is not None and not self._stop.is_set():
            self.stop_reason = reason
            self._stop.set()

    async def _one(self):
        try:
            return await self.inner.__anext__()
        except StopAsyncIteration:
            return _END

    async def _raw(self):
        """The inner source's next item, or _END when it ended, was stopped or ran out of time."""
        if self._stop.is_set():
            return _END
        if self._pending is None:
            self._pending = asyncio.ensure_future(self._one())
        timeout = None
        if self.duration_s is not None:
            timeout = max(self.started_at + self.duration_s - self.clock(), 0.0)
        done, _ = await asyncio.wait([self._pending, self._stop_task], timeout=timeout,
                                     return_when=asyncio.FIRST_COMPLETED)
        if self._pending in done:
            fut, self._pending = self._pending, None
            item = fut.result()  # an error in the source surfaces here
            if item is _END:
                self.stop_reason = self.stop_reason or "the source ended"
            return item
        if not self._stop.is_set():
            self.stop_reason = self.stop_reason or f"duration_s = {self.duration_s:g} reached"
        return _END

    async def _fill(self) -> bool:
        while not self._buffer:
            if self._ended:
                return False
            item = await self._raw()
            if item is _END:
                self._ended = True
                return False
            self._buffer.extend(self.timeline.push(item))
        return True

    async def peek(self) -> Optional[Item]:
        """The first item not yet taken (waiting for it), or None if the stream ends first.

        Gaps before any data are not part of the run (the timeline drops them), so the first
        item of a run is its first ECG chunk or RR chunk: it tells the sample rate."""
        return self._buffer[0] if await self._fill() else None

    def __aiter__(self) -> LiveSource:
        return self

    async def __anext__(self) -> Item:
        if not await self._fill():
            raise StopAsyncIteration
        return self._buffer.popleft()


_END = object()
