"""`cardiotune run --config <serial profile>` as a user runs it: the board simulator
(`cardiotune firmware simulate`) in one process, the runtime in another, the real broker.
Ctrl-C (SIGINT) or SIGTERM ends the live run cleanly: exit status 0, the summary printed
and written, the retained status on the broker says offline."""
from __future__ import annotations

import asyncio
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time

import pytest

pytest.importorskip("serial", reason="the serial extra (pyserial) is not installed")


def _cli(*args):
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return subprocess.Popen([sys.executable, "-m", "cardiotune", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=env)


def _lines(proc) -> queue.Queue[str]:
    """stdout lines on a queue (read by a thread), so every wait below has a timeout."""
    q: queue.Queue = queue.Queue()

    def pump():
        for line in proc.stdout:
            q.put(line)
        q.put(None)

    threading.Thread(target=pump, daemon=True).start()
    return q


def _wait_line(q, pred, timeout, seen):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = q.get(timeout=0.2)
        except queue.Empty:
            continue
        if line is None:
            raise AssertionError("the process ended early:\n" + "".join(seen))
        seen.append(line)
        if pred(line):
            return line
    raise AssertionError(f"no matching line within {timeout} s:\n" + "".join(seen))


async def _retained(host, port, device_id, topic):
    import aiomqtt

    async with aiomqtt.Client(host, port) as client:
        await client.subscribe(f"cardiotune/v1/{device_id}/{topic}", qos=1)
        async for m in client.messages:
            return json.loads(m.payload)


@pytest.mark.broker
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_run_serial_profile_until_a_signal(mosquitto, device_id, tmp_path, sig):
    host, port = mosquitto
    link = str(tmp_path / "ttyECG")
    profile = tmp_path / "serial.toml"
    profile.write_text(f"""
[device]
id = "{device_id}"
[source]
kind = "serial"
port = "{link}"
[ecg]
window_s = 8.0
calibration_s = 10.0
[mqtt]
broker = "mqtt://{host}:{port}"
metrics_interval_s = 0
""")
    summary = tmp_path / "summary.json"
    record = tmp_path / "live.xdf"
    sim = _cli("firmware", "simulate", "--link", link, "--seed", "5")
    run = None
    try:
        sim_seen: list = []
        _wait_line(_lines(sim), lambda s: s.startswith("link:"), 60, sim_seen)
        run = _cli("run", "--config", str(profile), "--summary", str(summary), "--plain", "--record", str(record))
        out = _lines(run)
        seen: list = []
        _wait_line(out, lambda s: s.startswith("waiting for data from serial"), 90, seen)
        _wait_line(out, lambda s: s.startswith("t=") and "live HR=" in s, 60, seen)  # the first state
        run.send_signal(sig)
        rc = run.wait(timeout=60)
        while True:
            line = out.get(timeout=10)
            if line is None:
                break
            seen.append(line)
    finally:
        for p in (run, sim):
            if p is not None and p.poll() is None:
                p.kill()
                p.wait()
    text = "".join(seen)
    assert rc == 0, text
    printed = json.loads(text[text.index("\n{") + 1:])  # the summary is the last thing printed
    assert printed == json.loads(summary.read_text())
    assert printed["states"] >= 1 and printed["source"]["kind"] == "serial"
    assert printed["source"]["stop_reason"] == sig.name
    assert "Traceback" not in text
    status = asyncio.run(asyncio.wait_for(_retained(host, port, device_id, "status"), 10))
    assert status["state"] == "offline"
    # the picks reached the broker before the exit (the last one is retained)
    assert printed["picks"] >= 1
    pick = asyncio.run(asyncio.wait_for(_retained(host, port, device_id, "pick"), 10))
    assert pick["seq"] == printed["picks"] - 1
    # the recording was closed: it reads back with every ECG sample of the run
    from cardiotune.edge.sources.files import load_recording

    assert printed["recording"]["error"] is None
    rec = load_recording(str(record))
    assert len(rec.ecg_mv) == round(printed["ecg_seconds"] * 250) and rec.fs == 250.0
