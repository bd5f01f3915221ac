"""An MQTT publisher that keeps the runtime going whatever the broker does.

``MqttPublisher`` is an async context manager owning one task that (re)connects with
capped exponential backoff and jitter, publishes a retained ``online`` status with a
last will ``offline``, and drains a bounded outgoing queue. The pipeline never waits for
the network: ``offer()`` is synchronous and, when the queue is full, drops the OLDEST
message (telemetry ages badly) and counts it. While disconnected, state messages whose
time-to-live has passed are discarded rather than delivered late as if fresh; the latest
pick is kept aside and re-published (retained) on every reconnect.

Connection details (TLS, credentials, MQTT 5 or 3.1.1, persistent session) come from an
:class:`~.connection.MqttSettings`; on MQTT 5 every message with a ``ttl_s`` also carries
it as the message expiry interval (non-retained messages only), so the broker itself discards
stale states; retained documents such as metrics stay readable and carry their own ``ttl_s``.
"""
from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Deque, Dict, List, Optional

from ..tasks import cancel_and_wait
from ..timebase import wall_time
from .connection import MqttSettings, client_kwargs, open_client, publish_properties
from .messages import encode, status_payload
from .topics import DeviceTopics

__all__ = ["Outgoing", "MqttPublisher", "PublisherStats"]

log = logging.getLogger(__name__)


@dataclass
class Outgoing:
    topic: str
    payload: Dict[str, Any]
    qos: int = 0
    retain: bool = False
    received: Optional[float] = None  # monotonic time the underlying data entered the process
    offered: float = field(default_factory=time.monotonic)  # when it was handed to the publisher


@dataclass
class PublisherStats:
    published: int = 0
    dropped_overflow: int = 0
    dropped_stale: int = 0
    connects: int = 0
    disconnects: int = 0
    latencies_s: Deque[float] = field(default_factory=lambda: deque(maxlen=100_000))


