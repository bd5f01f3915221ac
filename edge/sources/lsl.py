"""Lab Streaming Layer inlet as a source: any ECG stream (-> ``EcgChunk``) or RR/IBI
stream (-> ``RrChunk``), selected by name, type and/or source_id.

    async with LslSource(type="ECG", source_id="cardiotune-serial-SIM-0001") as src:
        async for item in src:
            ...

Non-blocking throughout: a ``ContinuousResolver`` finds the stream, the inlet is polled
with ``pull_chunk(timeout=0)``. Timestamps are LSL-time-corrected (``proc_clocksync``)
and mapped onto the host monotonic clock. The outlet's backlog is flushed on the first
connect; after a reconnect it is kept (what the restarted outlet sent while we were away). When the
outlet goes away (lost, or silent for ``stall_s``; ``rr_stall_s`` for an RR stream, which
sends one sample per beat) the inlet is dropped and the stream is resolved again - by its
source_id once known, so a restarted outlet is picked up without restarting the runtime -
and the missing stretch is yielded as a ``Gap`` with its duration. Tests must keep
discovery on the machine: set ``LSLAPICFG`` (PLATFORM_NOTES).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from dataclasses import dataclass
from typing import Callable, Deque, List, Optional, Tuple, Union

import numpy as np

from cardiotune._imports import import_optional
from cardiotune.errors import MissingDependencyError

from ..tasks import cancel_and_wait
from .base import EcgChunk, Gap, RrChunk

__all__ = ["LslSource", "LslStatus", "build_predicate"]

log = logging.getLogger(__name__)
Item = Union[EcgChunk, RrChunk, Gap]
RR_TYPES = ("RR", "IBI")
_UNIT_TO_MV = {
    "millivolts": 1.0,
    "mv": 1.0,
    "microvolts": 1e-3,
    "uv": 1e-3,
    "µv": 1e-3,
    "volts": 1e3,
    "v": 1e3,
}


def _xq(value: str) -> str:
    if "'" in value:
        raise ValueError(f"{value!r}: LSL stream properties with a single quote are not supported")
    return f"'{value}'"


def build_predicate(
    name: Optional[str] = None, type: Optional[str] = "ECG", source_id: Optional[str] = None
) -> str:
    """XPath 1.0 predicate for liblsl's resolver. ``type="RR"`` also matches ``IBI``."""
    parts = []
    if name:
        parts.append(f"name={_xq(name)}")
    if type:
        types = RR_TYPES if type.upper() in RR_TYPES else (type,)
        parts.append("(" + " or ".join(f"type={_xq(t)}" for t in types) + ")")
    if source_id:
        parts.append(f"source_id={_xq(source_id)}")
    if not parts:
        raise ValueError("no selector: give at least one of name, type, source_id")
    return " and ".join(parts)


@dataclass
class LslStatus:
    state: str = "resolving"  # resolving, streaming, stalled, closed
    since: float = 0.0
    connects: int = 0
    losses: int = 0
    dropped_items: int = 0  # queue overflow (policy: drop oldest)
    samples: int = 0


