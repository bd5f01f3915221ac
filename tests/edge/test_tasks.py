"""cancel_and_wait: tasks that swallow a cancellation (what asyncio.wait_for does on Python < 3.12
when its inner future completes in the same loop iteration) are still stopped, within bounds."""
import asyncio
import logging

import pytest
from cardiotune.edge.tasks import cancel_and_wait


async def _swallows_one_cancel(log):
    try:
        await asyncio.sleep(100)
    except asyncio.CancelledError:
        log.append("swallowed")  # like wait_for returning the inner result instead of raising
    await asyncio.sleep(100)  # ... and carrying on into an endless loop


def test_a_task_that_swallowed_the_cancel_is_cancelled_again():
    async def go():
        log = []
        task = asyncio.ensure_future(_swallows_one_cancel(log))
        await asyncio.sleep(0)
        still = await cancel_and_wait([task], timeout_s=5, retry_s=0.05)
        return log, task, still

    log, task, still = asyncio.run(asyncio.wait_for(go(), 10))
    assert log == ["swallowed"] and task.cancelled() and not still


def test_a_task_that_never_stops_is_abandoned_after_the_timeout_and_named(caplog):
    async def go():
        release = asyncio.Event()

        async def stubborn():
            while not release.is_set():
                try:
                    await asyncio.sleep(0.01)
                except asyncio.CancelledError:
                    pass

        task = asyncio.ensure_future(stubborn())
        await asyncio.sleep(0)
        still = await cancel_and_wait([task, None], timeout_s=0.3, retry_s=0.05)
        running = not task.done()
        release.set()  # let it end so the loop closes cleanly
        await task
        return still == {task}, running

    caplog.set_level(logging.WARNING)
    abandoned, running = asyncio.run(asyncio.wait_for(go(), 10))
    assert abandoned and running
    assert "did not stop within 0.3 s" in caplog.text


def test_errors_are_raised_logged_or_left_to_the_caller(caplog):
    async def boom():
        raise RuntimeError("sensor gone")

    async def go(errors):
        task = asyncio.ensure_future(boom())
        await asyncio.sleep(0)
        return await cancel_and_wait([task], errors=errors)

    with pytest.raises(RuntimeError, match="sensor gone"):
        asyncio.run(go("raise"))
    caplog.set_level(logging.WARNING)
    assert asyncio.run(go("log")) == set() and "sensor gone" in caplog.text
    caplog.clear()
    assert asyncio.run(go("seen")) == set() and "sensor gone" not in caplog.text
    with pytest.raises(ValueError, match="errors='ignore'; expected"):
        asyncio.run(cancel_and_wait([], errors="ignore"))
