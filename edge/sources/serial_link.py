"""Pure logic behind the serial source: decoded frames (or legacy text) plus the host time
of each read in, ``EcgChunk`` / ``Gap`` out. No I/O, no event loop.

- Samples are converted to millivolts with the device's INFO (scale, offset) or an
  override; DATA before any INFO is held back (bounded) until INFO arrives.
- Device timestamps are mapped onto the host monotonic clock (``ClockMapper``: lower
  envelope of arrival - sampling time, drift fitted).
- Continuity uses the device's sample index: a jump is a ``Gap`` with the exact number of
  missing samples; after a device restart the gap is measured on the host clock.
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass
from typing import Deque, List, Optional, Union

import numpy as np
from cardiotune.firmware_bridge.protocol import (
    ClockMapper,
    DataFrame,
    Decoder,
    Flags,
    InfoFrame,
    LegacyTextDecoder,
    StreamRestart,
)

from .base import EcgChunk, Gap

__all__ = ["BinaryLink", "TextLink", "LinkCounters"]

log = logging.getLogger(__name__)
Item = Union[EcgChunk, Gap]
U32 = 1 << 32


@dataclass
class LinkCounters:
    chunks: int = 0  # DATA frames used (binary) or decoded reads (text)
    samples: int = 0
    gaps: int = 0
    missing_samples: int = 0
    late_frames_dropped: int = 0  # arrived after their place was already reported as a gap
    held_without_info: int = 0  # DATA dropped because no INFO (scale) arrived in time
    device_restarts: int = 0


class _Unwrap:
    """Unwraps a u32 counter that only moves forward (or restarts)."""

    def __init__(self) -> None:
        self.value: Optional[int] = None

    def push(self, raw: int) -> int:
        if self.value is None:
            self.value = raw
        else:
            d = (raw - self.value) % U32
            self.value = self.value + d if d < U32 // 2 else self.value - (U32 - d)
        return self.value


class BinaryLink:
    def __init__(
        self,
        stream: Optional[int] = None,
        channel: int = 0,
        scale_uv: Optional[float] = None,
        offset: Optional[int] = None,
        max_held_frames: int = 64,
    ):
        self.stream = stream  # None: the first DATA stream seen
        self.channel = channel
        self._override = (scale_uv, offset) if scale_uv is not None else None
        self.decoder = Decoder()
        self.info: Optional[InfoFrame] = None
        self.clock = ClockMapper()
        self.counters = LinkCounters()
        self._held: Deque = deque(maxlen=max_held_frames)
        self._idx = _Unwrap()
        self._tus = _Unwrap()
        self._next_dev_index: Optional[int] = None  # next expected device sample index
        self._next_t: Optional[float] = None  # host time of that sample
        self._out_index = 0  # our contiguous numbering (gaps included)
        self._fs = 0.0
        self._pending_reason = ""  # why the next discontinuity happened, if known
        self._run = None  # samples of contiguous frames not yet made into a chunk

    # ---- connection events from the I/O layer ----
    def on_disconnect(self) -> None:
        self.decoder = Decoder()  # a new port: bytes before its first delimiter are partial
        self._pending_reason = "disconnected"

    def _scale(self):
        if self._override is not None:
            return self._override
        if self.info is None or self.channel >= len(self.info.channels):
            return None
        ch = self.info.channels[self.channel]
        return ch.scale_uv, ch.offset

    def push(self, data: bytes, t_host: float) -> List[Item]:
        out: List[Item] = []
        for item in self.decoder.feed(data):
            if isinstance(item, DataFrame):
                if self.stream is None:
                    self.stream = item.stream
                if item.stream != self.stream:
                    continue
                if self._scale() is None:
                    if len(self._held) == self._held.maxlen:
                        self.counters.held_without_info += 1  # drop-oldest
                    self._held.append((item, t_host))
                    continue
                self._data(item, t_host, out)
            elif isinstance(item, InfoFrame):
                if self.info is not None and item.serial != self.info.serial:
                    log.warning("device changed from %s to %s", self.info.serial, item.serial)
                self.info = item
                while self._held:
                    f, t = self._held.popleft()
                    self._data(f, t, out)
            elif isinstance(item, StreamRestart) and item.stream == self.stream:
                self._pending_reason = self._pending_reason or "device restarted"
        self._flush(out)
        return out

    def _restart(self) -> None:
        self._idx = _Unwrap()
        self._tus = _Unwrap()
        self.clock.reset()
        self._next_dev_index = None
        self.counters.device_restarts += 1

    def _data(self, f: DataFrame, t_host: float, out: List[Item]) -> None:
        fs = f.rate_hz
        if fs <= 0:
            return
        if f.flags & Flags.SYNC and self._next_dev_index is not None:
            self._flush(out)  # timed on the old device clock, before the mapper is reset
            self._restart()
            self._pending_reason = self._pending_reason or "device restarted"
        idx = self._idx.push(f.sample_index)
        t_dev = self._tus.push(f.t_us) / 1e6
        if self._next_dev_index is not None and idx < self._next_dev_index - U32 // 4:
            self._flush(out)
            self._restart()  # the index went far back without SYNC: a reboot whose SYNC we lost
            idx, t_dev = self._idx.push(f.sample_index), self._tus.push(f.t_us) / 1e6
        n = f.n
        self.clock.observe(t_dev + (n - 1) / fs, t_host)
        t_first = self.clock.to_host(t_dev)
        if self._next_dev_index is None:  # first frame, or first after a restart
            if self._next_t is not None:
                missing = max(int(round((t_first - self._next_t) * self._fs)), 0)
                self._gap(
                    self._next_t, t_first, missing, self._pending_reason or "device restarted", out
                )
        elif idx < self._next_dev_index:
            self.counters.late_frames_dropped += 1
            return
        elif idx > self._next_dev_index:
            reason = self._pending_reason or "frames lost on the link"
            self._gap(self._next_t, t_first, idx - self._next_dev_index, reason, out)
        self._pending_reason = ""
        run = self._run
        scale = self._scale()
        if run is not None and (run[4] != f.lead_off or run[1] != fs or run[5] != scale):
            self._flush(out)
            run = None
        if run is None:  # contiguous frames of one push become one chunk (bulk conversion)
            run = self._run = [[], fs, t_dev, self._out_index, f.lead_off, scale, t_host]
        if f.channels == 1:
            run[0].extend(f.samples)
        else:
            run[0].extend(f.samples[self.channel :: f.channels])
        run[6] = t_host
        self._out_index += n
        self.counters.chunks += 1
        self.counters.samples += n
        self._next_dev_index = idx + n  # (_next_t, its host time, is set when the run is flushed)
        self._fs = fs

    def _flush(self, out: List[Item]) -> None:
        """Close the current run of contiguous frames into one chunk, timed with the clock
        fit as it stands after all of them were observed: in a backlog every frame lowers
        the fit a little, and timing each frame with the fit of its moment would cut the
        run into one chunk per frame (a 20,000-frame burst became 20,000 chunks)."""
        if self._run is None:
            return
        raw, fs, t_dev, first, lead_off, (scale, offset), t_host = self._run
        self._run = None
        t_first = self.clock.to_host(t_dev)
        self._next_t = t_first + len(raw) / fs
        mv = ((np.asarray(raw, dtype=np.float64) - offset) * (scale / 1000.0)).astype(np.float32)
        out.append(EcgChunk(mv, fs, t_first, first, t_host, lead_off))

    def _gap(self, t_start: float, t_end: float, n: int, reason: str, out: List[Item]) -> None:
        self._flush(out)
        out.append(Gap(t_start, t_end, n, reason))
        self._out_index += n
        self.counters.gaps += 1
        self.counters.missing_samples += n


class TextLink:
    """The legacy text protocol: raw counts per line, converted with a configured scale."""

    def __init__(self, fs_hint: float = 250.0, scale_uv: float = 2.9296875, offset: int = 512):
        self.decoder = LegacyTextDecoder(fs_hint)
        self.scale_uv, self.offset = scale_uv, offset
        self.counters = LinkCounters()
        self._base = 0  # our index where the current decoder's numbering starts
        self._last_end: Optional[float] = None  # host time just after the last sample

    def on_disconnect(self) -> None:
        # no sample index on this protocol: the gap is measured on the host clock
        self._base += self.decoder.samples
        self.decoder = LegacyTextDecoder(self.decoder.fs)

    def push(self, data: bytes, t_host: float) -> List[Item]:
        out: List[Item] = []
        for c in self.decoder.feed(data, t_host):
            first = self._base + c.first_index
            last_end = self._last_end
            if c.first_index == 0 and last_end is not None:
                missing = max(int(round((c.t_first - last_end) * c.fs)), 0)
                out.append(Gap(last_end, c.t_first, missing, "disconnected"))
                self._base += missing
                first += missing
                self.counters.gaps += 1
                self.counters.missing_samples += missing
            vals = np.array([np.nan if v is None else v for v in c.values], dtype=np.float64)
            off = np.isnan(vals)
            mv = (
                (np.where(off, self.offset, vals) - self.offset) * (self.scale_uv / 1000.0)
            ).astype(np.float32)
            # split where the lead-off state changes, so each chunk's flag is exact
            edges = np.flatnonzero(np.diff(off.astype(np.int8))) + 1
            for a, b in zip(np.r_[0, edges], np.r_[edges, len(mv)]):
                out.append(
                    EcgChunk(
                        mv[a:b], c.fs, c.t_first + a / c.fs, first + int(a), t_host, bool(off[a])
                    )
                )
            self._last_end = c.t_first + len(mv) / c.fs
            self.counters.chunks += 1
            self.counters.samples += len(mv)
        return out
