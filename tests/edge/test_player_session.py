"""The player's persistent session: picks published while it is away (not retained, QoS 1)
are delivered when a player with the same client id comes back."""
import asyncio
import json
import time

import aiomqtt
from cardiotune.edge.mqtt.topics import DeviceTopics
from cardiotune.edge.player_mqtt import PickPlayer


class Speaker:
    def __init__(self):
        self.played = []

    def play(self, pick):
        self.played.append(pick.pick_id)


def _pick(device, k):
    return json.dumps({"schema": "cardiotune.pick/1", "device": device, "seq": k, "ts": time.time(), "ttl_s": 60.0,
                       "pick_id": f"{device}-p{k}", "data_time": {"start": 0.0, "end": 20.0},
                       "track": {"id": f"t{k}", "title": "t", "valence": 0.1, "arousal": 0.2, "uri": "",
                                 "duration_s": 55.0},
                       "reason": {"trigger": "state-moved", "policy": "match", "text": "x"}}).encode()


def test_player_gets_picks_sent_while_it_was_away(mosquitto, device_id):
    host, port = mosquitto
    url = f"mqtt://{host}:{port}"
    topic = DeviceTopics(device_id).pick
    cid = "player-" + device_id

    async def go():
        first = Speaker()
        async with PickPlayer(url, device_id, first, client_id=cid) as p:
            await asyncio.wait_for(p.connected.wait(), 10)
        async with aiomqtt.Client(host, port) as pub:  # the device publishes while the player is away
            for k in range(3):
                await pub.publish(topic, _pick(device_id, k), qos=1)
        back = Speaker()
        async with PickPlayer(url, device_id, back, client_id=cid) as p:
            deadline = time.monotonic() + 10
            while len(back.played) < 3 and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
        other = Speaker()  # a different client id has no session: it gets nothing of that
        async with PickPlayer(url, device_id, other) as p:
            await asyncio.wait_for(p.connected.wait(), 10)
            await asyncio.sleep(0.5)
        return back.played, other.played

    back, other = asyncio.run(go())
    assert back == [f"{device_id}-p{k}" for k in range(3)]
    assert other == []
