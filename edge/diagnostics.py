"""Where is a running process waiting? ``kill -USR1 <pid>`` logs the stack of every asyncio
task (thread stacks alone show only the event loop's select, not the await that is stuck)."""
from __future__ import annotations

import asyncio
import io
import logging
import signal

__all__ = ["install_task_dump", "dump_tasks"]

log = logging.getLogger(__name__)


def dump_tasks(loop: asyncio.AbstractEventLoop) -> str:
    parts = []
    for task in asyncio.all_tasks(loop):
        buf = io.StringIO()
        task.print_stack(file=buf)
        parts.append(f"{task!r}\n{buf.getvalue()}")
    text = "\n".join(parts)
    log.warning("asyncio tasks (%d), on request (SIGUSR1):\n%s", len(parts), text)
    return text


def install_task_dump(loop: asyncio.AbstractEventLoop) -> bool:
    """SIGUSR1 -> :func:`dump_tasks`. False where the platform has no such signal (Windows)."""
    if not hasattr(signal, "SIGUSR1"):
        return False
    loop.add_signal_handler(signal.SIGUSR1, dump_tasks, loop)
    return True
