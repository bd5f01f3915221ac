"""Several live sources as one (e.g. an ECG strap and the microphone), in arrival order.

Each source runs in its own named task feeding one bounded queue; the merged source ends
when the *first* source listed (the primary, the ECG) ends - a secondary source such as
the microphone has no natural end. An error in any source ends the merge and is raised
to the consumer, never swallowed.
"""
from __future__ import annotations

import asyncio
import contextlib
from typing import AsyncIterator, List

from ..tasks import cancel_and_wait

__all__ = ["MergedSource"]

_DONE = object()


class MergedSource:
    def __init__(self, *sources, queue_size: int = 256):
        if not sources:
            raise ValueError("MergedSource needs at least one source")
        self.sources = list(sources)
        self._queue: asyncio.Queue = asyncio.Queue(maxsize=queue_size)
        self._stack = contextlib.AsyncExitStack()
        self._tasks: List[asyncio.Task] = []

    async def __aenter__(self) -> MergedSource:
        await self._stack.__aenter__()
        for src in self.sources:
            await self._stack.enter_async_context(src)
        return self

    async def __aexit__(self, *exc) -> None:
        await cancel_and_wait(self._tasks, errors="log")
        await self._stack.__aexit__(*exc)

    async def _pump(self, index: int, src) -> None:
        try:
            async for item in src:
                await self._queue.put(item)
        except Exception as exc:  # noqa: BLE001 - handed to the consumer, which raises it
            await self._queue.put((_DONE, index, exc))
            return
        await self._queue.put((_DONE, index, None))

    def __aiter__(self) -> AsyncIterator[object]:
        return self._items()

    async def _items(self) -> AsyncIterator[object]:
        for i, src in enumerate(self.sources):
            task = asyncio.ensure_future(self._pump(i, src))
            if hasattr(task, "set_name"):
                task.set_name(f"merged-source-{i}-{type(src).__name__}")
            self._tasks.append(task)
        while True:
            item = await self._queue.get()
            if isinstance(item, tuple) and len(item) == 3 and item[0] is _DONE:
                _, index, exc = item
                if exc is not None:
                    raise exc
                if index == 0:
                    return
                continue
            yield item
