"""The player's MQTT side: subscribe to a device's pick topic, decide, play, report.

:class:`PickPlayer` is an async context manager that owns one task: connect, subscribe to
``cardiotune/v1/<device>/pick`` (QoS 1; the retained pick arrives first), and hand every
message to :class:`~cardiotune.edge.player.PickFilter`. When the broker is unreachable or
drops the connection it reconnects with capped exponential backoff and jitter, logging
one warning per outage (no stack trace) and one line when the broker is back.

Session: persistent (MQTT 3.1.1 ``clean_session=False``) under a client id that is fixed for
the player's lifetime - or across restarts with ``client_id`` - so QoS 1 picks published
while the player is briefly disconnected are queued by the broker and delivered on return.
TLS material and credentials come from ``settings`` (:class:`~.mqtt.connection.MqttSettings`).

Player events (``player_events``) go to ``cardiotune/v1/<device>/player/event`` (QoS 1).
The output reports started / ended / error from its own thread or task; this class adds
``skipped`` (a new pick replaced one still playing), ``position`` every
``position_every_s`` and ``ended`` with reason ``ttl-expired`` (a pick still playing after
its time-to-live is stopped). Outgoing events wait in a bounded deque (``max_events``,
drop-oldest, counted in ``counts["events_dropped"]``) while the broker is away and are sent
in order when it is back.

Incoming queue: aiomqtt's, bounded at ``max_queued`` messages (overflow policy: aiomqtt
drops the newest message and logs it). Handling is fast (no blocking I/O in the loop
except reading a WAV), so it only fills if the publisher floods the topic.
"""
from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections import deque
from dataclasses import replace
from typing import Any, Callable, Deque, Dict, List, Optional

from ..errors import CardiotuneError
from .mqtt.connection import MqttSettings, client_kwargs, open_client
from .mqtt.topics import DeviceTopics
from .mqtt.url import parse_broker_url
from .player import Backoff, Decision, Pick, PickFilter
from .player_events import EVENT_KINDS, make_event
from .tasks import cancel_and_wait

__all__ = ["PickPlayer"]

SHUTDOWN_TIMEOUT_S = 5.0

log = logging.getLogger(__name__)


