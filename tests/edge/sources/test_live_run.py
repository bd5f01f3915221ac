"""`run_app` with live sources, end to end on real parts: the pty board simulator (binary and
legacy text protocols) and real LSL outlets (ECG samples, RR intervals) feed the whole chain,
which publishes on the real Mosquitto. Each run is bounded by ``source.duration_s`` (and an
outer asyncio timeout so a hang fails instead of blocking); the checks are on behaviour:
states with the heart rate of the signal that was sent, a clean shutdown (status offline,
recording closed), the source's report in the summary."""
from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import jsonschema
import numpy as np
import pytest

pytest.importorskip("serial", reason="the serial extra (pyserial) is not installed")

from cardiotune.edge.app import run_app  # noqa: E402
from cardiotune.edge.config import config_from_dict  # noqa: E402
from cardiotune.edge.sources.files import load_recording  # noqa: E402
from cardiotune.edge.synthetic.ecg import Phase, synthesize_session  # noqa: E402
from cardiotune.firmware_bridge.simulator import PtySimulator, SimConfig  # noqa: E402

from cardiotune.errors import ConfigError  # noqa: E402

OUTLET = os.path.join(os.path.dirname(__file__), "live_outlet.py")
SCHEMAS = Path(__file__).resolve().parents[3] / "edge" / "mqtt" / "schemas"
WINDOW_S = 8.0  # short HRV windows: the first state comes 8 s after the first data
RUN_S = 14.0


class T:
    def __init__(self, i, v, a):
        self.id, self.title, self.valence, self.arousal, self.duration_s, self.uri = f"t{i}", "t", v, a, 30.0, ""


TRACKS = [T(i, v, a) for i, (v, a) in enumerate([(-0.5, -0.5), (0.5, 0.5), (0, 0), (0.5, -0.5), (-0.5, 0.5)])]


def _config(host, port, device_id, source, run_s=RUN_S, **extra):
    d = {"device": {"id": device_id}, "mqtt": {"broker": f"mqtt://{host}:{port}", "metrics_interval_s": 0},
         "ui": {"live": True}, "source": dict(source, duration_s=run_s),
         "ecg": {"window_s": WINDOW_S, "calibration_s": 10.0}}
    for k, v in extra.items():
        d.setdefault(k, {}).update(v)
    return config_from_dict(d)


async def _run_collect(cfg, host, port, device_id, record=None):
    """Run the app while a real MQTT client records everything under the device's topics."""
    import aiomqtt

    msgs = []
    async with aiomqtt.Client(host, port) as client:
        await client.subscribe(f"cardiotune/v1/{device_id}/#", qos=1)

        async def read():
            async for m in client.messages:
                msgs.append((str(m.topic).rsplit("/", 1)[1], json.loads(m.payload)))

        reader = asyncio.ensure_future(read())
        try:
            result = await run_app(cfg, live_ui=False, catalog=TRACKS, record_path=record)
            await asyncio.sleep(0.3)  # the offline status is the last message
        finally:
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)
    return result, msgs


def _true_hr_range(beats):
    """Heart rates of every WINDOW_S window of the true beats, widened by 5 %."""
    hr = []
    for t in np.arange(WINDOW_S, beats[-1], 1.0):
        sel = beats[(beats >= t - WINDOW_S) & (beats < t)]
        hr.append(60.0 / np.mean(np.diff(sel)))
    return 0.95 * min(hr), 1.05 * max(hr)


def _check_run(result, msgs, true_hr, device_id, run_s=RUN_S):
    lo, hi = true_hr
    for kind, payload in msgs:  # live runs publish the same contract as replays
        jsonschema.validate(payload, json.loads((SCHEMAS / f"{kind}.schema.json").read_text()))
    states = [p for k, p in msgs if k == "state"]
    assert len(states) >= 3, f"only {len(states)} states in a {run_s:g} s live run"
    assert [s["seq"] for s in states] == list(range(len(states)))
    with_hr = [s for s in states if s["hr_bpm"] is not None]
    assert len(with_hr) >= 3, [s["quality_reason"] for s in states]
    assert all(lo <= s["hr_bpm"] <= hi for s in with_hr), ([s["hr_bpm"] for s in with_hr], (lo, hi))
    # the session timeline starts at the first data: the first window ends WINDOW_S later
    assert states[0]["data_time"]["end"] == pytest.approx(WINDOW_S, abs=1.0)
    status = [p["state"] for k, p in msgs if k == "status"]
    assert status[0] == "online" and status[-1] == "offline"  # a clean shutdown says so itself
    s = result.summary
    assert s["states"] == len(states) and s["source"]["stop_reason"] == f"duration_s = {run_s:g} reached"
    assert "arousal_pearson_r" not in s  # no ground truth for a live source
    return states


