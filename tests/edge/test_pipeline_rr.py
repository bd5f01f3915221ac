"""RR intervals as pipeline input (Pipeline.push_rr, what a chest strap sends): the same HRV
windows, model and picks as the ECG path. Fed the true beats of a synthetic session, the RR
path gives the heart rate and valence/arousal the ECG path gives from that session's ECG."""
import asyncio

import numpy as np
import pytest
from cardiotune.edge.estimator import OnnxVaEstimator
from cardiotune.edge.fused_pipeline import FusedPipeline
from cardiotune.edge.pipeline import PipelineConfig, StateEvent
from cardiotune.edge.runtime import run_chain
from cardiotune.edge.sources.base import EcgChunk, RrChunk
from cardiotune.edge.synthetic.ecg import Phase, synthesize_session
from item_source import ItemSource

from cardiotune.errors import DataError


class Track:
    def __init__(self, i, v, a):
        self.id, self.title, self.valence, self.arousal, self.duration_s, self.uri = f"t{i}", "", v, a, 30.0, ""


TRACKS = [Track(i, v, a) for i, (v, a) in enumerate([(-0.5, -0.5), (0.5, 0.5), (0, 0), (0.5, -0.5), (-0.5, 0.5)])]
CFG = PipelineConfig(calibration_s=60.0)


@pytest.fixture(scope="module")
def session():
    return synthesize_session((Phase("rest", 100.0, 0.2, -0.6), Phase("stress", 100.0, -0.5, 0.7)), fs=250.0, seed=2)


def _states(items, fs=250.0):
    pipe = FusedPipeline(fs, OnnxVaEstimator(), TRACKS, CFG)
    stats = asyncio.run(run_chain(ItemSource(items), pipe, None, "x"))
    return {round(e.window.t_end, 3): e for e in stats.state_log if isinstance(e, StateEvent)}, stats


def test_rr_path_matches_the_ecg_path(session):
    x = session.ecg_mv
    ecg_items = [EcgChunk(x[i:i + 10], 250.0, i / 250.0, i, 0.0) for i in range(0, len(x), 10)]
    beats = session.r_peak_times
    rr = np.diff(beats)
    # a strap sends one to three intervals at a time
    rr_items, i = [], 0
    while i < len(rr):
        k = 1 + i % 3
        rr_items.append(RrChunk(rr[i:i + k], beats[i + 1:i + 1 + k], 0.0))
        i += k
    ecg, _ = _states(ecg_items)
    rrs, stats = _states(rr_items)
    assert stats.rr_chunks == len(rr_items) and stats.rr_intervals == len(rr) and stats.samples == 0
    common = [t for t in sorted(rrs) if t in ecg and rrs[t].window.quality != "not-available"
              and ecg[t].window.quality != "not-available"]
    assert len(common) > 150
    hr_ecg = np.array([ecg[t].window.hr_bpm for t in common])
    hr_rr = np.array([rrs[t].window.hr_bpm for t in common])
    assert np.max(np.abs(hr_ecg - hr_rr)) < 1.5, np.max(np.abs(hr_ecg - hr_rr))
    # the model sees the same HRV: arousal follows the same course (rest -> stress) on both paths
    a_ecg = np.array([ecg[t].va.arousal for t in common])
    a_rr = np.array([rrs[t].va.arousal for t in common])
    assert np.corrcoef(a_ecg, a_rr)[0, 1] > 0.9
    assert rrs[common[-1]].calibrated and any(e.status == "valid" for e in rrs.values())


def test_rr_chunks_with_mismatched_lengths_are_an_error():
    pipe = FusedPipeline(250.0, OnnxVaEstimator(), TRACKS, CFG)
    with pytest.raises(DataError, match="2 intervals but 1 beat times"):
        pipe.push_rr(RrChunk(np.array([0.8, 0.8]), np.array([1.6]), 0.0))


def test_rr_intervals_are_recorded_and_read_back(session, tmp_path):
    """`--record` keeps what a chest strap sent: every interval, stamped with its beat, in an
    'RR' stream that pyxdf reads, next to the states derived from it."""
    pyxdf = pytest.importorskip("pyxdf", reason="pyxdf is in the dev extra")
    from cardiotune.edge.recording.recorder import SessionRecorder

    beats = session.r_peak_times[:200]
    rr = np.diff(beats)
    items = [RrChunk(rr[i:i + 2], beats[i + 1:i + 3], 0.0) for i in range(0, len(rr), 2)]
    pipe = FusedPipeline(250.0, OnnxVaEstimator(), TRACKS, CFG)
    with SessionRecorder(tmp_path / "rr.xdf", "x", 250.0) as rec:
        asyncio.run(run_chain(ItemSource(items), pipe, None, "x", recorder=rec))
    assert rec.error is None
    streams, _ = pyxdf.load_xdf(str(tmp_path / "rr.xdf"), synchronize_clocks=False, dejitter_timestamps=False)
    by_name = {s["info"]["name"][0]: s for s in streams}
    got = by_name["cardiotune RR"]
    assert got["info"]["type"][0] == "RR"
    np.testing.assert_allclose(got["time_series"][:, 0], rr)
    np.testing.assert_allclose(got["time_stamps"], beats[1:])
    assert len(by_name["cardiotune state"]["time_series"]) > 0
