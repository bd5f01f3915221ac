"""Helpers for the player-event tests: short real WAV clips, pick payloads, and an MQTT
listener that collects (and schema-validates) what the player publishes."""
from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any, Dict, List

import aiomqtt
import jsonschema
import numpy as np
from cardiotune.edge.music.wav import encode_wav

SCHEMAS = Path(__file__).resolve().parents[2] / "edge" / "mqtt" / "schemas"
EVENT_SCHEMA = json.loads((SCHEMAS / "player_event.schema.json").read_text())
PICK_SCHEMA = json.loads((SCHEMAS / "pick.schema.json").read_text())
WAIT_S = 15.0  # guard against hangs, not a performance assertion


def write_clip(path: Path, seconds: float, freq: float = 440.0, sr: int = 22050) -> Path:
    t = np.arange(int(seconds * sr)) / sr
    path.write_bytes(encode_wav(0.3 * np.sin(2 * np.pi * freq * t), sr))
    return path


def pick_payload(device: str, pick_id: str, path: Path, duration_s: float, ttl_s: float = 60.0,
                 ts: float = None) -> bytes:
    doc = {
        "schema": "cardiotune.pick/1", "device": device, "seq": 1, "ts": time.time() if ts is None else ts,
        "ttl_s": ttl_s, "pick_id": pick_id, "data_time": {"start": 0.0, "end": 1.0},
        "track": {"id": path.stem, "title": path.stem, "valence": 0.1, "arousal": -0.2,
                  "uri": path.resolve().as_uri(), "duration_s": duration_s},
        "reason": {"trigger": "first", "policy": "match", "target": {"valence": 0.1, "arousal": -0.2},
                   "state": {"valence": 0.1, "arousal": -0.2, "status": "valid"}, "distance": 0.0,
                   "runners_up": [], "text": "test"},
    }
    jsonschema.validate(doc, PICK_SCHEMA)
    return json.dumps(doc).encode()


class EventListener:
    """Subscribes to <device>/player/event on the real broker; every message is validated."""

    def __init__(self, port: int, device: str):
        self.port, self.topic = port, f"cardiotune/v1/{device}/player/event"
        self.events: List[Dict[str, Any]] = []
        self._new = asyncio.Event()
        self._task = None
        self.ready = asyncio.Event()

    async def __aenter__(self):
        self._task = asyncio.ensure_future(self._run())
        await asyncio.wait_for(self.ready.wait(), WAIT_S)
        return self

    async def __aexit__(self, *exc):
        self._task.cancel()
        try:
            await self._task
        except asyncio.CancelledError:
            pass

    async def _run(self):
        async with aiomqtt.Client("127.0.0.1", self.port) as client:
            await client.subscribe(self.topic, qos=1)
            self.ready.set()
            async for msg in client.messages:
                doc = json.loads(msg.payload)
                jsonschema.validate(doc, EVENT_SCHEMA)
                self.events.append(doc)
                self._new.set()

    async def wait_for(self, event: str, pick_id: str) -> Dict[str, Any]:
        async def poll():
            while True:
                for e in self.events:
                    if e["event"] == event and e["pick_id"] == pick_id:
                        return e
                self._new.clear()
                await self._new.wait()

        return await asyncio.wait_for(poll(), WAIT_S)

    def kinds(self, pick_id: str) -> List[str]:
        return [e["event"] for e in self.events if e["pick_id"] == pick_id and e["event"] != "position"]


async def publish(port: int, topic: str, data: bytes, retain: bool = False) -> None:
    async with aiomqtt.Client("127.0.0.1", port) as client:
        await client.publish(topic, data, qos=1, retain=retain)