class LslSource:
    def __init__(
        self,
        name: Optional[str] = None,
        type: Optional[str] = "ECG",
        source_id: Optional[str] = None,
        channel: int = 0,
        poll_s: float = 0.005,
        stall_s: float = 1.0,
        rr_stall_s: float = 5.0,
        gap_factor: float = 2.5,
        queue_size: int = 512,
        max_buflen_s: int = 30,
        on_status: Optional[Callable[[LslStatus], None]] = None,
    ):
        self.pred = build_predicate(name, type, source_id)
        self.channel, self.poll_s, self.stall_s, self.gap_factor = (
            channel,
            poll_s,
            stall_s,
            gap_factor,
        )
        self.max_buflen_s = max_buflen_s
        # an RR stream sends one sample per beat: a second without one (HR < 60) is not a stall
        self.rr_stall_s = max(rr_stall_s, stall_s)
        self.status = LslStatus(since=time.monotonic())
        self.status_log: Deque[Tuple[float, str]] = deque(maxlen=1000)
        self._on_status = on_status
        self._queue: Deque[Item] = deque()
        self._queue_size = queue_size
        self._wakeup: Optional[asyncio.Event] = None
        self._task: Optional[asyncio.Task] = None
        self.source_id = source_id
        self.info = None  # the connected stream's full StreamInfo
        self._index = 0
        self._last_t: Optional[float] = None
        self._pending_reason = ""
        self._lsl = load_pylsl()
        self._errors = _lsl_errors(self._lsl)

    def _set_state(self, state: str) -> None:
        if state != self.status.state:
            now = time.monotonic()
            self.status.state, self.status.since = state, now
            self.status_log.append((now, state))
            log.info("lsl %s: %s", self.pred, state)
            if self._on_status is not None:
                self._on_status(self.status)

    async def __aenter__(self) -> LslSource:
        self._wakeup = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(
            self._run(), name=f"lsl-source {self.pred}"
        )
        # wake a waiting consumer if the task dies: its error must surface, not hang
        self._task.add_done_callback(lambda _t: self._wakeup.set())
        return self

    async def __aexit__(self, *exc) -> None:
        await cancel_and_wait([self._task])
        self._task = None
        self._set_state("closed")

    def __aiter__(self) -> LslSource:
        return self

    async def __anext__(self) -> Item:
        while not self._queue:
            if self._task is None or self._task.done():
                if self._task is not None and not self._task.cancelled() and self._task.exception():
                    raise self._task.exception()
                raise StopAsyncIteration
            self._wakeup.clear()
            await self._wakeup.wait()
        return self._queue.popleft()

    def _emit(self, items: List[Item]) -> None:
        for it in items:
            if len(self._queue) >= self._queue_size:
                self._queue.popleft()
                self.status.dropped_items += 1
            self._queue.append(it)
        if items:
            self._wakeup.set()

    async def _resolve(self):
        pred = (
            self.pred
            if self.source_id is None
            else f"{self.pred} and source_id={_xq(self.source_id)}"
        )
        resolver = self._lsl.ContinuousResolver(pred=pred, forget_after=2.0)
        try:
            while True:
                found = resolver.results()
                if found:
                    return found[0]
                await asyncio.sleep(0.05)
        finally:
            del resolver

    async def _run(self) -> None:
        lsl = self._lsl
        offset = lsl.local_clock() - time.monotonic()  # both CLOCK_MONOTONIC on Linux: ~0
        while True:
            self._set_state("resolving")
            info = await self._resolve()
            inlet = lsl.StreamInlet(
                info,
                max_buflen=self.max_buflen_s,
                recover=False,
                processing_flags=lsl.proc_clocksync,
            )
            try:
                loop = asyncio.get_running_loop()
                await loop.run_in_executor(None, inlet.open_stream, 5.0)
                self.info = await loop.run_in_executor(None, inlet.info, 5.0)
                # the first clock-offset estimate: until it exists, clock-synced pulls hold data
                await loop.run_in_executor(None, inlet.time_correction, 5.0)
                self.source_id = self.source_id or self.info.source_id() or None
                if self.status.connects == 0:
                    # first connection: drop the outlet's history, what is yielded is live.
                    # On a reconnect the backlog is what the restarted outlet sent while we
                    # were away: keep it (minus any overlap), so the gap is the real outage.
                    inlet.flush()
                self.status.connects += 1
                await self._stream(inlet, offset)
            except self._errors as exc:
                log.warning("lsl %s: stream lost (%s)", self.pred, exc)
            finally:
                inlet.close_stream()
                del inlet
            self.status.losses += 1
            self._pending_reason = "outlet lost"

    async def _stream(self, inlet, offset: float) -> None:
        info = self.info
        fs = info.nominal_srate()
        is_rr = info.type().upper() in RR_TYPES
        scale, rr_scale = _units(info, self.channel, is_rr)
        stall_s = self.rr_stall_s if is_rr or fs <= 0 else self.stall_s
        last_rx = time.monotonic()
        while True:
            data, ts = inlet.pull_chunk(timeout=0.0, max_samples=4096)
            now = time.monotonic()
            if ts:
                last_rx = now
                if self.status.state != "streaming":
                    self._set_state("streaming")
                t = np.asarray(ts, dtype=np.float64) - offset
                x = np.asarray(data, dtype=np.float64)[:, self.channel]
                self._emit(
                    self._rr(x * rr_scale, t, now)
                    if is_rr or fs <= 0
                    else self._ecg(x * scale, t, fs, now)
                )
            elif now - last_rx > stall_s:
                self._set_state("stalled")
                return  # re-resolve: a restarted outlet with the same source_id is found again
            await asyncio.sleep(self.poll_s)

    def _ecg(self, mv: np.ndarray, t: np.ndarray, fs: float, now: float) -> List[Item]:
        out: List[Item] = []
        if self._last_t is not None:
            keep = t > self._last_t + 0.5 / fs  # a reconnect's backlog may overlap
            if not keep.all():
                mv, t = mv[keep], t[keep]
                if not len(t):
                    return out
            dt = t[0] - self._last_t
            if dt > self.gap_factor / fs:
                n = max(int(round(dt * fs)) - 1, 0)
                out.append(
                    Gap(self._last_t + 1.0 / fs, float(t[0]), n, self._pending_reason or "no data")
                )
                self._index += n
        self._pending_reason = ""
        out.append(EcgChunk(mv.astype(np.float32), fs, float(t[0]), self._index, now))
        self._index += len(mv)
        self._last_t = float(t[-1])
        self.status.samples += len(mv)
        return out

    def _rr(self, rr_s: np.ndarray, t: np.ndarray, now: float) -> List[Item]:
        self.status.samples += len(rr_s)
        return [RrChunk(rr_s.astype(np.float64), t, now)]


