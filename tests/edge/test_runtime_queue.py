"""run_chain's source queue: 'block' loses nothing, 'drop-oldest' drops (and counts) the oldest."""

import asyncio

import numpy as np
import pytest
from cardiotune.edge.runtime import run_chain
from cardiotune.edge.sources.base import EcgChunk, Gap
from item_source import ItemSource


class SeenPipeline:
    def __init__(self):
        self.seen = []

    def push(self, chunk):
        self.seen.append(chunk.first_index)
        return []


def _chunks(n):
    return [EcgChunk(np.zeros(10, np.float32), 250.0, i * 0.04, i * 10, 0.0) for i in range(n)]


@pytest.mark.parametrize(
    "overflow, expect_seen, expect_dropped",
    [
        ("block", list(range(0, 100, 10)), 0),
        # the source never awaits: all ten arrive before the pipeline runs, a queue of 2 keeps the last two
        ("drop-oldest", [80, 90], 8),
    ],
)
def test_queue_overflow_policies(overflow, expect_seen, expect_dropped):
    pipe = SeenPipeline()
    items = _chunks(10)
    stats = asyncio.run(run_chain(ItemSource(items), pipe, None, "t", queue_size=2, overflow=overflow))
    assert pipe.seen == expect_seen
    assert stats.dropped_chunks == expect_dropped
    assert stats.chunks == len(expect_seen)


def test_items_of_every_kind_and_unknown_items():
    pipe = SeenPipeline()
    items = [*_chunks(2), Gap(0.08, 0.12, 10, "test gap"), *_chunks(1)]
    stats = asyncio.run(run_chain(ItemSource(items), pipe, None, "t"))
    assert (stats.chunks, stats.gaps, pipe.seen) == (3, 1, [0, 10, 0])
    with pytest.raises(TypeError, match="source yielded str"):
        asyncio.run(run_chain(ItemSource(["bad"]), pipe, None, "t"))
