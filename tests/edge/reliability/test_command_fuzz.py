"""Fuzzed command payloads against the real runtime process over the real broker:
malformed JSON, wrong types, huge strings, invalid UTF-8. Every one is answered
``rejected`` with a reason, the process never crashes, and the valid command sent right
after each is handled (its round-trip time is measured and printed, not asserted)."""
import asyncio
import json
import random
import statistics
import time

import aiomqtt
from cardiotune.edge.mqtt.connection import MqttSettings, client_kwargs
from cardiotune.edge.mqtt.topics import DeviceTopics
from runtime_proc import kill, start_runtime, wait_until, write_profile

VALID = {"schema": "cardiotune.cmd/1", "cmd": "ping", "args": {}}


def oracle(raw: bytes):
    """Independent oracle: (command id or None, would a strict reader accept this as a ping?)."""
    def no_constants(name):
        raise ValueError(name)
    if len(raw) > 4096:
        return None, False
    try:
        msg = json.loads(raw.decode("utf-8"), parse_constant=no_constants)
    except ValueError:
        return None, False
    if not isinstance(msg, dict) or not isinstance(msg.get("id"), str) or not 0 < len(msg["id"]) <= 128:
        return None, False
    return msg["id"], (msg.get("schema") == "cardiotune.cmd/1" and msg.get("cmd") == "ping"
                       and isinstance(msg.get("args", {}), dict))


def fuzz_payloads(rng: random.Random):
    good = json.dumps(dict(VALID, id="x")).encode()
    fixed = [
        b"", b"{", b"}", b"null", b"[]", b"42", b'"str"', b"\xff\xfe\xfd", b"{\"id\": \"\xc3\x28\"}",
        b"\x00" * 100, b"{" * 5000, ("{\"id\": \"" + "A" * 100_000 + "\"}").encode(),
        json.dumps({"id": 7, "schema": "cardiotune.cmd/1", "cmd": "ping"}).encode(),
        json.dumps({"id": "", "cmd": "ping"}).encode(),
        json.dumps({"id": "z" * 500, "cmd": "ping"}).encode(),
        json.dumps({"id": "n1", "schema": "cardiotune.cmd/9", "cmd": "ping"}).encode(),
        json.dumps({"id": "n2", "schema": "cardiotune.cmd/1", "cmd": "reboot"}).encode(),
        json.dumps({"id": "n3", "schema": "cardiotune.cmd/1", "cmd": "set_policy", "args": []}).encode(),
        json.dumps({"id": "n4", "schema": "cardiotune.cmd/1", "cmd": "set_policy",
                    "args": {"policy": "steer", "goal": "calm", "ramp_s": "fast"}}).encode(),
        json.dumps({"id": "n5", "schema": "cardiotune.cmd/1", "cmd": "set_policy",
                    "args": {"policy": "steer", "goal": [1e308, float("-1e308")], "ramp_s": -1}}).encode(),
        json.dumps({"id": "n6", "schema": "cardiotune.cmd/1", "cmd": "set_policy",
                    "args": {"policy": 12, "goal": {"a": 1}}}).encode(),
        json.dumps({"id": "n7", "schema": "cardiotune.cmd/1", "cmd": "set_policy", "args": {"policy": "x" * 3000}}
                   ).encode(),
        b'{"id": "n8", "schema": "cardiotune.cmd/1", "cmd": "ping", "args": {"a": NaN}}',
    ]
    yield from fixed
    for _ in range(60):  # random mutations of a valid command: flipped, cut, duplicated bytes
        b = bytearray(good)
        for _ in range(rng.randint(1, 6)):
            op, i = rng.random(), rng.randrange(len(b))
            if op < 0.4:
                b[i] = rng.randrange(256)
            elif op < 0.7:
                del b[i:i + rng.randint(1, 8)]
            else:
                b[i:i] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
            if not b:
                b = bytearray(b"{")
        if bytes(b) != good:
            yield bytes(b)


def test_fuzzed_commands_are_rejected_with_a_reason_and_the_runtime_keeps_serving(mosquitto, tmp_path, device_id):
    host, port = mosquitto
    topics = DeviceTopics(device_id)
    profile = write_profile(tmp_path / "p.toml", device_id, f"mqtt://{host}:{port}", speed=1, duration_s=0)
    log = tmp_path / "runtime.log"

    async def go():
        acks = []
        async with aiomqtt.Client(**client_kwargs(MqttSettings(host=host, port=port), "fuzz-" + device_id,
                                                  persistent=False)) as c:
            await c.subscribe(topics.ack, qos=1)
            await c.subscribe(topics.status, qos=1)
            online = asyncio.Event()

            async def read():
                async for m in c.messages:
                    p = json.loads(m.payload)
                    if str(m.topic) == topics.status:
                        if p.get("state") == "online":
                            online.set()
                    else:
                        acks.append(p)
            reader = asyncio.ensure_future(read())
            proc = start_runtime(profile, log=log)
            try:
                await asyncio.wait_for(online.wait(), 30)
                rng = random.Random(7)
                results, rtts = [], []
                for n, raw in enumerate(fuzz_payloads(rng)):
                    before = len(acks)
                    await c.publish(topics.cmd, raw, qos=1)
                    got_ack = await wait_until(lambda b=before: len(acks) > b, 10, 0.002)
                    assert got_ack, f"no ack for fuzz #{n} {raw[:60]!r}"
                    results.append((raw, acks[before]))
                    ok_id = f"ok-{n}"
                    t0, w0 = time.monotonic(), time.time()
                    await c.publish(topics.cmd, json.dumps(dict(VALID, id=ok_id)).encode(), qos=1)
                    assert await wait_until(lambda i=ok_id: any(a.get("id") == i for a in acks), 10, 0.001), ok_id
                    handled = next(a for a in acks if a.get("id") == ok_id)["ts"] - w0  # runtime's own clock
                    rtts.append((time.monotonic() - t0, handled))
                    assert proc.poll() is None, log.read_text()[-3000:]
            finally:
                alive = proc.poll() is None
                kill(proc)
                reader.cancel()
                await asyncio.gather(reader, return_exceptions=True)
        return results, rtts, alive

    results, rtts, alive = asyncio.run(go())
    assert alive, "the runtime died under fuzzed commands"
    rejected, first_answer = 0, {}
    for raw, ack in results:
        # a random mutation can still be a valid ping (e.g. a changed id): that one must be accepted;
        # a repeated id gets its first answer again (idempotent commands)
        cmd_id, valid = oracle(raw)
        expected = "accepted" if valid else "rejected"
        if cmd_id is not None:
            expected = first_answer.setdefault(cmd_id, expected)
        assert ack["result"] == expected, (raw[:80], ack)
        assert isinstance(ack["reason"], str) and ack["reason"], (raw[:80], ack)
        rejected += ack["result"] == "rejected"
    assert rejected >= 60
    rtts_ms = sorted(r * 1000 for r, _ in rtts)
    handled_ms = sorted(h * 1000 for _, h in rtts)
    print(f"\n{rejected} of {len(results)} fuzzed payloads rejected (the rest were valid pings); "
          "next valid command round trip (publish -> ack seen): "
          f"median {statistics.median(rtts_ms):.1f} ms, max {rtts_ms[-1]:.1f} ms; publish -> handled (ack ts): "
          f"median {statistics.median(handled_ms):.1f} ms, max {handled_ms[-1]:.1f} ms")
