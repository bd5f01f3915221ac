"""Player events over the real broker (player/event, cardiotune.player-event/1): a position
report near the end of the track brings the next pick ahead of time; a listener's skip
chooses again and is never the same track; the feedback command does the same through
cmd/ack. Picks validate against the schema."""
import asyncio
import json
from pathlib import Path

import aiomqtt
import jsonschema
from cardiotune.edge.estimator import OnnxVaEstimator
from cardiotune.edge.fused_pipeline import FusedPipeline
from cardiotune.edge.mqtt.publisher import MqttPublisher
from cardiotune.edge.mqtt.topics import DeviceTopics
from cardiotune.edge.pipeline import PipelineConfig
from cardiotune.edge.runtime import run_chain
from cardiotune.edge.session import load_session
from cardiotune.edge.sources.replay import ReplaySource


class T:
    def __init__(self, i, v, a):
        self.id, self.title, self.valence, self.arousal, self.duration_s, self.uri = f"t{i}", "t", v, a, 300.0, ""


POINTS = [(-0.6, -0.6), (0.6, 0.7), (0, 0), (0.6, -0.6), (-0.6, 0.6), (0.3, 0.3), (-0.3, 0.0), (0.0, -0.3)]
TRACKS = [T(i, v, a) for i, (v, a) in enumerate(POINTS)]
SCHEMAS = Path(__file__).resolve().parents[2] / "edge" / "mqtt" / "schemas"


def player(event, track_id, position_s=0.0, reason=""):
    """An event as `cardiotune player` publishes it (cardiotune.player-event/1)."""
    return json.dumps({"schema": "cardiotune.player-event/1", "device": "d", "player": "p", "backend": "null",
                       "seq": 1, "ts": 0.0, "event": event, "pick_id": "x", "track_id": track_id,
                       "position_s": position_s, "duration_s": 300.0, "reason": reason, "error": None}).encode()


def test_position_skip_and_feedback_command_over_mqtt(mosquitto, device_id):
    host, port = mosquitto
    topics = DeviceTopics(device_id)
    session = load_session("builtin:demo")

    async def go():
        picks, acks = [], []
        async with aiomqtt.Client(host, port) as client:
            await client.subscribe(topics.pick, qos=1)
            await client.subscribe(topics.ack, qos=1)

            async def read():
                async for m in client.messages:
                    (acks if str(m.topic) == topics.ack else picks).append(json.loads(m.payload))
            reader = asyncio.ensure_future(read())

            async def wait_for(n):
                while len(picks) < n:
                    await asyncio.sleep(0.02)
                return picks[-1]

            async with MqttPublisher(host, port, device_id) as pub:
                await pub.connected.wait()
                # long dwell and long tracks: only our events can make it pick again
                pipe = FusedPipeline(session.fs, OnnxVaEstimator(), TRACKS,
                                     PipelineConfig(min_dwell_s=1000.0, no_repeat=2))
                chain = asyncio.ensure_future(run_chain(ReplaySource(session, speed=15.0, duration_s=150), pipe,
                                                        pub, device_id))
                first = await wait_for(1)
                cur = first["track"]["id"]
                await client.publish(topics.player_event, player("position", cur, 100.0), qos=1)
                await client.publish(topics.player_event, b"\xff not json", qos=1)  # logged and counted, no crash
                await client.publish(topics.player_event, player("position", cur, 295.0), qos=1)
                ending = await wait_for(2)
                await client.publish(topics.player_event, player("skipped", ending["track"]["id"], 3.0, "external"),
                                     qos=1)
                skipped = await wait_for(3)
                cmd = {"schema": "cardiotune.cmd/1", "id": "fb-1", "cmd": "feedback", "args": {"kind": "skip"}}
                await client.publish(topics.cmd, json.dumps(cmd).encode(), qos=1)
                again = await wait_for(4)
                chain.cancel()
                await asyncio.gather(chain, return_exceptions=True)
                await pub.flush(5)
            await asyncio.sleep(0.2)
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)
        return first, ending, skipped, again, picks, acks

    first, ending, skipped, again, picks, acks = asyncio.run(go())
    assert first["reason"]["trigger"] == "first"
    assert ending["reason"]["trigger"] == "track-ending" and ending["track"]["id"] != first["track"]["id"]
    assert skipped["reason"]["trigger"] == "skipped" and skipped["track"]["id"] != ending["track"]["id"]
    assert again["reason"]["trigger"] == "skipped" and again["track"]["id"] != skipped["track"]["id"]
    assert acks and acks[0]["result"] == "accepted" and acks[0]["id"] == "fb-1"
    assert len(picks) == 4  # nothing else re-picked
    schema = json.loads((SCHEMAS / "pick.schema.json").read_text())
    for p in picks:
        jsonschema.validate(p, schema)
        assert len(p["reason"]["runners_up"]) == 2 and p["reason"]["basis"]["modalities"]["ecg"]["weight"][0] > 0