class MqttPublisher:
    def __init__(self, host: str, port: int, device_id: str, *, queue_size: int = 512,
                 backoff_initial_s: float = 0.25, backoff_max_s: float = 2.0, status_extra=None,
                 tls: bool = False, outbox=None, settings: Optional[MqttSettings] = None,
                 on_connect: Optional[List[Outgoing]] = None):
        self.settings = settings if settings is not None else MqttSettings(host=host, port=int(port), tls=tls)
        self.host, self.port, self.tls = self.settings.host, self.settings.port, self.settings.tls
        # protocol of the current/last connection; "auto" alternates until one connection works
        self.protocol = "5" if self.settings.protocol == "auto" else self.settings.protocol
        self._negotiated = self.settings.protocol != "auto"
        self.on_connect = list(on_connect or [])  # retained messages re-published on every connect
        self.metrics = None  # optional edge.metrics.RuntimeMetrics: publish latencies per stage
        self._offered: Dict[int, float] = {}  # outbox row id -> offer time (this process's rows only)
        self.topics = DeviceTopics(device_id)
        self.queue_size = queue_size
        self.backoff_initial_s, self.backoff_max_s = backoff_initial_s, backoff_max_s
        self.status_extra = dict(status_extra or {})
        self.stats = PublisherStats()
        self.outbox = outbox  # optional Outbox: QoS>=1 messages are persisted until the broker has them
        self.connected = asyncio.Event()
        self._queue: Deque[Outgoing] = deque()
        self._wakeup = asyncio.Event()
        self._last_pick: Optional[Outgoing] = None
        self._task: Optional[asyncio.Task] = None
        self._client = None
        self.unreachable = False  # the last connection attempt failed or the connection was lost
        # commands received on the cmd topic, for the runtime; bounded, drop-oldest (counted)
        self.inbox: asyncio.Queue[bytes] = asyncio.Queue(maxsize=64)
        self.dropped_commands = 0
        # player events (player/event: position, ended, skipped ...); bounded, drop-oldest (counted)
        self.events: asyncio.Queue[bytes] = asyncio.Queue(maxsize=64)
        self.dropped_events = 0

    async def __aenter__(self) -> MqttPublisher:
        self._task = asyncio.ensure_future(self._run())
        if hasattr(self._task, "set_name"):
            self._task.set_name("mqtt-publisher")
        return self

    async def __aexit__(self, *exc) -> None:
        await self.flush(timeout_s=2.0)
        if self._client is not None and self.connected.is_set():
            try:  # graceful: say offline ourselves (the will only fires on abnormal loss)
                await self._client.publish(self.topics.status, encode(
                    status_payload(self.topics.device_id, "offline", wall_time(), **dict(self.status_extra,
                                   reason="stopped"))),
                    qos=1, retain=True)
            except Exception as err:  # noqa: BLE001 - the broker may be gone; nothing to do but say so
                log.info("could not publish offline status on exit: %s", err)
        await cancel_and_wait([self._task])

    def offer(self, msg: Outgoing) -> None:
        """Queue a message without waiting; drop the oldest when full (counted).
        With an outbox, QoS>=1 messages are persisted instead (they survive restarts)."""
        if msg.topic == self.topics.pick:
            self._last_pick = msg
        if self.outbox is not None and msg.qos >= 1:
            row_id = self.outbox.put(msg.topic, encode(msg.payload), msg.qos, msg.retain)
            if msg.topic == self.topics.pick and len(self._offered) < 10_000:
                self._offered[row_id] = msg.offered
            self._wakeup.set()
            return
        if len(self._queue) >= self.queue_size:
            self._queue.popleft()
            self.stats.dropped_overflow += 1
        self._queue.append(msg)
        self._wakeup.set()

    def set_status(self, **extra: Any) -> None:
        """Update the retained ``online`` status (e.g. the recorder failed) and publish it now."""
        self.status_extra.update(extra)
        self.offer(Outgoing(self.topics.status, status_payload(self.topics.device_id, "online", wall_time(),
                                                               **self.status_extra), qos=0, retain=True))

    @property
    def backlog(self) -> int:
        return len(self._queue) + (len(self.outbox) if self.outbox is not None else 0)

    async def flush(self, timeout_s: float) -> bool:
        """Wait until nothing is waiting (True) or ``timeout_s`` passes (False). Returns early
        (False) only once a connection attempt has failed: a first connection still in its
        (TLS) handshake when a short run ends is waited for, not reported as unreachable."""
        deadline = time.monotonic() + timeout_s
        while self.backlog and time.monotonic() < deadline:
            if self.unreachable:
                return False
            await asyncio.sleep(0.01)
        return not self.backlog

    def _will(self):
        import aiomqtt

        return aiomqtt.Will(self.topics.status, encode(
            status_payload(self.topics.device_id, "offline", None, reason="connection lost")), qos=1, retain=True)

    async def _run(self) -> None:
        import aiomqtt

        backoff = self.backoff_initial_s
        outage_logged = False
        failures = 0  # connection attempts failed since the last good connection
        log.info("MQTT publisher for %s: %s", self.topics.device_id, self.settings.describe())
        while True:
            try:
                kw = client_kwargs(self.settings, f"cardiotune-{self.topics.device_id}", protocol=self.protocol)
                async with open_client(will=self._will(), **kw) as client:
                    self._client = client
                    self._negotiated = True
                    self.stats.connects += 1
                    backoff = self.backoff_initial_s
                    if outage_logged:
                        log.warning("MQTT broker %s:%s is back; publishing resumes", self.host, self.port)
                    outage_logged = False
                    # subscribe first: "online" then means commands are listened to
                    await client.subscribe(self.topics.cmd, qos=1)
                    await client.subscribe(self.topics.player_event, qos=1)
                    await client.publish(self.topics.status, encode(status_payload(
                        self.topics.device_id, "online", wall_time(), **self.status_extra)), qos=1, retain=True)
                    for msg in self.on_connect:
                        await client.publish(msg.topic, encode(msg.payload), qos=msg.qos, retain=msg.retain)
                    if self.outbox is None and self._last_pick is not None and self._last_pick not in self._queue:
                        self._queue.appendleft(self._last_pick)
                    self.unreachable, failures = False, 0
                    self.connected.set()
                    await self._serve(client)
            except aiomqtt.MqttError as err:
                if self.connected.is_set():
                    self.stats.disconnects += 1
                self.connected.clear()
                failures += 1
                # "auto" before any connection: one failure may just be the wrong protocol version
                self.unreachable = failures >= (1 if self._negotiated else 2)
                self._client = None
                if not outage_logged:
                    log.warning("MQTT broker %s:%s unavailable (%s); processing continues, retrying "
                                "with backoff up to %.1f s", self.host, self.port, err, self.backoff_max_s)
                    outage_logged = True
                if not self._negotiated:  # "auto": try the other version next
                    self.protocol = "3.1.1" if self.protocol == "5" else "5"
                await asyncio.sleep(backoff * random.uniform(0.5, 1.0))
                backoff = min(backoff * 2, self.backoff_max_s)

    async def _serve(self, client) -> None:
        """Drain the queue and receive commands until the connection drops. Iterating
        ``client.messages`` also raises promptly on a lost connection when idle."""
        drain = asyncio.ensure_future(self._drain(client))
        watch = asyncio.ensure_future(self._watch(client))
        try:
            done, _ = await asyncio.wait({drain, watch}, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()  # re-raise the MqttError that ended the connection
        finally:
            await cancel_and_wait([drain, watch], errors="seen")  # the error that ended it is raised above

    async def _watch(self, client) -> None:
        async for message in client.messages:
            raw = message.payload if isinstance(message.payload, (bytes, bytearray)) else str(message.payload).encode()
            if message.topic.matches(self.topics.player_event):
                if self.events.full():
                    self.events.get_nowait()
                    self.dropped_events += 1
                self.events.put_nowait(bytes(raw))
                continue
            if self.inbox.full():
                self.inbox.get_nowait()
                self.dropped_commands += 1
            self.inbox.put_nowait(bytes(raw))

    async def _drain(self, client) -> None:
        while True:
            if self.outbox is not None:
                for row in self.outbox.pending():
                    await client.publish(row.topic, row.payload, qos=row.qos, retain=row.retain)
                    self.outbox.delete(row.id)  # only once the broker has it
                    self.stats.published += 1
                    offered = self._offered.pop(row.id, None)
                    if offered is not None and self.metrics is not None:
                        self.metrics.observe("decision_to_pick_publish", time.monotonic() - offered)
            if not self._queue:
                if self.outbox is not None and len(self.outbox):
                    continue
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            msg = self._queue[0]
            ttl = msg.payload.get("ttl_s")
            ts = msg.payload.get("ts")
            if msg.qos == 0 and ttl is not None and ts is not None and wall_time() > ts + ttl:
                self._queue.popleft()
                self.stats.dropped_stale += 1
                continue
            await client.publish(msg.topic, encode(msg.payload), qos=msg.qos, retain=msg.retain,
                                 properties=publish_properties(self.protocol, None if msg.retain else ttl))
            self._queue.popleft()  # only after the broker took it: a failed publish is retried
            self.stats.published += 1
            now = time.monotonic()
            if msg.received is not None:
                self.stats.latencies_s.append(now - msg.received)
            if self.metrics is not None:
                if msg.topic == self.topics.state and msg.received is not None:
                    self.metrics.observe("sample_to_state_publish", now - msg.received)
                elif msg.topic == self.topics.pick:
                    self.metrics.observe("decision_to_pick_publish", now - msg.offered)

    def latency_percentiles(self) -> List[float]:
        import numpy as np

        if not self.stats.latencies_s:
            return [float("nan"), float("nan")]
        arr = np.asarray(self.stats.latencies_s)
        return [float(np.median(arr)), float(np.percentile(arr, 99))]
