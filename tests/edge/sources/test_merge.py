"""Merging a primary (ECG) source with a secondary (microphone-like) one."""
import asyncio

import numpy as np
import pytest
from cardiotune.edge.session import RecordedSession
from cardiotune.edge.sources.base import AudioChunk, EcgChunk
from cardiotune.edge.sources.merge import MergedSource
from cardiotune.edge.sources.replay import ReplaySource


class Endless:
    """A secondary source with no natural end, like a microphone."""

    def __init__(self, fail_after=None):
        self.fail_after, self.exited = fail_after, False

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        self.exited = True

    def __aiter__(self):
        return self._gen()

    async def _gen(self):
        k = 0
        while True:
            if self.fail_after is not None and k == self.fail_after:
                raise OSError("input device vanished")
            yield AudioChunk(np.zeros(160, np.float32), 16000.0, k * 0.01, k * 160, 0.0)
            k += 1
            await asyncio.sleep(0.001)


def ecg_source():
    return ReplaySource(RecordedSession(ecg_mv=np.zeros(2500, np.float32), fs=250.0), speed=20.0, chunk_s=0.1)


def test_ends_with_the_primary_and_closes_every_source():
    mic = Endless()

    async def go():
        async with MergedSource(ecg_source(), mic) as src:
            return [x async for x in src]

    items = asyncio.run(go())
    ecg = [x for x in items if isinstance(x, EcgChunk)]
    assert len(ecg) == 100 and any(isinstance(x, AudioChunk) for x in items)
    assert mic.exited


def test_an_error_in_a_secondary_source_reaches_the_consumer():
    async def go():
        async with MergedSource(ecg_source(), Endless(fail_after=3)) as src:
            return [x async for x in src]

    with pytest.raises(OSError, match="vanished"):
        asyncio.run(go())
