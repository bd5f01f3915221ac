"""Replay a recorded session as a live source, paced against deadlines.

Chunk k is released at ``start + t_end(k) / speed`` on an injectable clock (never a fixed
sleep, so pacing does not drift); ``speed=None`` releases chunks as fast as the consumer
takes them. Output is identical whatever the speed: only the timing differs.
"""
from __future__ import annotations

import asyncio
import time
from typing import AsyncIterator, Optional

import numpy as np

from ..session import RecordedSession
from ..timebase import MonotonicClock
from .base import EcgChunk

__all__ = ["ReplaySource"]


class ReplaySource:
    def __init__(self, session: RecordedSession, speed: Optional[float] = 1.0, chunk_s: float = 0.04,
                 duration_s: Optional[float] = None, clock=None):
        if speed is not None and not speed > 0:
            raise ValueError(f"speed={speed!r}: expected a number > 0, or None for as fast as possible")
        if not chunk_s > 0:
            raise ValueError(f"chunk_s={chunk_s!r}: expected a number > 0")
        self.session, self.speed = session, speed
        self.chunk = max(int(round(chunk_s * session.fs)), 1)
        n = len(session.ecg_mv)
        self.n_samples = n if duration_s is None else min(n, int(round(duration_s * session.fs)))
        self.clock = clock or MonotonicClock()
        self.position_s = 0.0

    async def __aenter__(self) -> ReplaySource:
        return self

    async def __aexit__(self, *exc) -> None:
        return None

    def __aiter__(self) -> AsyncIterator[EcgChunk]:
        return self._chunks()

    async def _chunks(self) -> AsyncIterator[EcgChunk]:
        fs = self.session.fs
        start = self.clock.now()
        ecg = self.session.ecg_mv
        for i in range(0, self.n_samples, self.chunk):
            j = min(i + self.chunk, self.n_samples)
            if self.speed is not None:
                await self.clock.sleep_until(start + (j / fs) / self.speed)
            else:
                await asyncio.sleep(0)  # let the publisher and UI run
            self.position_s = j / fs
            yield EcgChunk(np.asarray(ecg[i:j], dtype=np.float32), fs, i / fs, i, time.monotonic())
