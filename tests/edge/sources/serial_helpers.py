"""Shared pieces of the serial source tests: collect items, check them against the
simulator's deterministic signal (which proves gap sizes are exact)."""

from __future__ import annotations

import asyncio
import time

import numpy as np
from cardiotune.edge.sources.base import EcgChunk, Gap


class Collector:
    """Consumes a source in a task; lets the test wait for conditions."""

    def __init__(self, src):
        self.src = src
        self.items = []
        self.changed = asyncio.Event()
        self.task = None

    async def __aenter__(self):
        self.task = asyncio.get_running_loop().create_task(self._run(), name="collector")
        return self

    async def __aexit__(self, *exc):
        self.task.cancel()
        try:
            await self.task
        except asyncio.CancelledError:
            pass

    async def _run(self):
        async for it in self.src:
            self.items.append((time.monotonic(), it))
            self.changed.set()

    async def wait_for(self, pred, timeout=5.0, what="condition"):
        deadline = time.monotonic() + timeout
        while not pred():
            self.changed.clear()
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"timed out after {timeout} s waiting for {what}")
            try:
                await asyncio.wait_for(self.changed.wait(), min(left, 0.05))
            except asyncio.TimeoutError:
                pass

    def chunks(self):
        return [it for _, it in self.items if isinstance(it, EcgChunk)]

    def gaps(self):
        return [it for _, it in self.items if isinstance(it, Gap)]


def assert_contiguous_and_exact(items, counts, scale_uv, offset):
    """Chunks and gaps tile the index line with no overlap; every delivered sample equals
    the device's sample at that index (so every gap had exactly the right size)."""
    pos = None
    for it in items:
        if isinstance(it, EcgChunk):
            if pos is not None:
                assert it.first_index == pos, (it.first_index, pos)
            pos = it.first_index + len(it.samples)
        elif pos is not None:
            pos += it.n_missing
    chunks = [it for it in items if isinstance(it, EcgChunk)]
    expected_mv = ((counts.astype(np.float64) - offset) * scale_uv / 1000.0).astype(np.float32)
    first = chunks[0]
    # where the first chunk sits in the device's signal
    n = len(expected_mv)
    cands = [
        k
        for k in range(n)
        if np.array_equal(expected_mv[(k + np.arange(len(first.samples))) % n], first.samples)
    ]
    assert len(cands) == 1, f"first chunk found at {len(cands)} places in the device signal"
    base = cands[0] - first.first_index
    for c in chunks:
        want = expected_mv[(base + c.first_index + np.arange(len(c.samples))) % n]
        if not c.lead_off:
            np.testing.assert_array_equal(c.samples, want)
