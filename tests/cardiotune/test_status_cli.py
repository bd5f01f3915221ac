"""`cardiotune status` reads the retained status and metrics a real `cardiotune run` left
on the real broker; the metrics message follows its JSON Schema."""
import asyncio
import json
import subprocess
import sys
from pathlib import Path

import aiomqtt
import jsonschema

SCHEMAS = Path(__file__).resolve().parents[2] / "edge" / "mqtt" / "schemas"


async def _retained(host, port, pattern, n):
    got = {}
    async with aiomqtt.Client(host, port) as c:
        await c.subscribe(pattern, qos=1)

        async def read():
            async for m in c.messages:
                got[str(m.topic)] = json.loads(m.payload)
                if len(got) == n:
                    return
        try:
            await asyncio.wait_for(read(), 5)
        finally:
            for topic in got:  # remove them from the shared broker
                await c.publish(topic, b"", qos=1, retain=True)
    return got


def _cli(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "cardiotune", *args], capture_output=True, text=True,
                          timeout=timeout)


def test_status_shows_metrics_of_a_run(mosquitto, tmp_path, device_id):
    host, port = mosquitto
    profile = tmp_path / "p.toml"
    prefix = "hatest" + device_id  # private discovery prefix, cleaned up below
    profile.write_text(f"""
[device]
id = "{device_id}"
[source]
speed = 40.0
duration_s = 120
[mqtt]
broker = "mqtt://{host}:{port}"
metrics_interval_s = 0.5
ha_discovery = true
ha_prefix = "{prefix}"
[ui]
live = false
""")
    run = _cli("run", "--config", str(profile), "--plain", "--record", str(tmp_path / "r.xdf"))
    assert run.returncode == 0, run.stderr[-3000:]
    res = _cli("status", "--broker", f"mqtt://{host}:{port}", "--device-id", device_id, "--json", timeout=30)
    assert res.returncode == 0, res.stderr
    got = json.loads(res.stdout)
    status, metrics = got["status"], got["metrics"]
    for name, doc in (("status", status), ("metrics", metrics)):
        jsonschema.Draft202012Validator(json.loads((SCHEMAS / f"{name}.schema.json").read_text())).validate(doc)
    assert status["state"] == "offline" and status["reason"] == "stopped"  # the run ended cleanly
    assert status["providers"] == ["CPUExecutionProvider"]  # onnxruntime's providers in use, kept when offline
    lat = metrics["latency"]
    assert lat["pipeline"]["count"] > 100 and lat["sample_to_state_publish"]["count"] > 10
    assert lat["sample_to_state_publish"]["p99_ms"] >= lat["sample_to_state_publish"]["p50_ms"] > 0
    assert {"source_queue", "publish_queue", "outbox"} <= set(metrics["queues"])
    assert metrics["counters"]["dropped_overflow"] == 0 and metrics["counters"]["mqtt_connects"] >= 1
    assert metrics["recording"]["state"] == "recording"

    table = _cli("status", "--broker", f"mqtt://{host}:{port}", "--device-id", device_id, timeout=30)
    assert table.returncode == 0, table.stderr
    for text in ("offline", "CPUExecutionProvider", "sample_to_state_publish", "p99", "dropped_overflow",
                 "recording"):
        assert text in table.stdout, (text, table.stdout)
    # the run also announced itself to Home Assistant (retained discovery configs)
    configs = asyncio.run(_retained(host, port, f"{prefix}/sensor/#", 4))
    assert sorted(t.split("/")[-2] for t in configs) == ["arousal", "heart_rate", "signal_quality", "valence"]
    assert all(c["availability_topic"] == f"cardiotune/v1/{device_id}/status" for c in configs.values())


def test_status_of_an_unknown_device_says_so(mosquitto, device_id):
    host, port = mosquitto
    res = _cli("status", "--broker", f"mqtt://{host}:{port}", "--device-id", device_id, "--timeout", "1",
               timeout=30)
    assert res.returncode == 1 and "unknown" in res.stdout
    bad = _cli("status", "--broker", "http://x", "--device-id", device_id, timeout=30)
    assert bad.returncode == 2 and "mqtts://" in bad.stderr
