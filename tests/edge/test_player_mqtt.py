"""The player against the real Mosquitto: retained stale pick, fresh picks, duplicates,
malformed payloads; the contract with the runtime's own pick payloads; broker outages;
and the CLI as a user runs it."""
from __future__ import annotations

import asyncio
import concurrent.futures
import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import aiomqtt
import jsonschema
import pytest
from cardiotune.edge.player import Backoff
from cardiotune.edge.player_audio import PrintOutput
from cardiotune.edge.player_mqtt import PickPlayer

SCHEMA = Path(__file__).resolve().parents[2] / "edge" / "mqtt" / "schemas" / "pick.schema.json"
WAIT_S = 10.0  # generous guard against hangs, not a performance assertion


def payload(device, pick_id, ts=None, ttl_s=25.0, title="Warm Major Groove 132 bpm"):
    doc = {
        "schema": "cardiotune.pick/1", "device": device, "seq": 1,
        "ts": time.time() if ts is None else ts, "ttl_s": ttl_s, "pick_id": pick_id,
        "data_time": {"start": 0.0, "end": 30.0},
        "track": {"id": "proc-018", "title": title, "valence": 0.4, "arousal": 0.4,
                  "uri": "file:///nonexistent/proc-018.wav", "duration_s": 20.0},
        "reason": {"trigger": "first", "policy": "match", "target": {"valence": 0.4, "arousal": 0.4},
                   "state": {"valence": 0.4, "arousal": 0.4, "status": "ok"},
                   "distance": 0.0, "runners_up": [], "text": "test"},
    }
    jsonschema.validate(doc, json.loads(SCHEMA.read_text()))  # our fixtures follow the contract
    return json.dumps(doc).encode()


class Collector:
    def __init__(self):
        self.queue: asyncio.Queue = asyncio.Queue()

    def __call__(self, decision):
        self.queue.put_nowait(decision)

    async def next(self):
        return await asyncio.wait_for(self.queue.get(), WAIT_S)


async def until(condition):
    async def poll():
        while not condition():
            await asyncio.sleep(0.05)

    await asyncio.wait_for(poll(), WAIT_S)


async def publish(port, topic, data, retain=False):
    async with aiomqtt.Client("127.0.0.1", port) as client:
        await client.publish(topic, data, qos=1, retain=retain)


def test_player_decisions_on_the_real_broker(mosquitto, device_id, capsys):
    host, port = mosquitto
    topic = f"cardiotune/v1/{device_id}/pick"

    async def scenario():
        # A retained pick from an hour ago is what a late subscriber gets first: stale.
        await publish(port, topic, payload(device_id, "old", ts=time.time() - 3600), retain=True)
        got = Collector()
        async with PickPlayer(f"mqtt://{host}:{port}", device_id, PrintOutput(),
                              on_decision=got) as player:
            d = await got.next()
            assert d.action == "stale" and d.pick.pick_id == "old"
            assert "stale pick ignored: age 36" in d.message
            await asyncio.wait_for(player.connected.wait(), WAIT_S)
            await publish(port, topic, payload(device_id, "fresh-1"), retain=True)
            assert (await got.next()).action == "play"
            await publish(port, topic, payload(device_id, "fresh-1"), retain=True)
            assert (await got.next()).action == "duplicate"
            await publish(port, topic, b"{ not json")
            d = await got.next()
            assert d.action == "invalid" and "not valid JSON" in d.message
            await publish(port, topic, payload(device_id, "x").replace(b'"ttl_s": 25.0',
                                                                       b'"ttl_s": -1'))
            d = await got.next()
            assert d.action == "invalid" and "ttl_s" in d.message
            await publish(port, topic, payload(device_id, "fresh-2", title="Second"))
            d = await got.next()
            assert d.action == "play" and d.pick.track.title == "Second"
            assert player.counts["play"] == 2 and player.counts["invalid"] == 2
        await publish(port, topic, b"", retain=True)  # clear the retained pick

    asyncio.run(scenario())
    out = capsys.readouterr().out.splitlines()
    assert out == ["would play: Warm Major Groove 132 bpm (V=+0.40, A=+0.40) \u2014 print backend",
                   "would play: Second (V=+0.40, A=+0.40) \u2014 print backend"]


