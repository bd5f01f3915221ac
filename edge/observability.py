"""Wire :class:`~.metrics.RuntimeMetrics` to the publisher and recorder and publish it.

``attach_publisher`` registers the publisher's queue depths and drop counters;
``metrics_loop`` publishes a retained ``cardiotune.metrics/1`` message every
``interval_s`` (QoS 0: the next one supersedes it) and keeps the retained status in step
with the recorder (``recording: {"state": "error", ...}`` the moment the disk fails);
``recorder_ticker`` flushes the recording at least every flush interval.
"""
from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Dict, Optional

from .metrics import RuntimeMetrics, metrics_payload
from .mqtt.publisher import MqttPublisher, Outgoing
from .timebase import wall_time

__all__ = ["attach_publisher", "metrics_loop", "recorder_ticker", "recording_info"]

log = logging.getLogger(__name__)


def attach_publisher(metrics: RuntimeMetrics, pub: MqttPublisher) -> None:
    pub.metrics = metrics
    metrics.gauge("publish_queue", lambda: len(pub._queue))
    metrics.gauge("outbox", lambda: len(pub.outbox) if pub.outbox is not None else 0)
    metrics.gauge("command_inbox", pub.inbox.qsize)
    s = pub.stats
    metrics.counter("published", lambda: s.published)
    metrics.counter("dropped_overflow", lambda: s.dropped_overflow)
    metrics.counter("dropped_stale", lambda: s.dropped_stale)
    metrics.counter("dropped_commands", lambda: pub.dropped_commands)
    metrics.counter("outbox_dropped", lambda: pub.outbox.dropped if pub.outbox is not None else 0)
    metrics.counter("mqtt_connects", lambda: s.connects)
    metrics.counter("mqtt_disconnects", lambda: s.disconnects)


def recording_info(recorder) -> Dict[str, Any]:
    if recorder is None:
        return {"state": "off"}
    return {"state": recorder.state, "path": recorder.path, "error": recorder.error}


async def metrics_loop(pub: MqttPublisher, metrics: RuntimeMetrics, interval_s: float, recorder=None) -> None:
    started = time.monotonic()
    last_rec: Optional[Dict[str, Any]] = None
    tick = min(interval_s, 0.5)  # check the recorder often; publish metrics every interval
    next_metrics = time.monotonic() + interval_s
    def publish_metrics() -> None:
        payload = metrics_payload(pub.topics.device_id, wall_time(), interval_s, time.monotonic() - started,
                                  metrics.snapshot())
        pub.offer(Outgoing(pub.topics.metrics, payload, qos=0, retain=True))

    while True:
        try:
            await asyncio.sleep(tick)
        except asyncio.CancelledError:
            publish_metrics()  # the final numbers of the run stay retained for `cardiotune status`
            raise
        rec = recording_info(recorder)
        metrics.info["recording"] = rec
        if rec != last_rec:
            if last_rec is not None or rec["state"] != "off":
                pub.set_status(recording=rec)
            last_rec = rec
        if time.monotonic() >= next_metrics:
            next_metrics += interval_s
            publish_metrics()


async def recorder_ticker(recorder, period_s: float = 0.25) -> None:
    while True:
        await asyncio.sleep(period_s)
        recorder.tick()
