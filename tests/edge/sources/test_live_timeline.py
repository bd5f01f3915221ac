"""The live timeline (edge/sources/live.py): chunk times that step back or wander are put on
a timeline that never goes backwards, so the real ECG front-end accepts them; large clock
jumps become gaps; RR beats are rebased and kept in order. Plus the LiveSource wrapper:
stop, duration, re-entry, errors."""
from __future__ import annotations

import asyncio

import numpy as np
import pytest
from cardiotune.edge.ecg.frontend import EcgFrontEnd
from cardiotune.edge.sources.base import AudioChunk, EcgChunk, Gap, RrChunk
from cardiotune.edge.sources.live import LiveSource, LiveTimeline
from cardiotune.edge.synthetic.ecg import Phase, synthesize_session

from cardiotune.errors import DataError

FS = 250.0
HOST0 = 5000.0  # live chunk times are host monotonic times, far from 0


def _ecg(seconds=30.0, seed=4):
    s = synthesize_session((Phase("p", seconds, 0.0, 0.0),), fs=FS, seed=seed)
    return s.ecg_mv, s.r_peak_times


def _chunks(x, n=10, jitter=None):
    """Chunks of n samples with host times; ``jitter(k)`` seconds added to chunk k's time."""
    out = []
    for k, i in enumerate(range(0, len(x), n)):
        t = HOST0 + i / FS + (jitter(k) if jitter else 0.0)
        out.append(EcgChunk(x[i : i + n], FS, t, i, 0.0))
    return out


def _beats(chunks):
    fe = EcgFrontEnd(FS)
    beats = []
    for c in chunks:
        beats += [b.t for b in fe.push_chunk(c).beats]
    return np.array(beats)


