"""The MPD backend against a real MPD (Debian's package, started here with a temporary
config, the null audio output and a temporary music folder) and the real Mosquitto:
picks are added and played, MPD's idle notifications become player events.

Skipped only when the mpd binary is not installed (tools/ensure_mpd.sh installs it; CI
runs it before the tests)."""
from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest
from cardiotune.edge.mpd_daemon import MpdDaemon
from cardiotune.edge.player_mpd import MpdOutput, parse_mpd_address
from cardiotune.edge.player_mqtt import PickPlayer
from player_helpers import EventListener, pick_payload, publish, write_clip

from cardiotune.errors import ConfigError

mpd2 = pytest.importorskip("mpd.asyncio", reason="python-mpd2 is the 'mpd' extra")


@pytest.fixture
def mpd_daemon(tmp_path):
    if shutil.which("mpd") is None:
        pytest.skip("mpd is not installed (run tools/ensure_mpd.sh)")
    music = tmp_path / "music"
    music.mkdir()
    write_clip(music / "short.wav", 1.5)
    write_clip(music / "long.wav", 30.0, freq=220.0)
    with MpdDaemon(music) as daemon:
        yield daemon


def test_parse_mpd_address():
    assert parse_mpd_address("unix:/run/mpd/socket") == ("/run/mpd/socket", None)
    assert parse_mpd_address("/run/mpd/socket") == ("/run/mpd/socket", None)
    assert parse_mpd_address("music.local:6601") == ("music.local", 6601)
    assert parse_mpd_address("music.local") == ("music.local", 6600)
    with pytest.raises(ConfigError, match="a port between 1 and 65535"):
        parse_mpd_address("h:0")
    with pytest.raises(ConfigError, match="host\\[:port\\]"):
        parse_mpd_address("h:x")


def test_mpd_plays_picks_and_reports_events(mosquitto, device_id, mpd_daemon):
    host, port = mosquitto
    music = mpd_daemon.music_dir
    pick_topic = f"cardiotune/v1/{device_id}/pick"

    async def external(cmd):  # someone else using MPD directly, like `mpc stop`
        client = mpd2.MPDClient()
        await client.connect(mpd_daemon.socket_path)
        await getattr(client, cmd)()
        client.disconnect()

    async def scenario():
        out = MpdOutput(mpd_daemon.address, crossfade_s=0)
        async with EventListener(port, device_id) as ev, \
                PickPlayer(f"mqtt://{host}:{port}", device_id, out, position_every_s=0.3) as player:
            await asyncio.wait_for(player.connected.wait(), 10)
            await out.wait_ready()
            await publish(port, pick_topic, pick_payload(device_id, "m-long", music / "long.wav", 30.0))
            started = await ev.wait_for("started", "m-long")
            assert started["backend"] == "mpd"
            pos = await ev.wait_for("position", "m-long")
            assert 0.0 <= pos["position_s"] < 30.0
            await publish(port, pick_topic, pick_payload(device_id, "m-short", music / "short.wav", 1.5))
            assert (await ev.wait_for("skipped", "m-long"))["reason"] == "replaced"
            await ev.wait_for("started", "m-short")
            ended = await ev.wait_for("ended", "m-short")
            assert ended["reason"] == "eof" and ended["position_s"] >= 1.0
            # a file MPD cannot open: MPD refuses it, the player says so
            await publish(port, pick_topic, pick_payload(device_id, "m-bad", music / "nope.wav", 3.0)
                          .replace(b"nope.wav", b"short.wav/nope"))
            err = await ev.wait_for("error", "m-bad")
            assert err["error"]
            # someone stops MPD behind our back: the pick is reported skipped, not ended
            await publish(port, pick_topic, pick_payload(device_id, "m-ext", music / "long.wav", 30.0))
            await ev.wait_for("started", "m-ext")
            await external("stop")
            ext = await ev.wait_for("skipped", "m-ext")
            assert ext["reason"] == "external"
            assert ev.kinds("m-long") == ["started", "skipped"]
            assert ev.kinds("m-short") == ["started", "ended"]
            assert ev.kinds("m-ext") == ["started", "skipped"]
        await publish(port, pick_topic, b"", retain=True)

    asyncio.run(asyncio.wait_for(scenario(), 120))  # a hang fails here, not at pytest's 600 s timeout


def test_cli_start_mpd_plays_a_catalog_pick(mosquitto, device_id, tmp_path):
    """`cardiotune player --start-mpd DIR --catalog INDEX` as a user runs it: the pick's URI is
    not a local file, so the player finds the file by track id in the catalog index."""
    import json
    import subprocess
    import sys

    import numpy as np
    from cardiotune.edge.catalog_index import INDEX_SCHEMA, content_hash

    if shutil.which("mpd") is None:
        pytest.skip("mpd is not installed (run tools/ensure_mpd.sh)")
    host, port = mosquitto
    music = tmp_path / "music"
    music.mkdir()
    clip = write_clip(music / "song.wav", 20.0)
    arrays = {"ids": np.array(["trk-1"]), "titles": np.array(["Song"]), "artists": np.array([""]),
              "uris": np.array([clip.as_uri()]), "va": np.zeros((1, 2), np.float32),
              "va_sd": np.zeros((1, 2), np.float32), "duration_s": np.array([20.0], np.float32),
              "embedding": np.zeros((1, 8), np.float32), "seg_track": np.zeros(0, np.int32),
              "seg_start_s": np.zeros(0, np.float32), "seg_va": np.zeros((0, 2), np.float32)}
    meta = {"schema": INDEX_SCHEMA, "content_sha256": content_hash(arrays), "models": ["t"]}
    np.savez(tmp_path / "index.npz", meta=np.frombuffer(json.dumps(meta).encode(), np.uint8), **arrays)
    proc = subprocess.Popen(
        [sys.executable, "-m", "cardiotune", "player", "--broker", f"mqtt://{host}:{port}", "--device-id",
         device_id, "--start-mpd", str(music), "--catalog", str(tmp_path / "index.npz")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if "listening for picks" in line:
                break
        assert "started a private MPD" in lines[0] and "(backend: mpd)" in lines[-1]
        mpd_socket = lines[0].split(" on ", 1)[1].split(" (music", 1)[0]
        payload = pick_payload(device_id, "c-1", clip, 20.0).replace(clip.as_uri().encode(), b"spotify:track:x")
        payload = payload.replace(b'"id": "song"', b'"id": "trk-1"')

        async def send_and_wait():
            async with EventListener(port, device_id) as ev:
                # retained: the player may not have subscribed yet when it printed "listening"
                await publish(port, f"cardiotune/v1/{device_id}/pick", payload, retain=True)
                return await ev.wait_for("started", "c-1")

        started = asyncio.run(send_and_wait())
        assert started["backend"] == "mpd" and started["track_id"] == "trk-1"
        for line in proc.stdout:
            if line.startswith("event:"):
                assert '"event": "started"' in line and '"trk-1"' in line
                break
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=20)
        asyncio.run(publish(port, f"cardiotune/v1/{device_id}/pick", b"", retain=True))
    assert "Traceback" not in err
    # SIGTERM stops the private MPD too: no orphaned daemon, its temporary folder is gone
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    conf = str(Path(mpd_socket).parent / "mpd.conf")
    assert conf not in ps and not Path(mpd_socket).parent.exists()
