"""The MQTT publisher against real Mosquitto brokers: retained status, last will, and an
outage (broker SIGKILLed and restarted) survived without crashing or presenting stale data."""
import asyncio
import json
import signal
import subprocess
import time

import aiomqtt
from cardiotune.edge.mqtt.publisher import MqttPublisher, Outgoing
from cardiotune.edge.mqtt.topics import DeviceTopics


def state_msg(topics, k, ttl=30.0):
    return Outgoing(topics.state, {"ts": time.time(), "ttl_s": ttl, "k": k}, qos=0)


async def _collect(port, topic, into, ready):
    async with aiomqtt.Client("127.0.0.1", port) as client:
        await client.subscribe(topic, qos=1)
        ready.set()
        async for m in client.messages:
            into.append((str(m.topic), json.loads(m.payload), m.retain))


async def _wait_for(cond, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        await asyncio.sleep(0.02)
    return False


def test_status_is_retained_online_then_offline(mosquitto, device_id):
    host, port = mosquitto
    topics = DeviceTopics(device_id)

    async def go():
        async with MqttPublisher(host, port, device_id, status_extra={"version": "x"}) as pub:
            assert await _wait_for(pub.connected.is_set, 5)
        got, ready = [], asyncio.Event()
        task = asyncio.ensure_future(_collect(port, topics.status, got, ready))
        await _wait_for(lambda: got, 5)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return got

    got = asyncio.run(go())
    topic, payload, retained = got[0]
    assert retained and payload["state"] == "offline" and payload["reason"] == "stopped"


def test_last_will_says_offline_when_the_process_dies(mosquitto, device_id):
    host, port = mosquitto
    code = (
        "import asyncio, time\n"
        "from cardiotune.edge.mqtt.publisher import MqttPublisher\n"
        "async def main():\n"
        f"    async with MqttPublisher({host!r}, {port}, {device_id!r}) as p:\n"
        "        await p.connected.wait(); print('up', flush=True); await asyncio.sleep(60)\n"
        "asyncio.run(main())\n"
    )
    import sys
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "up"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)

        async def read():
            got, ready = [], asyncio.Event()
            task = asyncio.ensure_future(_collect(port, DeviceTopics(device_id).status, got, ready))
            await _wait_for(lambda: any(p["state"] == "offline" for _, p, _ in got), 10)
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            return got
        got = asyncio.run(read())
    finally:
        if proc.poll() is None:
            proc.kill()
    assert got, "no status message retained"
    _, payload, retained = got[-1]
    assert retained and payload["state"] == "offline" and payload["reason"] == "connection lost"


def test_survives_broker_outage_and_resumes(private_broker, device_id, caplog):
    own_broker = private_broker
    own_broker.start()
    topics = DeviceTopics(device_id)

    async def go():
        got, ready = [], asyncio.Event()
        async with MqttPublisher("127.0.0.1", own_broker.port, device_id, backoff_max_s=0.5) as pub:
            sub = asyncio.ensure_future(_collect(own_broker.port, topics.state, got, ready))
            await ready.wait()
            assert await _wait_for(pub.connected.is_set, 5)
            for k in range(5):
                pub.offer(state_msg(topics, k))
            assert await _wait_for(lambda: len(got) >= 5, 5)
            own_broker.kill()
            assert await _wait_for(lambda: not pub.connected.is_set(), 5)
            for k in range(5, 10):  # produced during the outage: kept (their TTL has not passed)
                pub.offer(state_msg(topics, k))
            pub.offer(state_msg(topics, 99, ttl=0.001))  # stale by the time the broker returns
            await asyncio.sleep(1.0)
            sub.cancel()
            await asyncio.gather(sub, return_exceptions=True)
            own_broker.start()
            got2, ready2 = [], asyncio.Event()
            sub2 = asyncio.ensure_future(_collect(own_broker.port, topics.state, got2, ready2))
            await ready2.wait()
            t_back = time.monotonic()
            assert await _wait_for(pub.connected.is_set, 10), "publisher did not reconnect"
            reconnect_s = time.monotonic() - t_back
            pub.offer(state_msg(topics, 10))
            assert await _wait_for(lambda: any(p["k"] == 10 for _, p, _ in got2), 5)
            sub2.cancel()
            await asyncio.gather(sub2, return_exceptions=True)
            return got, got2, pub.stats, reconnect_s

    got, got2, stats, reconnect_s = asyncio.run(go())
    assert [p["k"] for _, p, _ in got][:5] == [0, 1, 2, 3, 4]
    ks = [p["k"] for _, p, _ in got2]
    assert 99 not in ks and ks[-1] == 10
    assert stats.connects >= 2 and stats.dropped_stale >= 1
    assert reconnect_s < 5  # backoff is capped at 0.5 s here; generous bound, not a benchmark
    assert any("unavailable" in r.message for r in caplog.records)
    assert any("is back" in r.message for r in caplog.records)


def test_flush_waits_for_the_first_connection_of_a_short_run(mosquitto, device_id):
    """A run that ends before its first (e.g. TLS) handshake completes still delivers: flush
    waits for the connection instead of reporting the broker unreachable at once."""
    host, port = mosquitto
    topics = DeviceTopics(device_id)

    async def go():
        async with MqttPublisher(host, port, device_id) as pub:
            pub.offer(state_msg(topics, 1))
            assert not pub.connected.is_set()  # nothing has connected yet
            delivered = await pub.flush(timeout_s=20.0)
            return delivered, pub.stats.published

    delivered, published = asyncio.run(go())
    assert delivered and published == 1


def test_flush_gives_up_early_once_the_broker_is_known_unreachable(device_id):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    topics = DeviceTopics(device_id)

    async def go():
        async with MqttPublisher("127.0.0.1", port, device_id, backoff_max_s=0.2) as pub:
            pub.offer(state_msg(topics, 1))
            t0 = time.monotonic()
            delivered = await pub.flush(timeout_s=60.0)
            return delivered, pub.unreachable, time.monotonic() - t0

    delivered, unreachable, waited = asyncio.run(go())
    assert not delivered and unreachable and waited < 60.0