def test_runtime_pick_payload_is_accepted():
    """The contract: what the runtime publishes (messages.pick_payload) the player plays."""
    from cardiotune.edge.mqtt.messages import encode, pick_payload
    from cardiotune.edge.player import PickFilter
    from cardiotune.edge.recommender import Pick
    from cardiotune.edge.smoothing import SmoothedVa

    class T:
        id, title, valence, arousal, duration_s = "proc-000", "Dark Minor Lament 65 bpm", -0.8, -0.8, 20.0
        uri = "file:///x/proc-000.wav"

    fields = SmoothedVa.__dataclass_fields__
    state = SmoothedVa(**{k: (0.1 if k not in ("status",) else "ok") for k in fields})
    pick = Pick(t=42.0, track=T(), distance=0.1, state=state, trigger="first", runners_up=())
    now = time.time()
    d = PickFilter("dev1").decide(encode(pick_payload("dev1", 0, now, pick, 12.0)), now + 1)
    assert d.action == "play" and d.pick.track.id == "proc-000"


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.skipif(shutil.which("mosquitto") is None and not os.path.exists("/usr/sbin/mosquitto"),
                    reason="needs the mosquitto binary to start and stop a private broker")
def test_reconnects_after_broker_outage(tmp_path, caplog):
    """Player first, broker later; then the broker dies and comes back. One warning per
    outage, no traceback, and picks play after each reconnect."""
    exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    port = _free_port()
    conf = tmp_path / "m.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n")

    def start():
        return subprocess.Popen([exe, "-c", str(conf)], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)

    def stop(proc):
        proc.terminate()
        proc.wait(10)

    async def scenario():
        got = Collector()
        fast = Backoff(initial=0.05, cap=0.2)
        async with PickPlayer(f"mqtt://127.0.0.1:{port}", "outage", PrintOutput(),
                              on_decision=got, backoff=fast) as player:
            await until(lambda: fast.attempt >= 3)  # several failed attempts, broker down
            broker = start()
            try:
                await asyncio.wait_for(player.connected.wait(), WAIT_S)
                await publish(port, "cardiotune/v1/outage/pick", payload("outage", "a"))
                assert (await got.next()).action == "play"
            finally:
                stop(broker)
            await until(lambda: not player.connected.is_set())
            broker = start()
            try:
                await asyncio.wait_for(player.connected.wait(), WAIT_S)
                await publish(port, "cardiotune/v1/outage/pick", payload("outage", "b"))
                assert (await got.next()).action == "play"
                assert player.counts["connects"] == 2
            finally:
                stop(broker)

    with caplog.at_level(logging.WARNING, logger="cardiotune.edge.player_mqtt"):
        asyncio.run(scenario())
    down = [r for r in caplog.records if "unavailable" in r.getMessage()]
    back = [r for r in caplog.records if "is back" in r.getMessage()]
    assert len(down) == 2 and len(back) == 2  # once per outage, not once per retry
    # Our log lines carry no traceback. (aiomqtt 2.5 itself can log an asyncio "Bad file
    # descriptor" error from a stale add_writer callback when the broker dies; not ours.)
    assert all(r.exc_info is None for r in caplog.records if r.name.startswith("cardiotune"))


def _read_until(stream, needle):
    """Lines of ``stream`` up to the first containing ``needle`` (read in a thread so a
    missing line fails after WAIT_S instead of hanging the suite)."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        def read():
            lines = []
            for line in stream:
                lines.append(line)
                if needle in line:
                    return lines
            raise AssertionError(f"{needle!r} never printed; got {lines}")
        return pool.submit(read).result(timeout=WAIT_S)


def test_cli_plays_fresh_and_ignores_stale(mosquitto, device_id, tmp_path):
    host, port = mosquitto
    topic = f"cardiotune/v1/{device_id}/pick"
    # The stale pick is retained, so the player gets it as soon as it has subscribed: its
    # warning on stderr tells us the subscription is live before the fresh pick is sent.
    asyncio.run(publish(port, topic, payload(device_id, "s", ts=time.time() - 100), retain=True))
    env = dict(os.environ, CARDIOTUNE_CACHE=str(tmp_path))
    proc = subprocess.Popen(
        [sys.executable, "-m", "cardiotune", "player", "--broker", f"mqtt://{host}:{port}",
         "--device-id", device_id, "--backend", "print"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert "listening for picks on " + topic in _read_until(proc.stdout, "listening")[-1]
        err = _read_until(proc.stderr, "stale pick ignored")
        assert "stale pick ignored: age 1" in err[-1] and "> ttl 25.0 s" in err[-1]
        asyncio.run(publish(port, topic, payload(device_id, "f", title="Fresh One"), retain=True))
        line = _read_until(proc.stdout, "would play")[-1]
        assert line.startswith("would play: Fresh One (V=+0.40, A=+0.40)")
    finally:
        proc.terminate()
        _, rest = proc.communicate(timeout=WAIT_S)
        asyncio.run(publish(port, topic, b"", retain=True))
    assert "Traceback" not in "".join(err) + rest