class PickPlayer:
    """Subscribe to ``device_id``'s picks on ``broker_url`` and play them on ``output``.

    ``on_decision(decision)`` is called for every message (play, stale, duplicate, invalid)
    after it was acted on; ``clock`` gives UNIX seconds (injectable for tests).
    """

    def __init__(self, broker_url: str, device_id: str, output: Any, *,
                 on_decision: Optional[Callable[[Decision], None]] = None,
                 clock: Callable[[], float] = time.time,
                 backoff: Optional[Backoff] = None,
                 max_queued: int = 64,
                 settings: Optional[MqttSettings] = None,
                 client_id: Optional[str] = None,
                 position_every_s: float = 5.0,
                 max_events: int = 256,
                 on_event: Optional[Callable[[Dict[str, Any]], None]] = None):
        self.host, self.port, self.tls = parse_broker_url(broker_url)
        base = settings if settings is not None else MqttSettings(protocol="3.1.1", session_expiry_s=600)
        self.settings = replace(base, host=self.host, port=self.port, tls=self.tls or base.tls)
        self.broker_url = broker_url
        self.topics = DeviceTopics(device_id)
        self.output = output
        self.filter = PickFilter(device_id)
        self.on_decision = on_decision
        self.clock = clock
        self.backoff = backoff or Backoff()
        self.max_queued = max_queued
        self.identifier = client_id or f"cardiotune-player-{device_id}-{uuid.uuid4().hex[:8]}"
        self.connected: Optional[asyncio.Event] = None  # made on enter (Python 3.8 loop binding)
        self.counts: Dict[str, int] = {"play": 0, "stale": 0, "duplicate": 0, "invalid": 0,
                                       "play_failed": 0, "connects": 0, "events_dropped": 0}
        self.counts.update({f"event_{k}": 0 for k in EVENT_KINDS})
        if position_every_s <= 0:
            raise ValueError(f"position_every_s={position_every_s}: expected > 0")
        self.position_every_s = position_every_s
        self.on_event = on_event
        self.backend = getattr(output, "name", "unknown")
        self._events: Deque[Dict[str, Any]] = deque()
        self._max_events = max_events
        self._event_seq = 0
        self._has_events: Optional[asyncio.Event] = None
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._task: Optional[asyncio.Task] = None
        self._tasks: List[asyncio.Task] = []

    async def __aenter__(self) -> PickPlayer:
        self.connected = asyncio.Event()
        self._has_events = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        if hasattr(self.output, "bind"):
            self.output.bind(self.emit_threadsafe)
        if hasattr(self.output, "run"):  # outputs with their own I/O (MPD) run as our task
            self._tasks.append(asyncio.ensure_future(self.output.run()))
        self._tasks.append(asyncio.ensure_future(self._ticker()))
        self._task = asyncio.ensure_future(self._run())
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        # re-cancelled until stopped, bounded: see edge.tasks (a swallowed cancel hung this once)
        await cancel_and_wait([self._task] + self._tasks, SHUTDOWN_TIMEOUT_S, errors="log")
        self._task, self._tasks = None, []

    # ---- player events -------------------------------------------------------------
    def emit_threadsafe(self, kind: str, pick: Optional[Pick], position_s: Optional[float] = None,
                        reason: str = "", error: Optional[str] = None) -> None:
        """Queue a player event; callable from any thread (the audio thread calls it)."""
        assert self._loop is not None
        try:
            self._loop.call_soon_threadsafe(self.emit, kind, pick, position_s, reason, error)
        except RuntimeError:  # loop already closed: the player is shutting down
            log.debug("player event %s after the event loop closed; dropped", kind)

    def emit(self, kind: str, pick: Optional[Pick], position_s: Optional[float] = None,
             reason: str = "", error: Optional[str] = None) -> Dict[str, Any]:
        """Queue a player event (event-loop thread)."""
        event = make_event(kind, pick, device=self.topics.device_id, player=self.identifier,
                           backend=self.backend, seq=self._event_seq, position_s=position_s,
                           reason=reason, error=error, ts=self.clock())
        self._event_seq += 1
        self.counts[f"event_{kind}"] += 1
        if len(self._events) >= self._max_events:
            self._events.popleft()  # drop-oldest: a stale position is worth less than a new event
            self.counts["events_dropped"] += 1
        self._events.append(event)
        if self._has_events is not None:
            self._has_events.set()
        if self.on_event is not None:
            self.on_event(event)
        return event

    async def _send_events(self, client: Any) -> None:
        assert self._has_events is not None
        while True:
            await self._has_events.wait()
            while self._events:
                event = self._events[0]
                await client.publish(self.topics.player_event, json.dumps(event), qos=1)
                self._events.popleft()  # only once the broker took it
            self._has_events.clear()

    async def _ticker(self) -> None:
        while True:
            await asyncio.sleep(self.position_every_s)
            pick, pos = self.output.position() if hasattr(self.output, "position") else (None, 0.0)
            if pick is None:
                continue
            if self.clock() > pick.ts + pick.ttl_s:
                self.output.stop()
                log.info("pick %s outlived its ttl (%.0f s); stopped", pick.pick_id, pick.ttl_s)
                self.emit("ended", pick, pos, reason="ttl-expired")
            else:
                self.emit("position", pick, pos)

    async def wait(self) -> None:
        """Run until cancelled (or until the task fails, re-raising its error)."""
        if self._task is None:
            raise RuntimeError("PickPlayer.wait() outside 'async with'")
        await self._task

    def handle(self, payload: Any) -> Decision:
        """Decide on one payload and act on it (also used by tests without a broker)."""
        if isinstance(payload, (int, float)) or payload is None:
            payload = b"" if payload is None else str(payload).encode()
        decision = self.filter.decide(payload, self.clock())
        self.counts[decision.action] += 1
        if decision.action == "play" and decision.pick is not None:
            log.info("%s", decision.message)
            playing, pos = self.output.position() if hasattr(self.output, "position") else (None, 0.0)
            try:
                self.output.play(decision.pick)
            except CardiotuneError as exc:  # missing / unreadable audio: skip this pick
                self.counts["play_failed"] += 1
                log.warning("cannot play %s: %s", decision.pick.describe(), exc)
                if self._loop is not None:
                    self.emit("error", decision.pick, None, error=str(exc))
            else:  # the old pick is only replaced once the new one is playing
                if playing is not None and self._loop is not None:
                    self.emit("skipped", playing, pos, reason="replaced")
        elif decision.action == "duplicate":
            log.debug("%s", decision.message)
        else:
            log.warning("%s", decision.message)
        if self.on_decision is not None:
            self.on_decision(decision)
        return decision

    async def _run(self) -> None:
        import aiomqtt  # base dependency; imported here so `cardiotune --help` stays light

        in_outage = False
        protocol = "3.1.1" if self.settings.protocol == "auto" else None  # no version probing in a player
        while True:
            try:
                async with open_client(**client_kwargs(self.settings, self.identifier, persistent=True,
                                                       protocol=protocol),
                                       max_queued_incoming_messages=self.max_queued) as client:
                    await client.subscribe(self.topics.pick, qos=1)
                    self.counts["connects"] += 1
                    if in_outage:
                        log.warning("MQTT broker %s is back; listening again", self.broker_url)
                    in_outage = False
                    self.backoff.reset()
                    assert self.connected is not None
                    self.connected.set()
                    sender = asyncio.ensure_future(self._send_events(client))
                    try:
                        async for message in client.messages:
                            self.handle(message.payload)
                    finally:
                        sender.cancel()
                        try:
                            await sender
                        except (asyncio.CancelledError, aiomqtt.MqttError):
                            pass
            except aiomqtt.MqttError as exc:
                if self.connected is not None:
                    self.connected.clear()
                delay = self.backoff.next()
                if not in_outage:
                    log.warning("MQTT broker %s unavailable (%s); retrying with backoff up to "
                                "%g s", self.broker_url, exc, self.backoff.cap)
                    in_outage = True
                else:
                    log.debug("reconnect to %s failed (%s); next try in %.1f s",
                              self.broker_url, exc, delay)
                await asyncio.sleep(delay)
