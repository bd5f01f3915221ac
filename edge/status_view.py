"""``cardiotune status``: read a device's retained status and metrics and show them.

Both messages are retained, so a fresh subscriber gets them at once; nothing is waited
for beyond ``timeout_s``. Rendering is pure (``render_text``) and also available as a
rich table (``print_rich``).
"""
from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any, Dict, List, Optional, Tuple

from .mqtt.connection import MqttSettings, client_kwargs
from .mqtt.topics import DeviceTopics

__all__ = ["fetch_status", "rows", "print_rich"]


async def fetch_status(settings: MqttSettings, device_id: str, timeout_s: float = 3.0
                       ) -> Tuple[Optional[Dict[str, Any]], Optional[Dict[str, Any]]]:
    """(status, metrics) payloads, each None if the broker holds none for this device."""
    import aiomqtt

    topics = DeviceTopics(device_id)
    got: Dict[str, Dict[str, Any]] = {}
    kw = client_kwargs(settings, f"cardiotune-status-{uuid.uuid4().hex[:8]}", persistent=False,
                       protocol="3.1.1" if settings.protocol == "auto" else None)
    async with aiomqtt.Client(**kw) as client:
        await client.subscribe(topics.status, qos=1)
        await client.subscribe(topics.metrics, qos=1)

        async def read() -> None:
            async for m in client.messages:
                try:
                    got[str(m.topic).rsplit("/", 1)[-1]] = json.loads(m.payload)
                except ValueError:
                    continue
                if len(got) == 2:
                    return
        try:
            await asyncio.wait_for(read(), timeout_s)
        except asyncio.TimeoutError:
            pass
    return got.get("status"), got.get("metrics")


def _age(ts: Any, now: float) -> str:
    return f"{now - ts:.1f} s ago" if isinstance(ts, (int, float)) else "-"


def rows(status: Optional[Dict[str, Any]], metrics: Optional[Dict[str, Any]],
         now: Optional[float] = None) -> List[Tuple[str, str, str]]:
    """(section, name, value) rows for display; pure."""
    now = time.time() if now is None else now
    out: List[Tuple[str, str, str]] = []
    if status is None:
        out.append(("status", "state", "unknown (no retained status: never connected to this broker?)"))
    else:
        out.append(("status", "state", f"{status.get('state')} ({_age(status.get('ts'), now)})"))
        if status.get("reason"):
            out.append(("status", "reason", str(status["reason"])))
        model = status.get("model")
        if isinstance(model, dict):
            out.append(("status", "model", f"{model.get('name')} {model.get('version')}"))
        if "providers" in status:
            out.append(("status", "onnxruntime providers", ", ".join(map(str, status.get("providers") or []))))
        rec = status.get("recording")
        if isinstance(rec, dict):
            err = f": {rec['error']}" if rec.get("error") else ""
            out.append(("status", "recording", f"{rec.get('state')}{err}"))
    if metrics is None:
        out.append(("metrics", "-", "none retained (metrics_interval_s = 0, or an older runtime)"))
        return out
    ttl = metrics.get("ttl_s")
    fresh = isinstance(ttl, (int, float)) and isinstance(metrics.get("ts"), (int, float)) and \
        now <= metrics["ts"] + ttl
    out.append(("metrics", "published", f"{_age(metrics.get('ts'), now)}{'' if fresh else ' (STALE)'}, "
                                        f"uptime {metrics.get('uptime_s', 0):.0f} s"))
    for stage, h in (metrics.get("latency") or {}).items():
        if isinstance(h, dict) and h.get("count"):
            out.append(("latency", stage, f"p50 {h.get('p50_ms')} ms, p99 {h.get('p99_ms')} ms, "
                                          f"max {h.get('max_ms')} ms (n={h.get('count')})"))
    rec = metrics.get("recording")
    if isinstance(rec, dict):
        err = f": {rec['error']}" if rec.get("error") else ""
        out.append(("metrics", "recording", f"{rec.get('state')}{err}"))
    for name, v in (metrics.get("queues") or {}).items():
        out.append(("queues", name, str(v)))
    for name, v in (metrics.get("counters") or {}).items():
        out.append(("counters", name, str(v)))
    return out


def print_rich(device_id: str, table_rows: List[Tuple[str, str, str]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"cardiotune device {device_id}")
    for col in ("section", "name", "value"):
        table.add_column(col)
    last = None
    for section, name, value in table_rows:
        table.add_row(section if section != last else "", name, value)
        last = section
    Console().print(table)
