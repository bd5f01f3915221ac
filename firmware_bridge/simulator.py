"""A hardware-free ECG board on a virtual serial port (pty).

``PtySimulator`` is an async context manager that owns its task: it opens a pty, points a
stable symlink (like udev's /dev/serial/by-id names) at the port, and streams what
``DeviceModel`` produces, paced by deadlines on an injectable clock. Faults are applied
to the bytes on the wire (dropped, corrupted) and to the port (``unplug``/``replug``).
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import random
import tty
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

from cardiotune.edge.tasks import cancel_and_wait
from cardiotune.edge.timebase import MonotonicClock

from .device_model import DeviceModel, SimConfig

__all__ = ["PtySimulator", "LinkFaults", "SimConfig"]

log = logging.getLogger(__name__)


@dataclass
class LinkFaults:
    drop_byte_rate: float = 0.0  # probability that a byte is lost
    corrupt_byte_rate: float = 0.0  # probability that a byte gets one bit flipped
    unplug: Sequence[Tuple[float, float]] = ()  # (at s since start, down for s)
    unplug_resets_device: bool = False  # USB-powered board: it reboots on replug


@dataclass
class SimStats:
    bytes_written: int = 0
    bytes_dropped_full: int = 0  # the pty buffer was full (nobody reading)
    bytes_lost: int = 0
    bytes_corrupted: int = 0
    unplugs: int = 0


class PtySimulator:
    def __init__(
        self,
        cfg: Optional[SimConfig] = None,
        link: Optional[str] = None,
        faults: Optional[LinkFaults] = None,
        clock=None,
        tick_s: Optional[float] = None,
    ):
        self.cfg = cfg or SimConfig()
        self.faults = faults or LinkFaults()
        self.link = link
        self.clock = clock or MonotonicClock()
        self.model = DeviceModel(self.cfg)
        self.tick_s = tick_s or self.cfg.samples_per_frame / self.cfg.rate_hz
        self.stats = SimStats()
        self.port: Optional[str] = None  # the pty slave path while plugged in
        self._master: Optional[int] = None
        self._slave: Optional[int] = None
        self._task: Optional[asyncio.Task] = None
        self._t0 = 0.0
        self._rng = random.Random(self.cfg.seed + 2)
        self._pending_unplugs: List[Tuple[float, float]] = sorted(self.faults.unplug)

    @property
    def path(self) -> str:
        """What a host should open: the symlink if there is one, else the pty itself."""
        if self.link:
            return self.link
        if self.port is None:
            raise RuntimeError("the simulator is unplugged and has no stable link path")
        return self.port

    @property
    def plugged(self) -> bool:
        return self._master is not None

    def device_time(self) -> float:
        return (self.clock.now() - self._t0) * (1.0 + self.cfg.clock_ppm * 1e-6)

    async def __aenter__(self) -> PtySimulator:
        self._t0 = self.clock.now()
        self.replug()
        self._task = asyncio.get_running_loop().create_task(self._run(), name="pty-simulator")
        return self

    async def __aexit__(self, *exc) -> None:
        await cancel_and_wait([self._task])
        self._task = None
        self.unplug()

    def replug(self) -> None:
        """Plug the board in: a fresh pty, the symlink updated atomically."""
        if self._master is not None:
            return
        if self.faults.unplug_resets_device and self.stats.unplugs:
            self.model = DeviceModel(self.cfg)
            self._t0 = self.clock.now()
        master, slave = os.openpty()
        tty.setraw(slave)
        os.set_blocking(master, False)
        self._master, self._slave = master, slave
        self.port = os.ttyname(slave)
        if self.link:
            tmp = f"{self.link}.tmp{os.getpid()}"
            if os.path.lexists(tmp):
                os.unlink(tmp)
            os.symlink(self.port, tmp)
            os.replace(tmp, self.link)
        asyncio.get_running_loop().add_reader(master, self._on_host_bytes)
        log.info("simulator plugged in at %s", self.path)

    def unplug(self) -> None:
        """Pull the cable: the port disappears (reads on the host side fail at once)."""
        if self._master is None:
            return
        asyncio.get_running_loop().remove_reader(self._master)
        if self.link and os.path.lexists(self.link):
            os.unlink(self.link)
        os.close(self._master)
        os.close(self._slave)
        self._master = self._slave = None
        self.port = None
        self.stats.unplugs += 1
        log.info("simulator unplugged")

    def _on_host_bytes(self) -> None:
        try:
            data = os.read(self._master, 4096)
        except OSError as exc:  # EIO: no process has the port open right now
            if exc.errno != errno.EIO:
                raise
            return
        reply = self.model.receive(data, self.device_time())
        if reply:
            self._write(reply)

    def _damage(self, data: bytes) -> bytes:
        f = self.faults
        if not (f.drop_byte_rate or f.corrupt_byte_rate):
            return data
        out = bytearray()
        rnd = self._rng.random
        for b in data:
            if rnd() < f.drop_byte_rate:
                self.stats.bytes_lost += 1
                continue
            if rnd() < f.corrupt_byte_rate:
                b ^= 1 << self._rng.randrange(8)
                self.stats.bytes_corrupted += 1
            out.append(b)
        return bytes(out)

    def _write(self, data: bytes) -> None:
        data = self._damage(data)
        if self._master is None or not data:
            return
        try:
            n = os.write(self._master, data)
        except BlockingIOError:
            n = 0
        self.stats.bytes_written += n
        self.stats.bytes_dropped_full += len(data) - n

    async def _run(self) -> None:
        deadline = self.clock.now()
        while True:
            now = self.clock.now()
            while self._pending_unplugs and now - self._t0 >= self._pending_unplugs[0][0]:
                _, down = self._pending_unplugs.pop(0)
                self.unplug()
                await self.clock.sleep_until(self.clock.now() + down)
                self.replug()
            data = self.model.advance(self.device_time())
            if data:
                self._write(data)
            deadline += self.tick_s
            if deadline < self.clock.now() - 1.0:  # fell far behind (suspended): catch up
                deadline = self.clock.now()
            await self.clock.sleep_until(deadline)