def test_backward_steps_would_stop_the_front_end_and_the_timeline_absorbs_them():
    x, _ = _ecg()
    # a clock re-sync every 50 chunks moves chunk times back by 20 ms (5 samples at 250 Hz)
    raw = _chunks(x, jitter=lambda k: -0.02 * (k // 50))
    with pytest.raises(DataError, match="went backwards"):
        _beats(raw)
    tl = LiveTimeline()
    fixed = [it for c in raw for it in tl.push(c)]
    assert all(isinstance(it, EcgChunk) for it in fixed)
    starts = [c.t_first for c in fixed]
    assert starts[0] == 0.0 and all(b > a for a, b in zip(starts, starts[1:]))
    assert tl.counters.steps_back == (len(raw) - 1) // 50 and tl.counters.max_step_back_s == pytest.approx(0.02)
    # the same beats as a clean, contiguous feed (times rebased to the first sample)
    clean = _beats(_chunks(x)) - HOST0
    np.testing.assert_allclose(_beats(fixed), clean, atol=1e-9)


def test_forward_wander_within_resync_is_absorbed_without_gaps():
    x, _ = _ecg()
    # a device clock 2000 ppm fast: raw, the front-end sees small 'gaps' (each one masks samples)
    drift = _chunks(x, jitter=lambda k: k * 10 / FS * 2e-3)
    fe = EcgFrontEnd(FS)
    assert sum(len(fe.push_chunk(c).gaps) for c in drift) > 0
    # the same drift plus +-8 ms of jitter through the timeline: no gap, no error
    rng = np.random.default_rng(0)
    raw = _chunks(x, jitter=lambda k: k * 10 / FS * 2e-3 + rng.uniform(-0.008, 0.008))
    tl = LiveTimeline(resync_s=0.5)
    fixed = [it for c in raw for it in tl.push(c)]
    fe = EcgFrontEnd(FS)
    assert sum(len(fe.push_chunk(c).gaps) for c in fixed) == 0
    assert tl.counters.resyncs == 0


def test_a_clock_jump_beyond_resync_becomes_a_gap_and_time_follows_the_device():
    x = np.zeros(1000, np.float32)
    raw = _chunks(x, n=100, jitter=lambda k: 2.0 if k >= 5 else 0.0)
    tl = LiveTimeline(resync_s=0.5)
    out = [it for c in raw for it in tl.push(c)]
    gaps = [it for it in out if isinstance(it, Gap)]
    assert len(gaps) == 1 and gaps[0].n_missing == 500 and gaps[0].t_start == pytest.approx(2.0)
    assert "ahead" in gaps[0].reason
    chunks = [it for it in out if isinstance(it, EcgChunk)]
    assert chunks[5].t_first == pytest.approx(4.0) and chunks[5].first_index == 1000
    fe = EcgFrontEnd(FS)
    filled = [g for c in chunks for g in fe.push_chunk(c).gaps]
    assert filled == [(pytest.approx(2.0), pytest.approx(4.0))]
    assert tl.counters.resyncs == 1 and tl.counters.missing_samples == 500


def test_source_gaps_are_placed_by_the_sample_index():
    x = np.zeros(300, np.float32)
    tl = LiveTimeline()
    out = tl.push(EcgChunk(x[:100], FS, HOST0, 7, 0.0))
    out += tl.push(Gap(HOST0 + 0.41, HOST0 + 0.6, 50, "frames lost on the link"))
    # the device time of the next chunk is 30 ms late: the index decides where it goes
    out += tl.push(EcgChunk(x[:100], FS, HOST0 + 150 / FS + 0.03, 157, 0.0))
    assert isinstance(out[1], Gap) and out[1].t_start == pytest.approx(0.4) and out[1].n_missing == 50
    assert out[2].t_first == pytest.approx(0.6) and out[2].first_index == 150
    assert tl.counters.gaps == 1 and tl.counters.missing_samples == 50


def test_overlapping_samples_are_dropped_and_a_gap_before_data_is_not_part_of_the_run():
    tl = LiveTimeline()
    assert tl.push(Gap(1.0, 2.0, 250, "no data")) == []
    x = np.arange(200, dtype=np.float32)
    tl.push(EcgChunk(x[:100], FS, HOST0, 0, 0.0))
    out = tl.push(EcgChunk(x[60:160], FS, HOST0 + 60 / FS, 60, 0.0))
    assert len(out) == 1 and out[0].first_index == 100 and out[0].t_first == pytest.approx(0.4)
    np.testing.assert_array_equal(out[0].samples, x[100:160])
    assert tl.push(EcgChunk(x[:50], FS, HOST0, 0, 0.0)) == []
    assert tl.counters.overlap_samples == 40 + 50


def test_rate_change_and_unknown_items_are_errors_naming_the_values():
    tl = LiveTimeline()
    tl.push(EcgChunk(np.zeros(10, np.float32), FS, HOST0, 0, 0.0))
    # a rate estimated from arrival times (legacy text protocol) wanders: within 2 % it is the same rate
    out = tl.push(EcgChunk(np.zeros(10, np.float32), 251.5, HOST0 + 0.04, 10, 0.0))
    assert out[0].fs == FS and tl.counters.max_rate_dev_hz == pytest.approx(1.5)
    with pytest.raises(DataError, match="from 250 Hz to 500 Hz"):
        tl.push(EcgChunk(np.zeros(10, np.float32), 500.0, HOST0 + 0.08, 20, 0.0))
    with pytest.raises(DataError, match="from 250 Hz to 256 Hz"):
        tl.push(EcgChunk(np.zeros(10, np.float32), 256.0, HOST0 + 0.08, 20, 0.0))
    # estimated rates (legacy text protocol): the nominal rate; the estimate is checked once settled
    est = LiveTimeline(rate_tolerance=0.1, nominal_fs=FS, settle_s=1.0)
    assert est.push(EcgChunk(np.zeros(125, np.float32), 310.0, HOST0, 0, 0.0))[0].fs == FS  # wild at first
    assert est.push(EcgChunk(np.zeros(125, np.float32), 180.0, HOST0 + 0.5, 125, 0.0))[0].fs == FS
    assert est.push(EcgChunk(np.zeros(10, np.float32), 270.0, HOST0 + 1.0, 250, 0.0))[0].fs == FS
    with pytest.raises(DataError, match="from 250 Hz to 200 Hz"):  # settled, and another rate
        est.push(EcgChunk(np.zeros(10, np.float32), 200.0, HOST0 + 1.04, 260, 0.0))
    with pytest.raises(TypeError, match="yielded str"):
        tl.push("x")
    a = AudioChunk(np.zeros(4, np.float32), 16000.0, 1.0, 0, 0.0)
    assert tl.push(a) == [a]
    with pytest.raises(ValueError, match="resync_s=0"):
        LiveTimeline(resync_s=0)
    with pytest.raises(ValueError, match="rate_tolerance=1"):
        LiveTimeline(rate_tolerance=1)
    with pytest.raises(ValueError, match="nominal_fs=0"):
        LiveTimeline(nominal_fs=0)


def test_rr_beats_are_rebased_and_never_go_backwards():
    tl = LiveTimeline()
    out = tl.push(RrChunk(np.array([0.8, 0.8]), np.array([HOST0 + 0.8, HOST0 + 1.6]), 0.0))
    np.testing.assert_allclose(out[0].t_beats, [0.8, 1.6])
    assert tl.origin == pytest.approx(HOST0)
    out = tl.push(RrChunk(np.array([0.8, 0.9, 0.8]), np.array([HOST0 + 1.6, HOST0 + 2.5, HOST0 + 2.4]), 0.0))
    np.testing.assert_allclose(out[0].t_beats, [2.5])
    assert tl.counters.rr_intervals == 3 and tl.counters.rr_dropped == 2
    assert tl.position_s == pytest.approx(2.5)
    with pytest.raises(DataError, match="2 intervals but 1 beat"):
        tl.push(RrChunk(np.array([0.8, 0.8]), np.array([HOST0 + 9.0]), 0.0))


class _Stream:
    """An in-memory live source: yields what the test puts in, ends on ``None``."""

    def __init__(self):
        self.queue: asyncio.Queue = asyncio.Queue()
        self.entered = self.exited = 0

    async def __aenter__(self):
        self.entered += 1
        return self

    async def __aexit__(self, *exc):
        self.exited += 1

    def __aiter__(self):
        return self

    async def __anext__(self):
        item = await self.queue.get()
        if item is None:
            raise StopAsyncIteration
        if isinstance(item, Exception):
            raise item
        return item


def _chunk(k):
    return EcgChunk(np.zeros(10, np.float32), FS, HOST0 + k * 10 / FS, k * 10, 0.0)


def test_live_source_peeks_is_reentrant_and_stops_on_request():
    async def main():
        inner = _Stream()
        live = LiveSource(inner)
        async with live:
            inner.queue.put_nowait(_chunk(0))
            first = await asyncio.wait_for(live.peek(), 5)
            assert first.t_first == 0.0 and live.origin == HOST0
            async with live:  # the runtime enters it again
                got = [await asyncio.wait_for(live.__anext__(), 5)]
                inner.queue.put_nowait(_chunk(1))
                got.append(await asyncio.wait_for(live.__anext__(), 5))
                live.stop("SIGINT")
                with pytest.raises(StopAsyncIteration):
                    await asyncio.wait_for(live.__anext__(), 5)
            assert inner.exited == 0  # only the outermost exit closes the device
        assert (inner.entered, inner.exited) == (1, 1)
        assert [c.t_first for c in got] == [0.0, pytest.approx(0.04)] and live.stop_reason == "SIGINT"

    asyncio.run(main())


def test_live_source_ends_after_duration_even_without_data_and_surfaces_errors():
    async def main():
        live = LiveSource(_Stream(), duration_s=0.2)
        async with live:
            assert await asyncio.wait_for(live.peek(), 5) is None
        assert live.stop_reason == "duration_s = 0.2 reached"

        inner = _Stream()
        async with LiveSource(inner) as live:
            inner.queue.put_nowait(RuntimeError("port exploded"))
            with pytest.raises(RuntimeError, match="port exploded"):
                await asyncio.wait_for(live.__anext__(), 5)

        inner = _Stream()
        async with LiveSource(inner) as live:
            inner.queue.put_nowait(_chunk(0))
            inner.queue.put_nowait(None)
            items = [it async for it in live]
        assert len(items) == 1 and live.stop_reason == "the source ended"

    asyncio.run(main())
