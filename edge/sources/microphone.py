"""Microphone audio via sounddevice (PortAudio): 16 kHz mono float32 :class:`AudioChunk`.

PortAudio calls ``_callback`` on its own thread; the block is copied and handed to the
event loop, which puts it in a bounded queue that drops the OLDEST block when full
(audio ages badly; ``dropped`` counts what was lost) - the audio thread never blocks.

No microphone is a normal state, not an error: without PortAudio, without the
``sounddevice`` package or without an input device, ``status`` is ``no-input-device``
with a ``reason``, and the source yields nothing, so the runtime goes on ECG-only.

Times are on the host monotonic clock (the same clock the live ECG sources map device
time onto), anchored at the first block and advanced by the sample count, so chunks are
contiguous; a dropped block shows up as a jump in ``t_first``. With ``origin`` (a callable
giving the monotonic time of session time 0, e.g. a real-time replay's start) times are
session times instead, and blocks from before the origin exists are dropped (counted in
``before_origin``).
"""
from __future__ import annotations

import asyncio
import logging
import time
from typing import AsyncIterator, Optional, Union

import numpy as np

from cardiotune._imports import import_optional
from cardiotune.errors import MissingDependencyError

from .base import AudioChunk

__all__ = ["MicrophoneSource", "NO_INPUT_DEVICE", "RUNNING", "input_device_problem"]

log = logging.getLogger(__name__)
NO_INPUT_DEVICE, RUNNING, STOPPED, STARTING = "no-input-device", "running", "stopped", "starting"
_END = object()


def input_device_problem(device: Optional[Union[int, str]] = None) -> Optional[str]:
    """Why ``device`` (None = the default input) cannot record here, or None when it can."""
    try:
        sd = import_optional("sounddevice", "audio", "microphone input")
    except (MissingDependencyError, OSError) as exc:  # OSError: the PortAudio library is missing
        return f"sounddevice unavailable: {exc}"
    try:
        sd.query_devices(device, kind="input")
    except (sd.PortAudioError, ValueError) as exc:
        return f"no usable input device: {exc}"
    return None


class MicrophoneSource:
    def __init__(self, device: Optional[Union[int, str]] = None, samplerate: int = 16000, block_s: float = 0.04,
                 queue_size: int = 50, clock=time.monotonic, origin=None):
        if samplerate <= 0 or not block_s > 0 or queue_size < 1:
            raise ValueError(f"samplerate={samplerate!r}, block_s={block_s!r}, queue_size={queue_size!r}: "
                             "expected positive values")
        self.device, self.samplerate = device, int(samplerate)
        self.blocksize = max(int(round(block_s * samplerate)), 1)
        self.queue_size = queue_size
        self._clock = clock
        self.status, self.reason = STARTING, ""
        self.dropped = 0  # blocks dropped because the consumer fell behind
        self.overflows = 0  # PortAudio's own input-overflow flags
        self._queue: Optional[asyncio.Queue] = None
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._stream = None
        self._n = 0
        self._anchor: Optional[float] = None
        self._closed = False
        self._origin = origin
        self.before_origin = 0

    # ------------------------------------------------------------------ lifecycle
    async def __aenter__(self) -> MicrophoneSource:
        self._loop = asyncio.get_event_loop()
        self._queue = asyncio.Queue(maxsize=self.queue_size)
        problem = input_device_problem(self.device)
        if problem is not None:
            return self._no_device(problem)
        sd = import_optional("sounddevice", "audio", "microphone input")
        try:
            self._stream = sd.InputStream(samplerate=self.samplerate, channels=1, dtype="float32",
                                          blocksize=self.blocksize, device=self.device, callback=self._callback)
            self._stream.start()
        except (sd.PortAudioError, ValueError) as exc:
            return self._no_device(f"no usable input device: {exc}")
        self.status, self.reason = RUNNING, ""
        log.info("microphone %r at %d Hz, blocks of %d samples", self.device, self.samplerate, self.blocksize)
        return self

    def _no_device(self, reason: str) -> MicrophoneSource:
        self.status, self.reason = NO_INPUT_DEVICE, reason
        log.warning("microphone: %s; continuing without voice", reason)
        return self

    async def __aexit__(self, *exc) -> None:
        if self._stream is not None:
            self._stream.stop()
            self._stream.close()
            self._stream = None
        if self.status == RUNNING:
            self.status = STOPPED

    # ------------------------------------------------------------------ audio thread -> loop
    def _callback(self, indata, frames, time_info, status) -> None:
        """PortAudio thread: copy and hand over; never block, never raise."""
        if status and getattr(status, "input_overflow", False):
            self.overflows += 1
        block = np.array(indata[:, 0], dtype=np.float32, copy=True)
        received = self._clock()
        self._loop.call_soon_threadsafe(self._deliver, block, received)

    def _deliver(self, block: np.ndarray, received: float) -> None:
        """Event loop: stamp the block and queue it, dropping the oldest when full."""
        if self._anchor is None:
            zero = 0.0
            if self._origin is not None:
                zero = self._origin()
                if zero is None:  # the session clock has not started yet
                    self.before_origin += 1
                    return
            self._anchor = received - block.size / self.samplerate - zero
        chunk = AudioChunk(block, float(self.samplerate), self._anchor + self._n / self.samplerate, self._n, received)
        self._n += block.size
        if self._queue.full():
            self._queue.get_nowait()
            self.dropped += 1
        self._queue.put_nowait(chunk)

    def close_input(self) -> None:
        """End iteration after what is queued (used on shutdown and by tests); drops nothing."""
        self._closed = True
        if not self._queue.full():
            self._queue.put_nowait(_END)

    def __aiter__(self) -> AsyncIterator[AudioChunk]:
        return self._chunks()

    async def _chunks(self) -> AsyncIterator[AudioChunk]:
        if self.status == NO_INPUT_DEVICE:
            return
        while not (self._closed and self._queue.empty()):
            item = await self._queue.get()
            if item is _END:
                return
            yield item
