"""Player events over the real broker: a position report near the end of the track brings
the next pick ahead of time; a skip chooses again and is never the same track; the
feedback command does the same through cmd/ack. Picks validate against the schema."""
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


def player(**kw):
    return json.dumps({"schema": "cardiotune.player/1", **kw}).encode()


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
                await client.publish(topics.player, player(event="position", track_id=cur, position_s=100.0), qos=1)
                await client.publish(topics.player, b"\xff not json", qos=1)  # logged and counted, no crash
                await client.publish(topics.player, player(event="position", track_id=cur, position_s=295.0),
                                     qos=1)
                ending = await wait_for(2)
                await client.publish(topics.player, player(event="skip", track_id=ending["track"]["id"]), qos=1)
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


def test_player_reports_its_position_in_the_format_the_device_reads(mosquitto, device_id):
    from cardiotune.edge.player_audio import PrintOutput
    from cardiotune.edge.player_events import PlayerEventHandler
    from cardiotune.edge.player_mqtt import PickPlayer
    from cardiotune.edge.recommender import NearestRecommender

    host, port = mosquitto
    topics = DeviceTopics(device_id)
    now = {"t": 1000.0}
    pick = {"schema": "cardiotune.pick/1", "device": device_id, "seq": 0, "ts": None, "ttl_s": 30.0,
            "pick_id": "p1", "data_time": {"start": 0.0, "end": 20.0},
            "track": {"id": "t3", "title": "x", "valence": 0.6, "arousal": -0.6, "uri": "file:///none.wav",
                      "duration_s": 30.0},
            "reason": {"trigger": "first", "policy": "match", "target": {"valence": 0.6, "arousal": -0.6},
                       "state": {"valence": 0.6, "arousal": -0.6, "status": "valid"}, "distance": 0.0,
                       "runners_up": [], "text": "t"}}

    async def go():
        events = []
        async with aiomqtt.Client(host, port) as client:
            await client.subscribe(topics.player, qos=1)

            async def read():
                async for m in client.messages:
                    events.append(bytes(m.payload))
            reader = asyncio.ensure_future(read())
            async with PickPlayer(f"mqtt://{host}:{port}", device_id, PrintOutput(), clock=lambda: now["t"],
                                  report_every_s=0.05) as player:
                await asyncio.wait_for(player.connected.wait(), 10)
                pick["ts"] = now["t"]
                await client.publish(topics.pick, json.dumps(pick).encode(), qos=1)
                while player.playing is None:
                    await asyncio.sleep(0.02)
                now["t"] += 22.5
                while not any(b'"position_s": 22.5' in e for e in events):
                    await asyncio.sleep(0.02)
                now["t"] += 100.0  # past the end: no more reports
                await asyncio.sleep(0.15)  # a report in flight may still land
                n = player.reports
                await asyncio.sleep(0.3)
                assert player.reports == n
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)
        return events

    events = [e for e in asyncio.run(go()) if b'"position_s": 22.5' in e]
    ev = json.loads(events[0])
    assert ev == {"schema": "cardiotune.player/1", "event": "position", "track_id": "t3", "position_s": 22.5,
                  "duration_s": 30.0}
    rec = NearestRecommender(TRACKS, min_dwell_s=1000.0, no_repeat=0)
    from cardiotune.edge.smoothing import SmoothedVa
    assert rec.update(SmoothedVa(0.0, 0.6, -0.6, 0.1, 0.1, "valid", 0.0)).track.id == "t3"
    assert PlayerEventHandler(rec).handle(events[0]) == (True, "next pick due")  # 7.5 s left < ahead_s
