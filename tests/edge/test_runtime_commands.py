"""A command sent over the real broker changes the running policy and is acknowledged."""
import asyncio
import json

import aiomqtt
from cardiotune.edge.estimator import OnnxVaEstimator
from cardiotune.edge.mqtt.publisher import MqttPublisher
from cardiotune.edge.mqtt.topics import DeviceTopics
from cardiotune.edge.pipeline import Pipeline
from cardiotune.edge.runtime import run_chain
from cardiotune.edge.session import load_session
from cardiotune.edge.sources.replay import ReplaySource


class T:
    def __init__(self, i, v, a):
        self.id, self.title, self.valence, self.arousal, self.duration_s, self.uri = f"t{i}", "t", v, a, 60.0, ""


POINTS = [(-0.6, -0.6), (0.6, 0.7), (0, 0), (0.6, -0.6), (-0.6, 0.6), (0.3, 0.3)]
TRACKS = [T(i, v, a) for i, (v, a) in enumerate(POINTS)]


def test_set_policy_over_mqtt_is_acked_and_applied(mosquitto, device_id):
    host, port = mosquitto
    topics = DeviceTopics(device_id)
    session = load_session("builtin:demo")

    async def go():
        acks, picks = [], []
        async with aiomqtt.Client(host, port) as client:
            await client.subscribe(topics.ack, qos=1)
            await client.subscribe(topics.pick, qos=1)

            async def read():
                async for m in client.messages:
                    (acks if str(m.topic) == topics.ack else picks).append(json.loads(m.payload))
            reader = asyncio.ensure_future(read())
            async with MqttPublisher(host, port, device_id) as pub:
                await pub.connected.wait()
                pipe = Pipeline(session.fs, OnnxVaEstimator(), TRACKS)
                chain = asyncio.ensure_future(run_chain(ReplaySource(session, speed=20.0, duration_s=200), pipe,
                                                        pub, device_id))
                while not picks:
                    await asyncio.sleep(0.05)
                body = {"schema": "cardiotune.cmd/1", "id": "k1", "cmd": "set_policy",
                        "args": {"policy": "steer", "goal": "energise", "ramp_s": 30}}
                for raw in (b"\xff garbage", json.dumps(body).encode(), json.dumps(body).encode()):
                    await client.publish(topics.cmd, raw, qos=1)
                await chain
                await pub.flush(5)
            await asyncio.sleep(0.3)
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)
        return acks, picks

    acks, picks = asyncio.run(go())
    assert [a["result"] for a in acks] == ["rejected", "accepted", "accepted"]
    assert acks[2].get("duplicate") is True
    changed = [p for p in picks if p["reason"]["trigger"] == "policy-changed"]
    assert len(changed) == 1 and changed[0]["reason"]["policy"] == "steer"
    assert picks[-1]["reason"]["target"]["arousal"] == 0.7  # reached the energise goal after the 30 s ramp
