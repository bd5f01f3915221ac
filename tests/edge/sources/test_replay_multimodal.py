"""Replay of ECG + audio on one clock, paced against deadlines of an injected clock."""
import asyncio

import numpy as np
import pytest
from cardiotune.edge.session import RecordedSession
from cardiotune.edge.sources.base import AudioChunk, EcgChunk
from cardiotune.edge.sources.replay import ReplaySource
from cardiotune.edge.timebase import FakeClock


class RecordingClock(FakeClock):
    def __init__(self):
        super().__init__(1000.0)
        self.deadlines = []

    async def sleep_until(self, deadline):
        self.deadlines.append(deadline)
        await super().sleep_until(deadline)


def session():
    fs = 250.0
    s = RecordedSession(ecg_mv=np.arange(int(fs * 4), dtype=np.float32), fs=fs)
    s.audio = np.arange(16000 * 3, dtype=np.float64) / 1e5
    s.audio_t0 = 0.5  # the microphone started half a second after the ECG
    s.lead_off = np.zeros(s.ecg_mv.size, dtype=bool)
    s.lead_off[500:600] = True
    return s


def collect(speed, clock=None):
    async def go():
        out = []
        async with ReplaySource(session(), speed=speed, chunk_s=0.1, clock=clock) as src:
            async for item in src:
                out.append(item)
        return out

    return asyncio.run(go())


def end(item):
    return item.t_first + len(item.samples) / item.fs


def test_chunks_interleave_by_end_time_with_true_offsets_and_lead_off():
    items = collect(None)
    ecg = [i for i in items if isinstance(i, EcgChunk)]
    audio = [i for i in items if isinstance(i, AudioChunk)]
    assert len(ecg) == 40 and len(audio) == 30
    ends = [end(i) for i in items]
    assert ends == sorted(ends)
    assert audio[0].t_first == pytest.approx(0.5) and end(audio[-1]) == pytest.approx(3.5)
    np.testing.assert_array_equal(np.concatenate([c.samples for c in ecg]), session().ecg_mv)
    np.testing.assert_array_equal(np.concatenate([c.samples for c in audio]), session().audio)
    assert [c.lead_off for c in ecg].count(True) == 4  # samples 500-599: four chunks of 25
    assert all(c.lead_off == (500 <= c.first_index < 600) for c in ecg)


@pytest.mark.parametrize("speed", [1.0, 10.0])
def test_deadlines_are_start_plus_data_end_over_speed(speed):
    clock = RecordingClock()
    items = collect(speed, clock)
    assert len(clock.deadlines) == len(items)
    for d, item in zip(clock.deadlines, items):
        assert d == pytest.approx(1000.0 + end(item) / speed)


def test_output_is_identical_at_any_speed():
    a, b = collect(None), collect(10.0, RecordingClock())
    assert [(type(x).__name__, x.t_first, len(x.samples)) for x in a] == [
        (type(x).__name__, x.t_first, len(x.samples)) for x in b]


def test_audio_can_be_left_out():
    async def go():
        async with ReplaySource(session(), speed=None, chunk_s=0.1, audio=False) as src:
            return [i async for i in src]

    assert all(isinstance(i, EcgChunk) for i in asyncio.run(go()))
