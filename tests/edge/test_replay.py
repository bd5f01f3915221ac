import asyncio

import numpy as np
import pytest
from cardiotune.edge.session import RecordedSession, load_session, save_session
from cardiotune.edge.sources import replay
from cardiotune.edge.sources.replay import ReplaySource
from cardiotune.edge.timebase import FakeClock

from cardiotune.errors import DataError


class RecordingClock(FakeClock):
    def __init__(self):
        super().__init__(100.0)
        self.deadlines = []

    async def sleep_until(self, deadline):
        self.deadlines.append(deadline)
        await super().sleep_until(deadline)


def collect(src):
    async def go():
        return [c async for c in src]
    return asyncio.run(go())


def test_chunks_are_contiguous_and_paced_against_deadlines():
    sess = RecordedSession(np.arange(1000, dtype=np.float32), 250.0)
    clock = RecordingClock()
    chunks = collect(ReplaySource(sess, speed=2.0, chunk_s=0.04, clock=clock))
    assert [c.first_index for c in chunks] == list(range(0, 1000, 10))
    assert np.array_equal(np.concatenate([c.samples for c in chunks]), sess.ecg_mv)
    # deadline of chunk k = start + (end of chunk k in s) / speed, not accumulated sleeps
    assert clock.deadlines == pytest.approx([100.0 + (k + 1) * 10 / 250.0 / 2.0 for k in range(100)])


def test_max_speed_replay_still_lets_other_tasks_run():
    """speed=None hands the loop over every MAX_SPEED_YIELD_S, not per chunk: a consumer that
    never awaits (each chunk costs it 1 ms of busy work) must not starve the other tasks."""
    import time

    sess = RecordedSession(np.zeros(500, np.float32), 250.0)

    async def go():
        ticks = []

        async def ticker():
            while True:
                ticks.append(time.monotonic())
                await asyncio.sleep(0)

        task = asyncio.ensure_future(ticker())
        await asyncio.sleep(0)
        n_before, seen = len(ticks), 0
        async for _ in ReplaySource(sess, speed=None, chunk_s=0.04):
            seen += 1
            end = time.monotonic() + 0.001
            while time.monotonic() < end:
                pass
        task.cancel()
        return seen, len(ticks) - n_before

    seen, ticks = asyncio.run(go())
    assert seen == 50
    assert ticks >= 50 * 0.001 / replay.MAX_SPEED_YIELD_S / 2, ticks  # ~every 2 ms of the 50 ms


def test_duration_limits_the_replay_and_bad_arguments_are_named():
    sess = RecordedSession(np.zeros(2500, np.float32), 250.0)
    chunks = collect(ReplaySource(sess, speed=None, duration_s=1.0))
    assert sum(len(c.samples) for c in chunks) == 250
    with pytest.raises(ValueError, match="speed=0"):
        ReplaySource(sess, speed=0)


def test_session_roundtrip_and_errors(tmp_path):
    sess = load_session("builtin:demo")
    assert sess.fs == 250.0 and sess.duration_s == 720.0 and sess.has_truth
    assert list(sess.phase_names) == ["rest", "stress", "recovery"]
    path = tmp_path / "s.npz"
    save_session(path, sess)
    again = load_session(path)
    assert np.allclose(again.ecg_mv, sess.ecg_mv, atol=1e-6)
    with pytest.raises(DataError, match="does not exist"):
        load_session(tmp_path / "missing.npz")
    np.savez(tmp_path / "bad.npz", x=np.zeros(3))
    with pytest.raises(DataError, match="'ecg_uv'"):
        load_session(tmp_path / "bad.npz")
