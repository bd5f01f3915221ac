"""The player's MQTT side: subscribe to a device's pick topic, decide, play.

:class:`PickPlayer` is an async context manager that owns one task: connect, subscribe to
``cardiotune/v1/<device>/pick`` (QoS 1; the retained pick arrives first), and hand every
message to :class:`~cardiotune.edge.player.PickFilter`. When the broker is unreachable or
drops the connection it reconnects with capped exponential backoff and jitter, logging
one warning per outage (no stack trace) and one line when the broker is back.

While a track plays, the player reports its position on ``cardiotune/v1/<device>/player``
every ``report_every_s`` (``{"event": "position", ...}``, QoS 0: a lost report is
replaced by the next), so the device can issue the next pick before the track ends.

Session: persistent (MQTT 3.1.1 ``clean_session=False``) under a client id that is fixed for
the player's lifetime - or across restarts with ``client_id`` - so QoS 1 picks published
while the player is briefly disconnected are queued by the broker and delivered on return.
TLS material and credentials come from ``settings`` (:class:`~.mqtt.connection.MqttSettings`).

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
from dataclasses import replace
from typing import Any, Callable, Dict, Optional

from ..errors import CardiotuneError
from .mqtt.connection import MqttSettings, client_kwargs
from .mqtt.topics import DeviceTopics
from .mqtt.url import parse_broker_url
from .player import Backoff, Decision, PickFilter

__all__ = ["PickPlayer"]

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
                 report_every_s: float = 5.0):
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
                                       "play_failed": 0, "connects": 0}
        self._task: Optional[asyncio.Task] = None
        self.report_every_s = report_every_s
        self.playing: Optional[Dict[str, Any]] = None  # track id, duration and start of what plays now
        self.reports = 0

    async def __aenter__(self) -> PickPlayer:
        self.connected = asyncio.Event()
        self._task = asyncio.ensure_future(self._run())
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None

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
            try:
                self.output.play(decision.pick)
                track = decision.pick.track
                self.playing = {"track_id": track.id, "duration_s": track.duration_s, "started": self.clock()}
            except CardiotuneError as exc:  # missing / unreadable audio: skip this pick
                self.counts["play_failed"] += 1
                log.warning("cannot play %s: %s", decision.pick.describe(), exc)
        elif decision.action == "duplicate":
            log.debug("%s", decision.message)
        else:
            log.warning("%s", decision.message)
        if self.on_decision is not None:
            self.on_decision(decision)
        return decision

    def position_event(self) -> Optional[Dict[str, Any]]:
        """The player event for what plays now (None when nothing does or it has ended)."""
        if self.playing is None:
            return None
        pos = self.clock() - self.playing["started"]
        if pos > self.playing["duration_s"]:
            return None
        return {"schema": "cardiotune.player/1", "event": "position", "track_id": self.playing["track_id"],
                "position_s": round(pos, 3), "duration_s": self.playing["duration_s"]}

    async def _report_positions(self, client) -> None:
        while True:
            await asyncio.sleep(self.report_every_s)
            event = self.position_event()
            if event is not None:
                await client.publish(self.topics.player, json.dumps(event).encode(), qos=0)
                self.reports += 1

    async def _run(self) -> None:
        import aiomqtt  # base dependency; imported here so `cardiotune --help` stays light

        in_outage = False
        protocol = "3.1.1" if self.settings.protocol == "auto" else None  # no version probing in a player
        while True:
            try:
                async with aiomqtt.Client(**client_kwargs(self.settings, self.identifier, persistent=True,
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
                    reporter = asyncio.ensure_future(self._report_positions(client))
                    try:
                        async for message in client.messages:
                            self.handle(message.payload)
                    finally:
                        reporter.cancel()
                        await asyncio.gather(reporter, return_exceptions=True)
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
