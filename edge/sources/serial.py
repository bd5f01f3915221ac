"""Serial ECG board as a source: the cardiotune binary protocol or legacy text lines.

    async with SerialSource("/dev/serial/by-id/usb-...") as src:
        async for item in src:           # EcgChunk | Gap
            ...

One implementation for Python 3.8-3.12: pyserial opens and configures the port, then the
event loop watches its file descriptor (``add_reader``) and each wake-up reads everything
available (up to 64 KiB) and parses it in bulk. An unplug shows as a read error or EOF and
is reported at once; silence longer than ``stall_s`` is reported as a stall; the port is
reopened with capped exponential backoff (with jitter) when it reappears. Missing data is
yielded as ``Gap`` items with exact sample counts. ``status`` and ``status_log`` expose
the link state ("connecting", "streaming", "stalled", "disconnected", "closed").
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import random
from collections import deque
from dataclasses import dataclass
from typing import Callable, Deque, Optional, Tuple, Union

from cardiotune.edge.timebase import MonotonicClock
from cardiotune.firmware_bridge.protocol import Command, ControlFrame, encode

from cardiotune._imports import import_optional

from ..tasks import cancel_and_wait
from .base import EcgChunk, Gap
from .serial_link import BinaryLink, TextLink

__all__ = ["SerialSource", "LinkState"]

log = logging.getLogger(__name__)
Item = Union[EcgChunk, Gap]
READ_SIZE = 4096  # bounded work per read: a backlog is parsed and handed on in slices


@dataclass
class LinkState:
    state: str = "connecting"
    since: float = 0.0
    connects: int = 0
    disconnects: int = 0
    stalls: int = 0
    dropped_items: int = 0  # queue overflow (policy: drop oldest)
    bytes_in: int = 0
    last_disconnect: str = ""  # why the port was last lost ("end of file", "read error: EIO")


class SerialSource:
    def __init__(
        self,
        port: str,
        baudrate: int = 115200,
        protocol: str = "binary",
        stall_s: Optional[float] = None,
        backoff_s: Tuple[float, float] = (0.05, 0.5),
        queue_size: int = 512,
        clock=None,
        stream: Optional[int] = None,
        scale_uv: Optional[float] = None,
        offset: Optional[int] = None,
        fs_hint: float = 250.0,
        on_status: Optional[Callable[[LinkState], None]] = None,
    ):
        if protocol not in ("binary", "text"):
            raise ValueError(f"protocol={protocol!r}: expected 'binary' or 'text'")
        self.port, self.baudrate, self.protocol = port, baudrate, protocol
        self._stall_s = stall_s
        self.backoff_s = backoff_s
        self.clock = clock or MonotonicClock()
        if protocol == "binary":
            self.link: Union[BinaryLink, TextLink] = BinaryLink(
                stream, scale_uv=scale_uv, offset=offset
            )
        else:
            kw = {} if scale_uv is None else {"scale_uv": scale_uv, "offset": offset or 0}
            self.link = TextLink(fs_hint, **kw)
        self.status = LinkState(since=self.clock.now())
        self.status_log: Deque[Tuple[float, str]] = deque(maxlen=1000)
        self._on_status = on_status
        self._queue: Deque[Item] = deque()
        self._queue_size = queue_size
        self._wakeup: Optional[asyncio.Event] = None
        self._task: Optional[asyncio.Task] = None
        self._closed = False
        self._ctl_seq = 0
        self._serial_mod = import_optional("serial", "serial", "The serial ECG source")

    # ---- status ----
    @property
    def stall_s(self) -> float:
        """Silence this long is a stall: 4 frame periods once the rate is known."""
        if self._stall_s is not None:
            return self._stall_s
        fs = getattr(self.link, "_fs", 0.0) or 250.0
        return max(0.1, 4 * 10 / fs)

    def _set_state(self, state: str) -> None:
        if state == self.status.state:
            return
        now = self.clock.now()
        self.status.state, self.status.since = state, now
        self.status_log.append((now, state))
        log.info("serial %s: %s", self.port, state)
        if self._on_status is not None:
            self._on_status(self.status)

    # ---- lifecycle ----
    async def __aenter__(self) -> SerialSource:
        self._wakeup = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(
            self._run(), name=f"serial-source {self.port}"
        )
        # wake a waiting consumer if the task dies: its error must surface, not hang
        self._task.add_done_callback(lambda _t: self._wakeup.set())
        return self

    async def __aexit__(self, *exc) -> None:
        self._closed = True
        await cancel_and_wait([self._task])
        self._task = None
        self._set_state("closed")

    def __aiter__(self) -> SerialSource:
        return self

    async def __anext__(self) -> Item:
        while not self._queue:
            if self._task is None or self._task.done():
                if self._task is not None and not self._task.cancelled() and self._task.exception():
                    raise self._task.exception()  # a bug in the reader must not look like silence
                raise StopAsyncIteration
            self._wakeup.clear()
            await self._wakeup.wait()
        return self._queue.popleft()

    def _emit(self, items) -> None:
        for it in items:
            if len(self._queue) >= self._queue_size:
                self._queue.popleft()
                self.status.dropped_items += 1
            self._queue.append(it)
        if items:
            self._wakeup.set()

    # ---- the connection loop ----
    async def _run(self) -> None:
        backoff = self.backoff_s[0]
        while True:
            try:
                ser = self._serial_mod.Serial(self.port, self.baudrate, timeout=0)
            except (OSError, self._serial_mod.SerialException) as exc:
                log.debug("serial %s: cannot open (%s); retry in %.2f s", self.port, exc, backoff)
                if self.status.state not in ("disconnected",):
                    self._set_state("connecting")
                await asyncio.sleep(backoff * random.uniform(0.8, 1.2))
                backoff = min(backoff * 2, self.backoff_s[1])
                continue
            backoff = self.backoff_s[0]
            try:
                await self._session(ser)
            finally:
                ser.close()
            self.status.disconnects += 1
            self.link.on_disconnect()
            self._set_state("disconnected")

    async def _session(self, ser) -> None:
        loop = asyncio.get_running_loop()
        fd = ser.fileno()
        lost: asyncio.Future = loop.create_future()
        last_rx = [self.clock.now()]

        def on_readable() -> None:
            try:
                data = os.read(fd, READ_SIZE)
            except BlockingIOError:
                return
            except OSError as exc:  # EIO/ENXIO/ENODEV: the device went away
                if not lost.done():
                    lost.set_result(f"read error: {errno.errorcode.get(exc.errno, exc.errno)}")
                return
            if not data:
                if not lost.done():
                    lost.set_result("end of file")
                return
            now = self.clock.now()
            last_rx[0] = now
            self.status.bytes_in += len(data)
            if self.status.state != "streaming":
                self._set_state("streaming")
            try:
                items = self.link.push(data, now)
            except Exception as exc:  # a bug in parsing: end the task with it, never hide it
                if not lost.done():
                    lost.set_exception(exc)
                return
            self._emit(items)

        self.status.connects += 1
        self._set_state("connected")
        loop.add_reader(fd, on_readable)
        try:
            if self.protocol == "binary":
                self._send(fd, Command.GET_INFO)
                self._send(fd, Command.START)
            while True:
                try:
                    reason = await asyncio.wait_for(asyncio.shield(lost), timeout=self.stall_s / 2)
                    self.status.last_disconnect = reason
                    log.warning("serial %s: disconnected (%s)", self.port, reason)
                    return
                except asyncio.TimeoutError:
                    pass
                if (
                    self.status.state == "streaming"
                    and self.clock.now() - last_rx[0] > self.stall_s
                ):
                    self.status.stalls += 1
                    self._set_state("stalled")
                    # ask again: a board that reset and waits for START resumes
                    if self.protocol == "binary":
                        self._send(fd, Command.START)
        finally:
            loop.remove_reader(fd)
            if not lost.done():
                lost.cancel()

    def _send(self, fd: int, command: int, arg: int = 0) -> None:
        frame = ControlFrame(command, arg, stream=0, seq=self._ctl_seq)
        self._ctl_seq = (self._ctl_seq + 1) % 65536
        try:
            os.write(fd, encode(frame))
        except (BlockingIOError, OSError) as exc:
            log.debug("serial %s: control frame not sent (%s)", self.port, exc)
