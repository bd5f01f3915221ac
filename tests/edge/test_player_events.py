"""Player events from the null audio backend (the sound card's mixer clocked by a thread)
through the real Mosquitto: started, position, skipped (replaced), ended (eof and
ttl-expired), error; every event validated against player_event.schema.json."""
from __future__ import annotations

import asyncio

import numpy as np
import pytest
from cardiotune.edge.player import Crossfader
from cardiotune.edge.player_audio import NullOutput
from cardiotune.edge.player_events import make_event
from cardiotune.edge.player_mqtt import PickPlayer
from player_helpers import EventListener, pick_payload, publish, write_clip


def test_crossfader_reports_start_and_end_once():
    x = Crossfader(fade_frames=2)
    x.start(np.ones(5, dtype=np.float32), tag="a")
    assert x.drain_events() == [] and x.position() == ("a", 0)
    x.render(3)
    assert x.drain_events() == [("started", "a")] and x.position() == ("a", 3)
    x.start(np.ones(4, dtype=np.float32), tag="b")  # "a" replaced: no "ended" for it
    x.render(4)
    assert x.drain_events() == [("started", "b"), ("ended", "b")]
    assert x.position() == (None, 0)
    x.render(4)
    assert x.drain_events() == []


def test_make_event_rejects_unknown_kinds():
    with pytest.raises(ValueError, match="expected one of started, position, ended, skipped, error"):
        make_event("paused", None, device="d", player="p", backend="null", seq=0)


def test_null_backend_events_flow_back_over_mqtt(mosquitto, device_id, tmp_path):
    host, port = mosquitto
    pick_topic = f"cardiotune/v1/{device_id}/pick"
    short = write_clip(tmp_path / "short.wav", 1.0)
    long = write_clip(tmp_path / "long.wav", 30.0, freq=220.0)

    async def scenario():
        out = NullOutput()
        try:
            async with EventListener(port, device_id) as ev, \
                    PickPlayer(f"mqtt://{host}:{port}", device_id, out, position_every_s=0.3) as player:
                await asyncio.wait_for(player.connected.wait(), 10)
                await publish(port, pick_topic, pick_payload(device_id, "p-long", long, 30.0))
                started = await ev.wait_for("started", "p-long")
                assert started["backend"] == "null" and started["track_id"] == "long"
                pos = await ev.wait_for("position", "p-long")
                assert 0.0 <= pos["position_s"] < 30.0
                # a new pick while the long one plays: the long one is reported skipped
                await publish(port, pick_topic, pick_payload(device_id, "p-short", short, 1.0))
                skipped = await ev.wait_for("skipped", "p-long")
                assert skipped["reason"] == "replaced" and skipped["position_s"] >= pos["position_s"]
                await ev.wait_for("started", "p-short")
                ended = await ev.wait_for("ended", "p-short")
                assert ended["reason"] == "eof"
                # a file that does not exist: an error event naming it; what plays goes on playing
                await publish(port, pick_topic, pick_payload(device_id, "p-long2", long, 30.0))
                await ev.wait_for("started", "p-long2")
                await publish(port, pick_topic, pick_payload(device_id, "p-gone", tmp_path / "gone.wav", 5.0))
                err = await ev.wait_for("error", "p-gone")
                assert "gone.wav does not exist" in err["error"]
                assert out.position()[0].pick_id == "p-long2"
                # still playing when its TTL passes: stopped and reported (3 s: a loaded CI machine may
                # take over a second to deliver the pick, which would make a shorter TTL stale on arrival)
                await publish(port, pick_topic, pick_payload(device_id, "p-ttl", long, 30.0, ttl_s=3.0))
                await ev.wait_for("started", "p-ttl")
                ttl = await ev.wait_for("ended", "p-ttl")
                assert ttl["reason"] == "ttl-expired"
                assert ev.kinds("p-long") == ["started", "skipped"]
                assert ev.kinds("p-short") == ["started", "ended"]
                assert ev.kinds("p-long2") == ["started", "skipped"]  # replaced by p-ttl, not by p-gone
                seqs = [e["seq"] for e in ev.events]
                assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
                assert player.counts["events_dropped"] == 0
            await publish(port, pick_topic, b"", retain=True)
        finally:
            out.close()

    asyncio.run(scenario())
