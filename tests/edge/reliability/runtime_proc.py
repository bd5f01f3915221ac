"""Helpers for the reliability tests: the real runtime (`cardiotune run`) as a subprocess,
and a persistent MQTT subscriber that reconnects by itself."""
from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import List, Optional

import aiomqtt
from cardiotune.edge.mqtt.connection import MqttSettings, client_kwargs


def write_profile(path: Path, device_id: str, broker: str, *, speed, duration_s: float = 0, outbox: str = "",
                  metrics_interval_s: float = 10.0, protocol: str = "auto") -> Path:
    speed_toml = f'"{speed}"' if speed == "max" else str(float(speed))
    path.write_text(f"""
[device]
id = "{device_id}"
[source]
speed = {speed_toml}
duration_s = {duration_s}
[mqtt]
broker = "{broker}"
outbox = "{outbox}"
backoff_max_s = 2.0
metrics_interval_s = {metrics_interval_s}
protocol = "{protocol}"
[ui]
live = false
""")
    return path


def start_runtime(profile: Path, *extra: str, log: Optional[Path] = None) -> subprocess.Popen:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    out = open(log, "ab") if log is not None else subprocess.DEVNULL
    return subprocess.Popen([sys.executable, "-m", "cardiotune", "-v", "run", "--config", str(profile), "--plain",
                             *extra], stdout=out, stderr=subprocess.STDOUT, env=env)


def kill(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)


class Collector:
    """Subscribes (persistent session, fixed client id) and keeps every message with its arrival time;
    reconnects on its own every 0.2 s while the broker is away."""

    def __init__(self, port: int, topics: List[str], client_id: str, protocol: str = "5"):
        self.settings = MqttSettings(host="127.0.0.1", port=port, protocol=protocol)
        self.topics, self.client_id = topics, client_id
        self.messages: List[tuple] = []  # (monotonic arrival, topic, payload dict or raw bytes)
        self.connects = 0
        self.subscribed = asyncio.Event()
        self._task: Optional[asyncio.Task] = None

    async def _run(self) -> None:
        first = True
        while True:
            try:
                async with aiomqtt.Client(**client_kwargs(self.settings, self.client_id, persistent=True)) as c:
                    self.connects += 1
                    if first:  # later visits rely on the broker's session (the point of the test)
                        for t in self.topics:
                            await c.subscribe(t, qos=1)
                        first = False
                    self.subscribed.set()
                    async for m in c.messages:
                        try:
                            payload = json.loads(m.payload)
                        except ValueError:
                            payload = bytes(m.payload)
                        self.messages.append((time.monotonic(), str(m.topic), payload))
            except aiomqtt.MqttError:
                await asyncio.sleep(0.2)

    async def __aenter__(self) -> Collector:
        self._task = asyncio.ensure_future(self._run())
        await asyncio.wait_for(self.subscribed.wait(), 15)
        return self

    async def __aexit__(self, *exc) -> None:
        assert self._task is not None
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)

    def on(self, topic: str) -> List[tuple]:
        return [m for m in self.messages if m[1] == topic]


async def wait_until(cond, timeout_s: float, step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if cond():
            return True
        await asyncio.sleep(step)
    return bool(cond())