def load_pylsl():
    """pylsl, or an error naming the fix (pylsl < 1.17 ships no liblsl: set PYLSL_LIB)."""
    try:
        return import_optional("pylsl", "lsl", "The LSL source")
    except RuntimeError as exc:
        raise MissingDependencyError(
            "pylsl (liblsl binary)",
            "lsl",
            f"LSL ({exc}); point PYLSL_LIB at a liblsl.so, e.g. from pylsl>=1.17,",
        ) from exc


def _units(info, channel: int, is_rr: bool) -> Tuple[float, float]:
    """(scale to millivolts, scale to seconds) from the stream's channel metadata."""
    unit = ""
    ch = info.desc().child("channels").child("channel")
    for _ in range(channel):
        ch = ch.next_sibling()
    if not ch.empty():
        unit = ch.child_value("unit").strip().lower()
    if is_rr:
        return 1.0, 1.0 if unit in ("s", "seconds") else 1e-3  # RR/IBI default: milliseconds
    if unit and unit not in _UNIT_TO_MV:
        log.warning("lsl: unknown unit %r on channel %d; assuming millivolts", unit, channel)
    return _UNIT_TO_MV.get(unit, 1.0), 1.0


def _lsl_errors(lsl) -> tuple:
    """pylsl's LostError and TimeoutError (their module moved between 1.16 and 1.17)."""
    found = []
    for name in ("LostError", "TimeoutError"):
        for mod in ("util", "pylsl"):
            obj = getattr(getattr(lsl, mod, None), name, None)
            if isinstance(obj, type) and issubclass(obj, Exception):
                found.append(obj)
                break
    if len(found) < 2:  # unknown layout: both derive from RuntimeError in every release
        found.append(RuntimeError)
    return tuple(found)
