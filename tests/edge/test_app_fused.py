"""The assembled runtime from config on the real broker: the per-user baseline is stored
after the first run and used from the first window of the next; the policy comes from
config; a missing voice model is reported in the status message; our own recording
replays through the XDF reader."""
import asyncio
import json
from pathlib import Path

import jsonschema
import numpy as np
import pytest
from cardiotune.edge.app import run_app
from cardiotune.edge.config import config_from_dict
from cardiotune.edge.session import load_session
from cardiotune.edge.sources.files import load_recording
from cardiotune.edge.sources.microphone import input_device_problem

from cardiotune.errors import ConfigError


class T:
    def __init__(self, i, v, a):
        self.id, self.title, self.valence, self.arousal, self.duration_s, self.uri = f"t{i}", "t", v, a, 30.0, ""


TRACKS = [T(i, v, a) for i, (v, a) in enumerate([(-0.5, -0.5), (0.5, 0.5), (0, 0), (0.5, -0.5), (-0.5, 0.5)])]


def config(host, port, device_id, tmp_path, **extra):
    d = {"device": {"id": device_id}, "mqtt": {"broker": f"mqtt://{host}:{port}"}, "ui": {"live": False},
         "source": {"speed": "max", "duration_s": 150}, "ecg": {"calibration_s": 100},
         "calibration": {"user": "ann", "data_dir": str(tmp_path)}}
    for k, v in extra.items():
        d.setdefault(k, {}).update(v)
    return config_from_dict(d)


def run(cfg, host, port, device_id, record=None):
    import aiomqtt

    async def go():
        msgs = []
        async with aiomqtt.Client(host, port) as client:
            await client.subscribe(f"cardiotune/v1/{device_id}/#", qos=1)

            async def read():
                async for m in client.messages:
                    msgs.append((str(m.topic).rsplit("/", 1)[1], json.loads(m.payload)))
            reader = asyncio.ensure_future(read())
            result = await run_app(cfg, live_ui=False, catalog=TRACKS, record_path=record)
            await asyncio.sleep(0.3)
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)
        return result, msgs

    return asyncio.run(go())


@pytest.mark.broker
def test_baseline_is_stored_then_reused_and_policy_and_voice_status_come_from_config(mosquitto, device_id, tmp_path):
    host, port = mosquitto
    first, msgs = run(config(host, port, device_id, tmp_path), host, port, device_id, record=tmp_path / "r.xdf")
    cal = first.summary["calibration"]
    assert cal["stored"] is False and cal["saved_to"] == str(tmp_path / "users" / "ann.json")
    states = [p for k, p in msgs if k == "state"]
    assert not states[0]["calibrated"] and states[-1]["calibrated"]
    status = [p for k, p in msgs if k == "status" and p["state"] == "online"][0]
    schemas = Path(__file__).resolve().parents[2] / "edge" / "mqtt" / "schemas"
    for kind, payload in msgs:
        jsonschema.validate(payload, json.loads((schemas / f"{kind}.schema.json").read_text()))
    assert status["voice"]["status"] == "not-available" and "voice.manifest" in status["voice"]["reason"]
    assert all(s["modalities"]["voice"]["status"] == "not-available" for s in states)

    dev2 = device_id + "b"  # the first run's retained pick must not count as this run's
    second, msgs = run(config(host, port, dev2, tmp_path, policy={"name": "steer", "goal": [0.5, -0.5],
                                                                  "ramp_s": 20}),
                       host, port, dev2)
    assert second.summary["calibration"]["stored"] is True
    assert second.summary["calibration"]["baseline"] == cal["baseline"]
    states = [p for k, p in msgs if k == "state"]
    assert states[0]["calibrated"] and states[0]["status"] != "not-available"
    picks = [p for k, p in msgs if k == "pick"]
    assert picks[0]["reason"]["trigger"] == "first" and picks[0]["reason"]["policy"] == "steer"
    assert picks[-1]["reason"]["target"] == {"valence": 0.5, "arousal": -0.5}

    # our own recording replays through the XDF reader: the same ECG on the same clock
    replayed = load_recording(tmp_path / "r.xdf")
    demo = load_session("builtin:demo")
    assert replayed.fs == demo.fs and replayed.t0 == 0.0
    np.testing.assert_allclose(replayed.ecg_mv, demo.ecg_mv[: replayed.ecg_mv.size], atol=1e-6)
    assert replayed.ecg_mv.size == int(150 * demo.fs)


def test_bad_policy_and_voice_settings_are_named():
    with pytest.raises(ConfigError, match="policy.goal"):
        config_from_dict({"policy": {"goal": "sleepy"}})
    with pytest.raises(ConfigError, match="policy.goal"):
        config_from_dict({"policy": {"goal": [2, 0]}})
    with pytest.raises(ConfigError, match="voice.record_audio"):
        config_from_dict({"voice": {"record_audio": "yes"}})
    with pytest.raises(ConfigError, match="fusion.questionable_inflation"):
        config_from_dict({"fusion": {"questionable_inflation": 0.5}})
    with pytest.raises(ConfigError, match="calibration.user"):
        config_from_dict({"calibration": {"user": "../etc"}})




@pytest.mark.broker
@pytest.mark.skipif(input_device_problem() is None,
                    reason="this machine has a microphone; the deviceless path needs none")
def test_microphone_without_an_input_device_runs_on_ecg_and_reports_why(mosquitto, device_id, tmp_path):
    host, port = mosquitto
    cfg = config(host, port, device_id, tmp_path, source={"speed": 1, "duration_s": 2},
                 voice={"microphone": True}, calibration={"user": ""})
    result, _ = run(cfg, host, port, device_id)
    mic = result.summary["voice"]["microphone"]
    assert mic["status"] == "no-input-device" and mic["reason"]
    assert result.summary["ecg_seconds"] == pytest.approx(2.0)


def test_microphone_needs_real_time():
    with pytest.raises(ConfigError, match="voice.microphone"):
        config_from_dict({"voice": {"microphone": True}, "source": {"speed": "max"}})
