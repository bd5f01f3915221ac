"""Closed-loop player latency: pick published -> "started" player event received.

One process plays all three parts over a real broker: a publisher that sends picks on
``cardiotune/v1/<device>/pick``, the player (:class:`PickPlayer` with the backend under
test), and a subscriber on ``.../player/event``. Each of ``n`` picks replaces the one
playing (``gap_s`` apart); the latency is monotonic time from just before ``publish()``
to the arrival of that pick's ``started`` event, so it includes both MQTT hops, pick
parsing, decoding (null) or MPD's addid/playid + decoder start + idle notification (mpd).

Backends: ``null`` (the sound card's mixer clocked by a thread: no sound card here, so a
real device adds its output buffer latency on top) and ``mpd`` (a private MPD started
from Debian's package with its null output).
"""
from __future__ import annotations

import asyncio
import io
import json
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, Dict, List

import numpy as np

from .mqtt.topics import DeviceTopics
from .music.wav import encode_wav
from .player_mqtt import PickPlayer
from .tasks import cancel_and_wait

__all__ = ["bench_player"]


def _clips(folder: Path, n: int = 4, seconds: float = 20.0, sr: int = 22050) -> List[Path]:
    out = []
    for i in range(n):
        t = np.arange(int(seconds * sr)) / sr
        p = folder / f"bench-{i}.wav"
        p.write_bytes(encode_wav(0.2 * np.sin(2 * np.pi * (220 + 110 * i) * t), sr))
        out.append(p)
    return out


def _pick(device: str, i: int, path: Path, seconds: float) -> bytes:
    return json.dumps({
        "schema": "cardiotune.pick/1", "device": device, "seq": i, "ts": time.time(), "ttl_s": seconds + 5,
        "pick_id": f"bench-{i}", "data_time": {"start": 0.0, "end": 1.0},
        "track": {"id": path.stem, "title": path.stem, "valence": 0.0, "arousal": 0.0,
                  "uri": path.resolve().as_uri(), "duration_s": seconds},
        "reason": {"trigger": "bench"}}).encode()


async def _run_backend(output: Any, host: str, port: int, n: int, gap_s: float, clips: List[Path],
                       seconds: float) -> Dict[str, Any]:
    import aiomqtt

    device = "bench" + uuid.uuid4().hex[:8]
    topics = DeviceTopics(device)
    sent: Dict[str, float] = {}
    got: Dict[str, float] = {}
    arrived = asyncio.Event()

    async def listen(client):
        async for msg in client.messages:
            ev = json.loads(msg.payload)
            if ev["event"] == "started" and ev["pick_id"] in sent and ev["pick_id"] not in got:
                got[ev["pick_id"]] = time.monotonic()
                arrived.set()

    async with aiomqtt.Client(host, port) as sub, aiomqtt.Client(host, port) as pub:
        await sub.subscribe(topics.player_event, qos=1)
        listener = asyncio.ensure_future(listen(sub))
        async with PickPlayer(f"mqtt://{host}:{port}", device, output, position_every_s=60.0) as player:
            await asyncio.wait_for(player.connected.wait(), 10)
            if hasattr(output, "wait_ready"):
                await output.wait_ready()
            for i in range(n + 2):  # two warm-up picks, not counted
                pid = f"bench-{i}"
                arrived.clear()
                sent[pid] = time.monotonic()
                await pub.publish(topics.pick, _pick(device, i, clips[i % len(clips)], seconds), qos=1)
                try:
                    await asyncio.wait_for(arrived.wait(), 10.0)
                except asyncio.TimeoutError:
                    pass  # counted as missing below
                await asyncio.sleep(gap_s)
            counts = dict(player.counts)
        await cancel_and_wait([listener])
        await pub.publish(topics.pick, b"", qos=1, retain=True)
    lat = [(got[p] - sent[p]) * 1000.0 for p in sorted(sent, key=lambda s: int(s.split("-")[1]))[2:] if p in got]
    a = np.asarray(lat) if lat else np.asarray([np.nan])
    return {"n": n, "received": len(lat), "missing": n - len(lat),
            "median_ms": round(float(np.median(a)), 2), "p99_ms": round(float(np.percentile(a, 99)), 2),
            "min_ms": round(float(a.min()), 2), "max_ms": round(float(a.max()), 2),
            "events": {k: v for k, v in counts.items() if k.startswith("event_")}}


def bench_player(out: Path, broker: str = "mqtt://127.0.0.1:1883", n: int = 50, gap_s: float = 0.3,
                 backends: List[str] = ("null", "mpd")) -> Dict[str, Any]:
    from .mqtt.url import parse_broker_url
    from .player_audio import NullOutput

    host, port, _tls = parse_broker_url(broker)
    seconds = 20.0
    result: Dict[str, Any] = {"what": "pick published -> 'started' player event received (ms), one process, "
                              "real broker", "broker": broker, "gap_s": gap_s, "backends": {}}
    with tempfile.TemporaryDirectory(prefix="ct-bench-") as tmp:
        music = Path(tmp) / "music"
        music.mkdir()
        clips = _clips(music, seconds=seconds)
        for backend in backends:
            if backend == "null":
                output = NullOutput(stream=io.StringIO())  # no "playing:" line per pick
                try:
                    r = asyncio.run(_run_backend(output, host, port, n, gap_s, clips, seconds))
                finally:
                    output.close()
                r["note"] = ("null output: the sound-card mixer clocked by a thread in 512-frame blocks "
                             "(23 ms at 22,050 Hz); no sound card on this machine")
            elif backend == "mpd":
                from .mpd_daemon import MpdDaemon
                from .player_mpd import MpdOutput

                with MpdDaemon(music) as daemon:
                    output = MpdOutput(daemon.address, crossfade_s=0)
                    r = asyncio.run(_run_backend(output, host, port, n, gap_s, clips, seconds))
                r["note"] = "real MPD 0.23 (Debian) with its null audio output, unix socket"
            else:
                raise ValueError(f"backend {backend!r}: expected null or mpd")
            result["backends"][backend] = r
            print(f"{backend:>5}: median {r['median_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms "
                  f"({r['received']}/{r['n']} started events)", flush=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")
    return result