@pytest.mark.broker
@pytest.mark.parametrize("protocol, rate, ppm", [("binary", 500.0, 2000.0), ("text", 250.0, 0.0)])
def test_serial_board_runs_the_chain_live_and_stops_cleanly(mosquitto, device_id, tmp_path, protocol, rate, ppm,
                                                           monkeypatch):
    """The binary board runs at 500 Hz: the chain (assumed 250 Hz until then) is rebuilt for the rate
    its first frame states - with the voice model loaded once; its crystal is 2000 ppm fast, so its
    mapped chunk times run ahead of the sample count (~28 ms over the run: 14 samples, each step past
    1.5 samples would be masked by the front-end and void the window) - the timeline absorbs that.
    The text protocol has no rate field (250 Hz assumed, then estimated)."""
    from cardiotune.edge.speech.estimator import OnnxSpeechEstimator

    loads = []
    real_init = OnnxSpeechEstimator.__init__

    def counting_init(self, *a, **kw):  # the real loader, counted
        loads.append(a[0] if a else kw)
        real_init(self, *a, **kw)

    monkeypatch.setattr(OnnxSpeechEstimator, "__init__", counting_init)
    host, port = mosquitto
    link = str(tmp_path / "ttyECG")
    sim_cfg = SimConfig(seed=5, text=protocol == "text", rate_hz=rate, clock_ppm=ppm)
    source = {"kind": "serial", "port": link, "protocol": protocol}
    # live voice with live ECG: without an input device the mic reports why and the run goes on ECG-only
    manifest = str(Path(__file__).resolve().parents[3] / "edge" / "models" / "speech" / "manifest.json")
    cfg = _config(host, port, device_id, source, voice={"microphone": True, "manifest": manifest})
    record = tmp_path / "live.xdf"

    async def go():
        async with PtySimulator(sim_cfg, link=link):
            return await _run_collect(cfg, host, port, device_id, record=record)

    result, msgs = asyncio.run(asyncio.wait_for(go(), 120))
    beats = synthesize_session((Phase("sim", sim_cfg.ecg_loop_s, 0.0, 0.0),), fs=rate, seed=5).r_peak_times
    states = _check_run(result, msgs, _true_hr_range(beats), device_id)
    src = result.summary["source"]
    assert src["kind"] == "serial" and src["fs"] == rate and src["link"]["connects"] == 1
    assert result.summary["ecg_seconds"] == pytest.approx(result.stats.samples / rate)
    assert src["timeline"]["resyncs"] == 0 and src["timeline"]["chunks"] == result.stats.chunks
    assert all(s["signal_quality"] != "not-available" for s in states), [s["quality_reason"] for s in states]
    assert RUN_S - 3 < src["data_seconds"] <= RUN_S + 0.5
    assert result.summary["voice"]["microphone"]["status"] in ("no-input-device", "stopped")
    assert result.summary["voice"]["status"] == "ready" and len(loads) == 1, loads
    # the recording was closed properly: our XDF reader takes it, with every sample of the run
    assert result.summary["recording"]["error"] is None
    rec = load_recording(str(record))
    assert len(rec.ecg_mv) == result.stats.samples and rec.fs == rate


@pytest.mark.broker
def test_a_device_rate_other_than_the_configured_one_is_a_config_error(mosquitto, device_id, tmp_path):
    host, port = mosquitto
    link = str(tmp_path / "ttyECG")
    cfg = _config(host, port, device_id, {"kind": "serial", "port": link, "fs": 500.0})

    async def go():
        async with PtySimulator(SimConfig(seed=5), link=link):
            return await _run_collect(cfg, host, port, device_id)

    with pytest.raises(ConfigError) as info:
        asyncio.run(asyncio.wait_for(go(), 60))
    assert info.value.key == "source.fs" and info.value.value == 500.0
    assert "the rate the device sends, 250 Hz" in info.value.expected


