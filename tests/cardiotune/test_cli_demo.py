"""The real CLI as a user runs it: `cardiotune demo` in a subprocess, a real subscriber on
the real broker validating every message against the published JSON Schemas."""
import asyncio
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import aiomqtt
import jsonschema
import pytest

SCHEMAS = Path(__file__).resolve().parents[2] / "edge" / "mqtt" / "schemas"


def validators():
    return {name: jsonschema.Draft202012Validator(json.loads((SCHEMAS / f"{name}.schema.json").read_text()))
            for name in ("status", "state", "pick", "metrics")}


STUCK_AFTER_S = 240.0  # every demo here ends in well under a minute


def stuck_report(proc) -> str:
    """Ask a stuck process where its asyncio tasks wait (SIGUSR1, edge.diagnostics), then end it."""
    import signal

    proc.send_signal(signal.SIGUSR1)
    time.sleep(2.0)
    proc.kill()
    out, err = proc.communicate(timeout=30)
    return err[-20000:]


def cli(*args, **kw):
    return subprocess.Popen([sys.executable, "-m", "cardiotune", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kw)


async def subscribe_during(port, device, proc, settle_s=1.0, first_line=None):
    msgs = []
    async with aiomqtt.Client("127.0.0.1", port) as client:
        await client.subscribe(f"cardiotune/v1/{device}/#", qos=1)
        if first_line is not None:
            first_line.set()

        async def reader():
            async for m in client.messages:
                msgs.append((str(m.topic).rsplit("/", 1)[1], json.loads(m.payload), m.retain))
        task = asyncio.ensure_future(reader())
        deadline = time.monotonic() + STUCK_AFTER_S
        while proc.poll() is None and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        if proc.poll() is None:
            raise AssertionError("the demo did not exit:\n" + stuck_report(getattr(proc, "real", proc)))
        await asyncio.sleep(settle_s)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    return msgs


def run_demo_with_subscriber(port, device, *args):
    async def go():
        ready = asyncio.Event()
        holder = {}

        async def start_when_ready():
            await ready.wait()
            holder["proc"] = cli("demo", "--broker", f"mqtt://127.0.0.1:{port}", "--device-id", device, "--plain",
                                 *args)
        # subscribe first so nothing is missed; the process starts once the subscription is live
        proc_starter = asyncio.ensure_future(start_when_ready())

        class Lazy:
            def poll(self):
                return holder["proc"].poll() if "proc" in holder else None

            @property
            def real(self):
                return holder["proc"]
        msgs = await subscribe_during(port, device, Lazy(), first_line=ready)
        await proc_starter
        return holder["proc"], msgs
    return asyncio.run(go())


def test_demo_publishes_valid_status_state_and_picks(mosquitto, device_id, tmp_path):
    _, port = mosquitto
    summary_path = tmp_path / "summary.json"
    proc, msgs = run_demo_with_subscriber(port, device_id, "--speed", "max", "--summary", str(summary_path))
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    v = validators()
    for kind, payload, _ in msgs:
        v[kind].validate(payload)  # raises with the offending field
    states = [p for k, p, _ in msgs if k == "state"]
    picks = [p for k, p, _ in msgs if k == "pick"]
    status = [p for k, p, _ in msgs if k == "status"]
    assert status[0]["state"] == "online" and status[-1]["state"] == "offline"
    assert len(states) >= 690, len(states)  # one per second of the 12-minute session after the first window
    assert [s["seq"] for s in states] == list(range(len(states)))
    ends = [s["data_time"]["end"] for s in states]
    assert all(abs(b - a - 1.0) < 1e-6 for a, b in zip(ends, ends[1:]))  # >= 1 Hz of session time
    assert {s["status"] for s in states} <= {"valid", "questionable", "not-available"}
    assert len(picks) >= 10 and len({p["pick_id"] for p in picks}) == len(picks)
    stress_picks = [p for p in picks if 270 <= p["data_time"]["end"] < 480]
    rest_picks = [p for p in picks if p["data_time"]["end"] < 240]
    assert min(p["track"]["arousal"] for p in stress_picks) > max(p["track"]["arousal"] for p in rest_picks)
    summary = json.loads(summary_path.read_text())
    assert summary["arousal_pearson_r"] >= 0.8 and summary["dropped_overflow"] == 0


def test_real_time_and_max_speed_publish_identical_values(mosquitto, device_id):
    _, port = mosquitto

    def values(speed):
        proc, msgs = run_demo_with_subscriber(port, device_id + speed.replace(".", ""), "--speed", speed,
                                              "--duration", "24")
        proc.communicate(timeout=120)
        assert proc.returncode == 0
        return [(p["data_time"], p["valence"], p["arousal"], p["status"]) for k, p, _ in msgs if k == "state"]

    t0 = time.monotonic()
    real_time = values("1")
    assert time.monotonic() - t0 >= 20  # it really was paced at 1x
    assert len(real_time) >= 4
    assert real_time == values("max")


def test_demo_without_broker_starts_an_embedded_one(device_id):
    pytest.importorskip("amqtt", reason="the embedded broker needs the demo extra (Python >= 3.10)")
    proc = cli("demo", "--speed", "20", "--duration", "80", "--plain", "--device-id", device_id)
    line = proc.stdout.readline()
    match = re.search(r"mqtt://127\.0\.0\.1:(\d+)", line)
    assert match, line
    msgs = asyncio.run(subscribe_during(int(match.group(1)), device_id, proc, settle_s=0))
    proc.communicate(timeout=60)
    assert proc.returncode == 0
    assert any(k == "status" and p["state"] == "online" for k, p, _ in msgs)
    assert sum(1 for k, _, _ in msgs if k == "state") >= 20


def test_bad_config_is_rejected_before_anything_starts(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[source]\nspeed = 0\n')
    proc = cli("run", "--config", str(bad))
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert "source.speed" in err and "got 0" in err and "expected a number > 0" in err
    assert "Traceback" not in err and out == ""


def test_bad_speed_argument_names_the_value():
    proc = cli("demo", "--speed", "fast")
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2 and "speed 'fast'" in err


def test_demo_picks_from_a_catalog_index(mosquitto, device_id, tmp_path):
    """`demo --catalog INDEX`: every pick is a track of that index (made here with numpy)."""
    import numpy as np
    from cardiotune.edge.catalog_index import INDEX_SCHEMA, content_hash

    n = 6
    va = np.array([[-0.8, -0.8], [0.8, -0.8], [-0.8, 0.8], [0.8, 0.8], [0.0, 0.0], [0.2, -0.6]], np.float32)
    arrays = {"ids": np.array([f"mine-{i}" for i in range(n)]), "titles": np.array([f"Mine {i}" for i in range(n)]),
              "artists": np.array([""] * n), "uris": np.array([f"file:///music/{i}.flac" for i in range(n)]),
              "va": va, "va_sd": np.full((n, 2), 0.3, np.float32), "duration_s": np.full(n, 30.0, np.float32),
              "embedding": np.zeros((n, 8), np.float32), "seg_track": np.zeros(0, np.int32),
              "seg_start_s": np.zeros(0, np.float32), "seg_va": np.zeros((0, 2), np.float32)}
    meta = {"schema": INDEX_SCHEMA, "content_sha256": content_hash(arrays), "models": ["test"]}
    np.savez(tmp_path / "i.npz", meta=np.frombuffer(json.dumps(meta).encode(), np.uint8), **arrays)
    _, port = mosquitto
    proc, msgs = run_demo_with_subscriber(port, device_id, "--speed", "max", "--duration", "240",
                                          "--catalog", str(tmp_path / "i.npz"))
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "catalog " + str(tmp_path / "i.npz") + ": 6 tracks (test)" in out
    picks = [p for k, p, _ in msgs if k == "pick"]
    assert picks and all(p["track"]["id"].startswith("mine-") for p in picks)


def test_sigusr1_logs_where_every_asyncio_task_waits(mosquitto, device_id):
    """The diagnostic the stuck-process report above relies on: a running demo answers SIGUSR1
    with the stack of each asyncio task (Mosquitto: the embedded broker needs Python >= 3.10)."""
    host, port = mosquitto
    proc = cli("demo", "--speed", "1", "--plain", "--broker", f"mqtt://{host}:{port}", "--device-id", device_id)

    async def online():  # the run is under way (and its SIGUSR1 handler installed) once it says so
        async with aiomqtt.Client(host, port) as client:
            await client.subscribe(f"cardiotune/v1/{device_id}/status", qos=1)
            async for m in client.messages:
                if json.loads(m.payload).get("state") == "online":
                    return

    asyncio.run(asyncio.wait_for(online(), 120))
    time.sleep(1.0)  # the replay is running by now, at 1x it lasts 12 minutes
    report = stuck_report(proc)
    assert "asyncio tasks" in report and "run_app" in report and "run_chain" in report, report[-3000:]
