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
        self.pushed = []  # (first_index, samples) of every push

    def push(self, chunk):
        self.seen.append(chunk.first_index)
        self.pushed.append((chunk.first_index, chunk.samples.tolist()))
        return []

    def push_audio(self, chunk):
        self.pushed.append(("audio", chunk.first_index))
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
    stats = asyncio.run(run_chain(ItemSource(items), pipe, None, "t", queue_size=2, overflow=overflow,
                                  coalesce_s=0))
    assert pipe.seen == expect_seen
    assert stats.dropped_chunks == expect_dropped
    assert stats.chunks == len(expect_seen)


def test_items_of_every_kind_and_unknown_items():
    pipe = SeenPipeline()
    items = [*_chunks(2), Gap(0.08, 0.12, 10, "test gap"), *_chunks(1)]
    stats = asyncio.run(run_chain(ItemSource(items), pipe, None, "t", coalesce_s=0))
    assert (stats.chunks, stats.gaps, pipe.seen) == (3, 1, [0, 10, 0])
    with pytest.raises(TypeError, match="source yielded str"):
        asyncio.run(run_chain(ItemSource(["bad"]), pipe, None, "t"))


def test_a_backlog_of_contiguous_ecg_goes_through_in_one_push_and_nothing_else_is_merged():
    """Behind (the source never awaits, so everything waits in the queue): contiguous chunks are
    joined until a run holds coalesce_s; a gap, a lead-off change, a time step, another kind of item and the
    size limit each end a run; samples, order and counts are kept."""
    from cardiotune.edge.sources.base import AudioChunk

    def ecg(i, lead_off=False, t=None):
        return EcgChunk(np.full(10, i, np.float32), 250.0, i * 0.04 if t is None else t, i * 10, 0.0, lead_off)

    items = [ecg(0), ecg(1), ecg(2), Gap(0.12, 0.2, 20, "gap"), ecg(5), ecg(6, lead_off=True), ecg(7, lead_off=True),
             ecg(8, t=8 * 0.04 + 0.05), ecg(9, t=9 * 0.04 + 0.05),
             AudioChunk(np.zeros(640, np.float32), 16000.0, 0.4, 0, 0.0), *[ecg(i) for i in range(10, 40)]]
    pipe = SeenPipeline()
    stats = asyncio.run(run_chain(ItemSource(items), pipe, None, "t", queue_size=64, coalesce_s=0.5))
    runs = [p if p[0] == "audio" else (p[0], sorted(set(p[1])), len(p[1])) for p in pipe.pushed]
    assert runs == [(0, [0, 1, 2], 30), (50, [5], 10), (60, [6, 7], 20), (80, [8, 9], 20), ("audio", 0),
                    (100, list(range(10, 23)), 130), (230, list(range(23, 36)), 130), (360, list(range(36, 40)), 40)]
    assert (stats.chunks, stats.samples, stats.gaps, stats.audio_chunks) == (38, 380, 1, 1)
    flat = [v for p in pipe.pushed if p[0] != "audio" for v in p[1]]
    assert flat == [i for it in items if isinstance(it, EcgChunk) for i in it.samples.tolist()]


def test_coalescing_gives_the_same_states_and_picks():
    """The real chain (front-end, HRV, model, smoothing, picks) on 4 minutes of the demo session
    replayed as fast as possible: pushing the backlog at once changes no event."""
    from cardiotune.edge.estimator import OnnxVaEstimator
    from cardiotune.edge.music.catalog import load_demo_catalog
    from cardiotune.edge.pipeline import Pipeline, PipelineConfig
    from cardiotune.edge.sources.files import load_session
    from cardiotune.edge.sources.replay import ReplaySource

    session, tracks = load_session("builtin:demo"), list(load_demo_catalog())

    def run(coalesce_s):
        pipe = Pipeline(session.fs, OnnxVaEstimator(), tracks, PipelineConfig())
        pushes = []
        push = pipe.push
        pipe.push = lambda chunk: pushes.append(len(chunk.samples)) or push(chunk)
        src = ReplaySource(session, speed=None, duration_s=240.0, chunk_s=0.04)
        stats = asyncio.run(run_chain(src, pipe, None, "t", coalesce_s=coalesce_s))
        states = [(e.window.t_end, e.window.hr_bpm, e.window.quality, e.va) for e in stats.state_log]
        picks = [(e.pick.t, e.pick.track.id, e.pick.trigger) for e in stats.pick_log]
        return states, picks, stats.chunks, pushes

    s0, p0, n0, pushes0 = run(0.0)
    s1, p1, n1, pushes1 = run(1.0)
    assert len(s0) > 200 and p0 and n0 == n1 == len(pushes0)
    assert s1 == s0 and p1 == p0
    assert len(pushes1) < len(pushes0) and max(pushes1) > 10  # it did coalesce
