"""The async runtime: a source feeds the pure pipeline; events become MQTT messages.

One bounded queue sits between the source and the pipeline. Its overflow policy
depends on the source: a replay applies back-pressure (``block``: nothing is lost, the
replay simply waits), a live sensor drops the oldest chunk (``drop-oldest``, counted) so
processing never falls behind real time.

When the pipeline is behind (items waiting in the queue: a replay as fast as possible,
or a live run catching up after a stall), the waiting run of contiguous ECG chunks -
until it holds ``coalesce_s`` of signal - goes through the pipeline as one push. The front-end
gives the same beats whatever the chunking, so the events are the same; per-push
overhead is paid once. A chunk of another kind, a gap, a lead-off change or a time
step ends the run (the order of ECG, RR and audio data is kept).
"""
from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Callable, List, Optional

import numpy as np

from .ecg.frontend import EcgFrontEnd
from .mqtt.messages import pick_payload, state_payload
from .mqtt.publisher import MqttPublisher, Outgoing
from .pipeline import PickEvent, Pipeline, StateEvent
from .sources.base import AudioChunk, EcgChunk, Gap, RrChunk
from .tasks import cancel_and_wait
from .timebase import wall_time

__all__ = ["RuntimeStats", "run_chain", "OVERFLOW_POLICIES"]

log = logging.getLogger(__name__)
OVERFLOW_POLICIES = ("block", "drop-oldest")
_END = object()


@dataclass
class RuntimeStats:
    chunks: int = 0
    samples: int = 0
    states: int = 0
    picks: int = 0
    dropped_chunks: int = 0
    gaps: int = 0
    audio_chunks: int = 0
    rr_chunks: int = 0
    rr_intervals: int = 0
    voice_estimates: int = 0
    state_log: List[StateEvent] = field(default_factory=list)
    pick_log: List[PickEvent] = field(default_factory=list)


def _follows(prev: EcgChunk, nxt) -> bool:
    """``nxt`` continues ``prev`` exactly as the front-end would take it (no gap marker, same
    rate and lead-off state)."""
    return (type(nxt) is EcgChunk and nxt.fs == prev.fs and nxt.lead_off == prev.lead_off
            and nxt.first_index == prev.first_index + len(prev.samples)
            and abs(nxt.t_first - (prev.t_first + len(prev.samples) / prev.fs))
            <= EcgFrontEnd.JITTER_SAMPLES / prev.fs)


def _take_run(first: EcgChunk, queue: asyncio.Queue, max_samples: int):
    """``first`` plus the contiguous ECG chunks waiting right behind it, until the run holds
    ``max_samples``: (parts, the item that ended the run or None)."""
    parts, n, prev = [first], len(first.samples), first
    while n < max_samples and queue.qsize():
        nxt = queue.get_nowait()
        if not _follows(prev, nxt):
            return parts, nxt
        parts.append(nxt)
        n += len(nxt.samples)
        prev = nxt
    return parts, None


def _joined(parts) -> EcgChunk:
    """One chunk of ``parts``; ``received`` of the oldest, so latencies are counted from it."""
    a = parts[0]
    return EcgChunk(np.concatenate([p.samples for p in parts]), a.fs, a.t_first, a.first_index, a.received,
                    a.lead_off)


