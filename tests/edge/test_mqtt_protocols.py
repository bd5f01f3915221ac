"""MQTT 5 (message expiry on states, session expiry) against Mosquitto, 3.1.1 against the
embedded amqtt broker ("auto" falls back), and persistent sessions: QoS 1 picks queued at
the broker while a subscriber is away are delivered when it comes back."""
import asyncio
import json
import time

import aiomqtt
import pytest
from cardiotune.edge.broker import EmbeddedBroker
from cardiotune.edge.mqtt.connection import MqttSettings, client_kwargs
from cardiotune.edge.mqtt.publisher import MqttPublisher, Outgoing
from cardiotune.edge.mqtt.topics import DeviceTopics


async def _wait(cond, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not cond():
        await asyncio.sleep(0.02)
    return cond()


async def _first(client, timeout=10.0):
    async def read():
        async for m in client.messages:
            return m
    return await asyncio.wait_for(read(), timeout)


def test_mqtt5_state_carries_message_expiry(mosquitto, device_id):
    host, port = mosquitto
    topics = DeviceTopics(device_id)
    settings = MqttSettings(host=host, port=port, protocol="auto")

    async def go():
        async with aiomqtt.Client(**client_kwargs(settings, "sub-" + device_id, persistent=False,
                                                  protocol="5")) as sub:
            await sub.subscribe(topics.state, qos=1)
            async with MqttPublisher(host, port, device_id, settings=settings) as pub:
                assert await _wait(pub.connected.is_set, 10)
                pub.offer(Outgoing(topics.state, {"ts": time.time(), "ttl_s": 7.0, "k": 1}))
                m = await _first(sub)
                return pub.protocol, m

    protocol, m = asyncio.run(go())
    assert protocol == "5"
    assert json.loads(m.payload)["k"] == 1
    # the broker forwards the remaining lifetime: at most the 7 s TTL, and not already gone
    assert 1 <= m.properties.MessageExpiryInterval <= 7


def test_auto_falls_back_to_3_1_1_on_the_embedded_amqtt_broker(device_id):
    pytest.importorskip("amqtt", reason="the embedded broker needs the demo extra (Python >= 3.10)")
    topics = DeviceTopics(device_id)

    async def go():
        async with EmbeddedBroker() as broker:
            settings = MqttSettings(host=broker.host, port=broker.port, protocol="auto")
            async with MqttPublisher(broker.host, broker.port, device_id, settings=settings,
                                     backoff_initial_s=0.05) as pub:
                assert await _wait(pub.connected.is_set, 15), "no connection to amqtt in 'auto' mode"
                async with aiomqtt.Client(**client_kwargs(settings, "sub-" + device_id, persistent=False,
                                                          protocol="3.1.1")) as sub:
                    await sub.subscribe(topics.state, qos=1)
                    pub.offer(Outgoing(topics.state, {"ts": time.time(), "ttl_s": 30.0, "k": 2}))
                    m = await _first(sub)
                return pub.protocol, json.loads(m.payload)

    protocol, payload = asyncio.run(go())
    assert protocol == "3.1.1" and payload["k"] == 2


@pytest.mark.parametrize("protocol", ["5", "3.1.1"])
def test_persistent_subscriber_gets_picks_queued_while_away(mosquitto, device_id, protocol):
    host, port = mosquitto
    topics = DeviceTopics(device_id)
    settings = MqttSettings(host=host, port=port, protocol=protocol)
    sub_kw = client_kwargs(settings, "player-" + device_id, persistent=True)

    async def go():
        async with aiomqtt.Client(**sub_kw) as sub:  # first visit: the broker records the subscription
            await sub.subscribe(topics.pick, qos=1)
        async with MqttPublisher(host, port, device_id, settings=settings) as pub:
            assert await _wait(pub.connected.is_set, 10)
            for k in range(5):  # non-retained so only the session queue can deliver them all
                pub.offer(Outgoing(topics.pick, {"pick_id": f"p{k}", "ts": time.time(), "ttl_s": 60}, qos=1))
            assert await pub.flush(5.0)
        got = []
        async with aiomqtt.Client(**sub_kw) as sub:  # back: no new subscribe needed

            async def read():
                async for m in sub.messages:
                    got.append(json.loads(m.payload)["pick_id"])
                    if len(got) == 5:
                        return
            await asyncio.wait_for(read(), 10)
        async with aiomqtt.Client(**client_kwargs(settings, "player-" + device_id, persistent=False)):
            pass  # clean the session up on the shared broker
        return got

    assert asyncio.run(go()) == [f"p{k}" for k in range(5)]