def _outlet(kind, source_id, seed):
    p = subprocess.Popen([sys.executable, OUTLET, kind, source_id, str(seed)], stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "ready"
    return p


def _lsl_or_skip():
    try:
        import pylsl  # noqa: F401
    except ImportError:
        pytest.skip("the lsl extra (pylsl) is not installed")
    except RuntimeError as exc:  # pylsl < 1.17 without a liblsl binary (see conftest.py)
        pytest.skip(f"pylsl is installed but liblsl is not loadable: {exc}")


@pytest.mark.broker
@pytest.mark.parametrize("kind", ["ecg", "rr"])
def test_lsl_stream_runs_the_chain_live(mosquitto, device_id, tmp_path, kind):
    """An ECG stream goes through R-peak detection; an RR stream (a chest strap) straight into the
    same HRV windows and model (Pipeline.push_rr), long enough to store the wearer's baseline."""
    _lsl_or_skip()
    host, port = mosquitto
    seed = 6 if kind == "ecg" else 7
    source_id = f"live-test-{kind}-{uuid.uuid4().hex[:8]}"
    source = {"kind": "lsl", "stream_type": "ECG" if kind == "ecg" else "RR", "source_id": source_id}
    run_s = RUN_S if kind == "ecg" else 22.0  # calibration needs 10 windows: 8 s + 10 hops and the search
    extra = {} if kind == "ecg" else {"calibration": {"user": "ann", "data_dir": str(tmp_path)}}
    cfg = _config(host, port, device_id, source, run_s=run_s, **extra)
    p = _outlet(kind, source_id, seed)
    try:
        result, msgs = asyncio.run(asyncio.wait_for(_run_collect(cfg, host, port, device_id), 120))
    finally:
        p.kill()
        p.wait()
    beats = synthesize_session((Phase("sim", 120.0, 0.0, 0.0),), fs=250.0, seed=seed).r_peak_times
    states = _check_run(result, msgs, _true_hr_range(beats), device_id, run_s=run_s)
    src = result.summary["source"]
    assert src["kind"] == "lsl" and source_id in src["label"]
    if kind == "ecg":
        assert src["fs"] == 250.0 and result.stats.samples > 0 and result.stats.rr_chunks == 0
    else:
        assert result.stats.samples == 0 and result.summary["rr_intervals"] == src["timeline"]["rr_intervals"]
        # ~one beat per 0.77 s for the run (less the time to find the stream)
        assert result.summary["rr_intervals"] >= (run_s - 4) / 0.9
        assert states[-1]["calibrated"] and not states[0]["calibrated"]
        stored = json.loads((tmp_path / "users" / "ann.json").read_text())
        assert stored["source"] == "first 10 s of a live lsl source"
        # the model ran on the RR windows: the HRV ("ecg") modality has estimates
        assert all(s["modalities"]["ecg"]["status"] in ("valid", "questionable") for s in states if s["hr_bpm"])


def test_a_slow_heart_on_an_rr_stream_is_not_a_stall():
    """One RR sample per beat: at 40 bpm the stream is silent 1.5 s at a time, longer than an ECG
    stream's stall limit (1 s); the LSL source must not drop and re-resolve it between beats."""
    _lsl_or_skip()
    from cardiotune.edge.sources.lsl import LslSource

    source_id = f"live-test-slow-{uuid.uuid4().hex[:8]}"
    p = _outlet("rr-slow", source_id, 0)

    async def main():
        got = []
        async with LslSource(type="RR", source_id=source_id) as src:
            async def take():
                async for item in src:
                    got.append(item)
                    if sum(len(c.rr_s) for c in got) >= 4:
                        return
            await asyncio.wait_for(take(), 30)
            return got, src.status

    try:
        got, status = asyncio.run(main())
    finally:
        p.kill()
        p.wait()
    assert all(abs(v - 1.5) < 1e-3 for c in got for v in c.rr_s)
    assert status.losses == 0 and status.connects == 1


@pytest.mark.broker
def test_an_unplugged_board_is_a_gap_and_the_run_goes_on(mosquitto, device_id, tmp_path):
    """The cable is pulled for 1 s mid-run: the link's gap reaches the pipeline as missing samples,
    the windows that overlap it are not-available (no stale value as fresh), and after the board is
    back the heart rate comes back, in the same run."""
    from cardiotune.firmware_bridge.simulator import LinkFaults

    host, port = mosquitto
    link = str(tmp_path / "ttyECG")
    sim_cfg = SimConfig(seed=5)
    run_s = 24.0
    cfg = _config(host, port, device_id, {"kind": "serial", "port": link}, run_s=run_s)

    async def go():
        # simulator time: the app needs ~1-3 s to load its model before it reads the port
        async with PtySimulator(sim_cfg, link=link, faults=LinkFaults(unplug=[(7.0, 1.0)])):
            return await _run_collect(cfg, host, port, device_id)

    result, msgs = asyncio.run(asyncio.wait_for(go(), 120))
    src = result.summary["source"]
    assert src["link"]["disconnects"] == 1 and src["link"]["connects"] == 2
    assert src["timeline"]["gaps"] == 1 and src["timeline"]["missing_samples"] > 0.8 * 250
    states = [p for k, p in msgs if k == "state"]
    na = [s for s in states if s["signal_quality"] == "not-available"]
    assert na and all(s["hr_bpm"] is None for s in na)
    assert all("data gap" in s["quality_reason"] for s in na), [s["quality_reason"] for s in na]
    # the board is back: every later window has the heart rate again
    after = [s for s in states if s["data_time"]["end"] > max(x["data_time"]["end"] for x in na)]
    assert len(after) >= 2 and all(s["hr_bpm"] is not None for s in after)
    beats = synthesize_session((Phase("sim", sim_cfg.ecg_loop_s, 0.0, 0.0),), fs=250.0, seed=5).r_peak_times
    lo, hi = _true_hr_range(beats)
    assert all(lo <= s["hr_bpm"] <= hi for s in after)
    status = [p["state"] for k, p in msgs if k == "status"]
    assert status[-1] == "offline"