async def run_chain(source, pipeline: Pipeline, publisher: Optional[MqttPublisher], device_id: str, *,
                    state_ttl_s: float = 5.0, queue_size: int = 64, overflow: str = "block",
                    on_event: Optional[Callable[[object], None]] = None, keep_log: bool = True,
                    recorder=None, metrics=None, record_audio: bool = False,
                    coalesce_s: float = 1.0) -> RuntimeStats:
    """Run ``source`` through ``pipeline`` until the source ends; publish on ``publisher``.

    ``coalesce_s``: most ECG pushed at once when behind (module doc); 0 = one push per chunk."""
    if overflow not in OVERFLOW_POLICIES:
        raise ValueError(f"overflow={overflow!r}: expected one of {OVERFLOW_POLICIES}")
    stats = RuntimeStats()
    queue: asyncio.Queue = asyncio.Queue(maxsize=queue_size)
    seq = {"state": 0, "pick": 0}
    if metrics is not None:  # edge/metrics.py RuntimeMetrics: read at each metrics snapshot
        metrics.gauge("source_queue", queue.qsize)
        metrics.counter("source_dropped_chunks", lambda: stats.dropped_chunks)
        metrics.counter("source_gaps", lambda: stats.gaps)

    async def produce() -> None:
        async with source:
            async for item in source:
                if queue.full():
                    if overflow == "drop-oldest":
                        queue.get_nowait()
                        stats.dropped_chunks += 1
                    else:
                        await queue.put(item)  # back-pressure: wait for room
                        continue
                queue.put_nowait(item)  # room: no coroutine per chunk
        await queue.put(_END)

    def publish(event) -> None:
        if publisher is None and recorder is None:
            return
        if isinstance(event, StateEvent):
            kind, t = "state", event.window.t_end
            payload = state_payload(device_id, seq[kind], wall_time(), state_ttl_s, event.va, event.window,
                                    event.calibrated)
            payload["status"] = event.status
            payload.update(event.payload_extra())
            qos, retain = 0, False
        else:
            kind, t = "pick", event.pick.t
            payload = pick_payload(device_id, seq[kind], wall_time(), event.pick, event.window.t_start)
            payload["reason"].update(event.payload_extra())
            qos, retain = 1, True
        seq[kind] += 1
        if recorder is not None:
            recorder.on_message(kind, t, payload)
        if publisher is not None:
            topic = publisher.topics.state if kind == "state" else publisher.topics.pick
            publisher.offer(Outgoing(topic, payload, qos=qos, retain=retain, received=event.received))

    async def serve_commands() -> None:
        from .commands import CommandHandler

        handler = CommandHandler(device_id, pipeline.recommender)
        while True:
            raw = await publisher.inbox.get()
            ack = handler.handle(raw, wall_time())
            log.info("command %s: %s (%s)", ack["id"], ack["result"], ack["reason"])
            publisher.offer(Outgoing(publisher.topics.ack, ack, qos=1, retain=False))

    async def serve_player_events() -> None:
        from .player_feedback import PlayerEventHandler

        handler = PlayerEventHandler(pipeline.recommender)
        while True:
            handler.handle(await publisher.events.get())

    producer = asyncio.ensure_future(produce())
    commands = asyncio.ensure_future(serve_commands()) if publisher is not None else None
    player_events = asyncio.ensure_future(serve_player_events()) if publisher is not None else None
    held = None  # the item that ended a coalesced run: next in line
    try:
        while True:
            if held is not None:
                item, held = held, None
            else:
                item = queue.get_nowait() if queue.qsize() else await queue.get()
            if item is _END:
                break
            if isinstance(item, EcgChunk):  # the common item first
                if coalesce_s > 0 and queue.qsize():  # behind: the waiting contiguous run in one push
                    parts, held = _take_run(item, queue, int(coalesce_s * item.fs))
                else:
                    parts = (item,)
                stats.chunks += len(parts)
                for part in parts:
                    stats.samples += len(part.samples)
                    if recorder is not None:
                        recorder.on_chunk(part)
                if len(parts) > 1:
                    item = _joined(parts)
                t_push = time.monotonic()
                events = pipeline.push(item)
            elif isinstance(item, Gap):
                stats.gaps += 1
                log.warning("data gap %.3f-%.3f s (%d samples): %s", item.t_start, item.t_end, item.n_missing,
                            item.reason)
                continue
            elif isinstance(item, AudioChunk):
                # raw audio stops here: only the voice estimates derived from it go on
                stats.audio_chunks += 1
                stats.voice_estimates += len(pipeline.push_audio(item))
                if recorder is not None and record_audio:
                    recorder.on_audio(item)
                continue
            elif isinstance(item, RrChunk):
                # RR intervals from a chest strap: the pipeline's RR path (same windows and model)
                stats.rr_chunks += 1
                stats.rr_intervals += len(item.rr_s)
                if recorder is not None:
                    recorder.on_rr(item)
                t_push = time.monotonic()
                events = pipeline.push_rr(item)
            else:
                raise TypeError(f"source yielded {type(item).__name__}; expected EcgChunk, RrChunk, AudioChunk or Gap")
            if metrics is not None:
                metrics.observe("queue_wait", t_push - item.received)
                metrics.observe("pipeline", time.monotonic() - t_push)
            for event in events:
                if isinstance(event, StateEvent):
                    stats.states += 1
                    if keep_log:
                        stats.state_log.append(event)
                else:
                    stats.picks += 1
                    if keep_log:
                        stats.pick_log.append(event)
                publish(event)
                if on_event is not None:
                    on_event(event)
            if publisher is not None and overflow == "block":
                # back-pressure for replays: never let the outgoing queue overflow while connected
                while publisher.connected.is_set() and publisher.backlog > publisher.queue_size // 2:
                    await asyncio.sleep(0.001)
        await producer
    finally:
        await cancel_and_wait([producer, commands, player_events])
    return stats
