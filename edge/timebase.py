"""Clocks. Logic never reads the wall clock; pacing code gets a clock injected so tests
(and the as-fast-as-possible replay) can use a fake one."""
from __future__ import annotations

import asyncio
import time


class MonotonicClock:
    """Real time: ``now()`` is ``time.monotonic()``, ``sleep_until`` awaits the deadline."""

    def now(self) -> float:
        return time.monotonic()

    async def sleep_until(self, deadline: float) -> None:
        delay = deadline - time.monotonic()
        await asyncio.sleep(delay if delay > 0 else 0)


class FakeClock:
    """A clock that jumps to every deadline at once (still yields to the event loop)."""

    def __init__(self, start: float = 0.0):
        self._now = start

    def now(self) -> float:
        return self._now

    async def sleep_until(self, deadline: float) -> None:
        self._now = max(self._now, deadline)
        await asyncio.sleep(0)


def wall_time() -> float:
    """UNIX time in seconds, for timestamps in published messages only."""
    return time.time()
