"""The microphone source: 'no input device' is a reported state, and the audio-thread
hand-over is a bounded drop-oldest queue with a counter."""
import asyncio
import threading

import numpy as np
import pytest
from cardiotune.edge.sources.microphone import NO_INPUT_DEVICE, RUNNING, MicrophoneSource, input_device_problem


@pytest.mark.skipif(input_device_problem() is None,
                    reason="this machine has a microphone; the deviceless path needs none")
def test_no_input_device_is_a_reported_state_and_the_source_just_ends():
    async def go():
        async with MicrophoneSource() as mic:
            items = [x async for x in mic]
        return mic, items

    mic, items = asyncio.run(go())
    assert mic.status == NO_INPUT_DEVICE and items == []
    assert "sounddevice unavailable" in mic.reason or "no usable input device" in mic.reason


def test_callback_blocks_from_another_thread_queue_drop_oldest_and_count():
    async def go():
        mic = MicrophoneSource(queue_size=3, block_s=0.01, clock=lambda: 100.0)
        mic._loop = asyncio.get_event_loop()
        mic._queue = asyncio.Queue(maxsize=mic.queue_size)
        mic.status = RUNNING
        blocks = [np.full((160, 1), k, dtype=np.float32) for k in range(5)]

        def audio_thread():  # what PortAudio does: call back from its own thread
            for b in blocks:
                mic._callback(b, 160, None, None)

        th = threading.Thread(target=audio_thread)
        th.start()
        th.join()
        await asyncio.sleep(0.05)  # let call_soon_threadsafe deliver
        mic.close_input()
        return mic, [c async for c in mic]

    mic, chunks = asyncio.run(go())
    # 5 blocks into a queue of 3: the two oldest are gone, counted
    assert mic.dropped == 2
    assert [float(c.samples[0]) for c in chunks] == [2.0, 3.0, 4.0]
    assert [c.first_index for c in chunks] == [320, 480, 640]  # the sample count keeps the gap visible
    assert chunks[0].fs == 16000.0 and chunks[0].samples.dtype == np.float32
    assert chunks[1].t_first - chunks[0].t_first == pytest.approx(0.01)


def test_bad_settings_are_named():
    with pytest.raises(ValueError, match="queue_size=0"):
        MicrophoneSource(queue_size=0)


def test_with_an_origin_blocks_are_on_the_session_clock_and_early_ones_dropped():
    origin = {"t": None}

    async def go():
        mic = MicrophoneSource(queue_size=10, block_s=0.01, clock=lambda: 130.0, origin=lambda: origin["t"])
        mic._loop = asyncio.get_event_loop()
        mic._queue = asyncio.Queue(maxsize=mic.queue_size)
        mic.status = RUNNING
        mic._deliver(np.zeros(160, np.float32), 129.99)  # before the replay started: no session time yet
        origin["t"] = 100.0
        mic._deliver(np.zeros(160, np.float32), 130.0)
        mic.close_input()
        return mic, [c async for c in mic]

    mic, chunks = asyncio.run(go())
    assert mic.before_origin == 1 and len(chunks) == 1
    assert chunks[0].t_first == pytest.approx(30.0 - 0.01) and chunks[0].first_index == 0
