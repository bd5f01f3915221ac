"""Stopping asyncio tasks for real.

``task.cancel(); await task`` can hang forever on Python < 3.12: ``asyncio.wait_for``
(used inside aiomqtt's connect and elsewhere) returns the inner result and drops the
cancellation when both arrive in the same loop iteration (CPython gh-86296). The task
then carries on, e.g. into an endless receive loop, and the awaiting shutdown never
returns. ``cancel_and_wait`` cancels again until each task has really stopped, within a
bounded time, and says which did not.
"""
from __future__ import annotations

import asyncio
import logging
import time
from typing import Iterable, Optional, Set

__all__ = ["cancel_and_wait"]

log = logging.getLogger(__name__)


async def cancel_and_wait(tasks: Iterable[Optional[asyncio.Future]], timeout_s: float = 10.0, *,
                          retry_s: float = 0.25, errors: str = "raise") -> Set[asyncio.Future]:
    """Cancel ``tasks`` (None entries are ignored) and wait until all are done, re-cancelling
    every ``retry_s`` those that swallowed the cancellation. Returns the tasks still running
    after ``timeout_s`` (logged; normally empty). ``errors`` says what happens to an exception
    a task ended with (other than the cancellation): "raise" the first one once all have
    stopped, "log" them, or "seen" when the caller has already retrieved and handled them."""
    if errors not in ("raise", "log", "seen"):
        raise ValueError(f"errors={errors!r}; expected 'raise', 'log' or 'seen'")
    given = [t for t in tasks if t is not None]  # once: ``tasks`` may be a one-shot iterator
    pending = {t for t in given if not t.done()}
    done = {t for t in given if t.done()}
    deadline = time.monotonic() + timeout_s
    while pending:
        for task in pending:
            task.cancel()
        left = deadline - time.monotonic()
        if left <= 0:
            break
        finished, pending = await asyncio.wait(pending, timeout=min(retry_s, left))
        done |= finished
    for task in pending:
        log.warning("task %r did not stop within %.1f s of being cancelled; abandoned", task, timeout_s)
    first_error = None
    for task in done:
        err = None if task.cancelled() else task.exception()  # retrieving it also marks it seen
        if err is None or errors == "seen":
            continue
        if errors == "raise" and first_error is None:
            first_error = err
        else:
            log.warning("task %r ended with %r", task, err)
    if first_error is not None:
        raise first_error
    return pending
