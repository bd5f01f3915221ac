"""Picks survive a broker outage AND a process restart through the SQLite outbox."""
import asyncio
import json
import time

import aiomqtt
from cardiotune.edge.mqtt.outbox import Outbox
from cardiotune.edge.mqtt.publisher import MqttPublisher, Outgoing
from cardiotune.edge.mqtt.topics import DeviceTopics


def test_outbox_persists_rows_in_order_and_is_bounded(tmp_path):
    path = tmp_path / "o.db"
    box = Outbox(path, max_rows=3)
    for k in range(5):
        box.put("t", json.dumps({"k": k}).encode(), 1, True)
    assert box.dropped == 2
    box.close()
    again = Outbox(path)
    rows = again.pending()
    assert [json.loads(r.payload)["k"] for r in rows] == [2, 3, 4] and rows[0].retain
    again.delete(rows[0].id)
    assert len(again) == 2


def test_picks_offered_while_down_are_delivered_after_restart(tmp_path, device_id, private_broker):
    broker = private_broker
    topics = DeviceTopics(device_id)
    db = tmp_path / "outbox.db"

    async def go():
        # process 1: broker down the whole time; picks only reach the outbox
        async with MqttPublisher("127.0.0.1", broker.port, device_id, outbox=Outbox(db), backoff_max_s=0.2) as pub:
            for k in range(5):
                pub.offer(Outgoing(topics.pick, {"pick_id": f"p{k}", "ts": time.time(), "ttl_s": 60}, qos=1,
                                   retain=True))
            await asyncio.sleep(0.3)
            assert not pub.connected.is_set()
        broker.start()
        got = []
        async with aiomqtt.Client("127.0.0.1", broker.port) as client:
            await client.subscribe(topics.pick, qos=1)

            async def read():
                async for m in client.messages:
                    got.append(json.loads(m.payload)["pick_id"])
            reader = asyncio.ensure_future(read())
            # process 2 ("restarted"): same outbox file
            async with MqttPublisher("127.0.0.1", broker.port, device_id, outbox=Outbox(db)) as pub2:
                await pub2.connected.wait()
                assert await pub2.flush(5)
            deadline = time.monotonic() + 5
            while len(got) < 5 and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)
        return got

    got = asyncio.run(go())
    assert got == [f"p{k}" for k in range(5)]
    assert len(Outbox(db)) == 0
