"""Our XDF files read back bit-exact in pyxdf, also after a SIGKILL mid-recording."""
import json
import signal
import subprocess
import sys

import numpy as np
import pytest
from cardiotune.edge.recording.xdf_writer import StreamSpec, XdfWriter

pyxdf = pytest.importorskip("pyxdf", reason="pyxdf is in the dev extra")


class StepClock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


def test_roundtrip_numeric_and_string_streams(tmp_path):
    path = tmp_path / "s.xdf"
    clock = StepClock()
    ecg = np.random.default_rng(0).normal(size=(2500, 1)).astype(np.float32)
    ts = np.arange(2500) / 250.0 + 1000.0
    with XdfWriter(path, flush_interval_s=1.0, clock=clock) as w:
        e = w.add_stream(StreamSpec("ECG", "ECG", 1, 250.0, "float32", "dev1", ("ECG1",), "mV"))
        ev = w.add_stream(StreamSpec("picks", "Markers", 1, 0.0, "string", "dev1-picks"))
        for k in range(0, 2500, 10):
            w.push(e, ts[k:k + 10], ecg[k:k + 10])
            clock.t += 0.04
            if k % 500 == 0:
                w.push(ev, [ts[k]], [json.dumps({"k": k, "title": "Ünïcode"})])
    streams, header = pyxdf.load_xdf(str(path), synchronize_clocks=False, dejitter_timestamps=False)
    by_name = {s["info"]["name"][0]: s for s in streams}
    assert np.array_equal(by_name["ECG"]["time_series"], ecg)
    assert np.array_equal(by_name["ECG"]["time_stamps"], ts)
    assert by_name["ECG"]["info"]["desc"][0]["channels"][0]["channel"][0]["unit"][0] == "mV"
    events = [json.loads(x[0]) for x in by_name["picks"]["time_series"]]
    assert [x["k"] for x in events] == [0, 500, 1000, 1500, 2000] and events[0]["title"] == "Ünïcode"
    assert by_name["ECG"]["footer"]["info"]["sample_count"][0] == "2500"


def test_sigkill_leaves_a_readable_file_missing_at_most_one_flush_interval(tmp_path):
    path = tmp_path / "killed.xdf"
    code = (
        "import sys, time, numpy as np\n"
        "from cardiotune.edge.recording.xdf_writer import StreamSpec, XdfWriter\n"
        f"w = XdfWriter({str(path)!r}, flush_interval_s=1.0).__enter__()\n"
        "sid = w.add_stream(StreamSpec('ECG', 'ECG', 1, 250.0, 'float32', 'x', ('ECG1',), 'mV'))\n"
        "k = 0\n"
        "while True:\n"
        "    w.push(sid, [k / 250.0], [[float(k)]]); k += 1\n"
        "    if k == 1000: print('running', flush=True)\n"
        "    time.sleep(0.001)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "running"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    streams, _ = pyxdf.load_xdf(str(path), synchronize_clocks=False, dejitter_timestamps=False)
    data = streams[0]["time_series"][:, 0]
    assert data.size >= 500  # whole chunks survived
    assert np.array_equal(data, np.arange(data.size, dtype=np.float32))  # contiguous, nothing corrupted


def test_rejects_unknown_channel_format(tmp_path):
    with XdfWriter(tmp_path / "x.xdf") as w:
        with pytest.raises(ValueError, match="channel_format 'float16'"):
            w.add_stream(StreamSpec("x", "x", 1, 1.0, "float16"))


def test_session_recorder_records_ecg_states_and_picks(tmp_path):
    import asyncio

    from cardiotune.edge.estimator import OnnxVaEstimator
    from cardiotune.edge.pipeline import Pipeline
    from cardiotune.edge.recording.recorder import SessionRecorder
    from cardiotune.edge.runtime import run_chain
    from cardiotune.edge.session import load_session
    from cardiotune.edge.sources.replay import ReplaySource

    class T:
        def __init__(self, i, v, a):
            self.id, self.title, self.valence, self.arousal, self.duration_s, self.uri = f"t{i}", "", v, a, 20.0, ""

    tracks = [T(i, v, a) for i, (v, a) in enumerate([(-0.5, -0.5), (0.5, 0.5), (0, 0), (0.5, -0.5), (-0.5, 0.5)])]
    sess = load_session("builtin:demo")
    path = tmp_path / "rec.xdf"
    with SessionRecorder(path, "dev", sess.fs) as rec:
        stats = asyncio.run(run_chain(ReplaySource(sess, speed=None, duration_s=60), Pipeline(
            sess.fs, OnnxVaEstimator(), tracks), None, "dev", recorder=rec))
    streams, _ = pyxdf.load_xdf(str(path), synchronize_clocks=False, dejitter_timestamps=False)
    by_type = {s["info"]["name"][0]: s for s in streams}
    ecg = by_type["cardiotune ECG"]
    assert ecg["time_series"].shape == (60 * 250, 1)
    assert np.allclose(ecg["time_series"][:, 0], sess.ecg_mv[:15000])
    states = [json.loads(x[0]) for x in by_type["cardiotune state"]["time_series"]]
    assert len(states) == stats.states and states[0]["schema"] == "cardiotune.state/1"
    assert len(by_type["cardiotune pick"]["time_series"]) == stats.picks
