"""The fused chain on the real demo ECG: lead-off suppresses picks, voice is fused with
precision weights, a missing voice model is reported, a stored baseline is used at once."""
import copy

import numpy as np
import pytest
from cardiotune.edge.estimator import OnnxVaEstimator
from cardiotune.edge.features import Baseline
from cardiotune.edge.fused_pipeline import FusedPickEvent, FusedPipeline, FusedStateEvent
from cardiotune.edge.fusion import ModalityEstimate
from cardiotune.edge.pipeline import PipelineConfig
from cardiotune.edge.session import load_session
from cardiotune.edge.sources.base import AudioChunk, EcgChunk


class T:
    def __init__(self, i, v, a):
        self.id, self.title, self.valence, self.arousal, self.duration_s, self.uri = f"t{i}", "t", v, a, 5.0, ""


GRID = [(v, a) for v in (-0.6, -0.2, 0.2, 0.6) for a in (-0.6, -0.2, 0.2, 0.6)]
TRACKS = [T(i, v, a) for i, (v, a) in enumerate(GRID)]
CFG = PipelineConfig(min_dwell_s=0.0, hysteresis=0.0, no_repeat=2, calibration_s=60.0)


@pytest.fixture(scope="module")
def session():
    return load_session("builtin:demo")


@pytest.fixture(scope="module")
def estimator():
    return OnnxVaEstimator()


def run(pipe, session, seconds, lead_off=None, chunk=0.5):
    fs = session.fs
    n, step = int(seconds * fs), int(chunk * fs)
    events = []
    for i in range(0, n, step):
        j = min(i + step, n)
        off = bool(lead_off[i:j].any()) if lead_off is not None else False
        events += pipe.push(EcgChunk(session.ecg_mv[i:j], fs, i / fs, i, 0.0, off))
    return events


def overlaps(w, t0, t1):
    return w.t_start < t1 and w.t_end > t0


def test_ten_seconds_of_lead_off_give_zero_picks_from_those_windows(session, estimator):
    fs = session.fs
    mask = np.zeros(len(session.ecg_mv), dtype=bool)
    mask[int(100 * fs):int(111 * fs)] = True  # 11 s of electrode-off flags on otherwise normal ECG
    events = run(FusedPipeline(fs, estimator, TRACKS, CFG), session, 150, mask)
    states = [e for e in events if isinstance(e, FusedStateEvent)]
    picks = [e for e in events if isinstance(e, FusedPickEvent)]
    hit = [e for e in states if overlaps(e.window, 100, 111)]
    assert hit and all(e.status == "not-available" and e.signal_lost for e in hit)
    assert all(e.modalities["ecg"]["reason"] == "electrode lead-off in this window" for e in hit)
    assert not [p for p in picks if overlaps(p.window, 100, 111)]
    # the test could fail: picks happen every few seconds before and after
    assert [p for p in picks if p.window.t_end < 100] and [p for p in picks if p.window.t_start >= 111]


@pytest.mark.parametrize("damage", ["flat", "saturated"])
def test_ten_seconds_of_unusable_signal_give_zero_picks_from_those_windows(session, estimator, damage):
    fs = session.fs
    s = copy.copy(session)
    s.ecg_mv = session.ecg_mv.copy()
    s.ecg_mv[int(100 * fs):int(110 * fs)] = 0.0 if damage == "flat" else 30.0  # no lead-off flag this time
    events = run(FusedPipeline(fs, estimator, TRACKS, CFG), s, 180)
    states = [e for e in events if isinstance(e, FusedStateEvent) and overlaps(e.window, 100, 110)]
    picks = [e for e in events if isinstance(e, FusedPickEvent)]
    assert states and all(e.status == "not-available" for e in states)
    assert all(e.modalities["ecg"]["reason"].startswith("signal unusable") for e in states)
    assert not [p for p in picks if overlaps(p.window, 100, 110)]
    assert [p for p in picks if p.window.t_start >= 110]  # and picking resumes once the signal is back


def test_same_signal_without_the_flag_does_pick_in_that_span(session, estimator):
    events = run(FusedPipeline(session.fs, estimator, TRACKS, CFG), session, 125)
    picks = [e for e in events if isinstance(e, FusedPickEvent)]
    assert [p for p in picks if overlaps(p.window, 100, 111)]


class FixedVoice:
    """Stands in for VoiceAnalyzer (pure-logic test): one estimate per audio chunk."""

    def __init__(self, v, a, var, status="valid"):
        self.v, self.a, self.var, self.status = v, a, var, status

    def push(self, chunk):
        t1 = chunk.t_first + len(chunk.samples) / chunk.fs
        return [ModalityEstimate("voice", self.v, self.a, self.var, self.var, self.status, t1 - 2.0, t1)]


def audio(t0, seconds=1.0):
    return AudioChunk(np.zeros(int(16000 * seconds), np.float32), 16000.0, t0, int(t0 * 16000), 0.0)


def test_voice_is_fused_by_precision_and_dropped_when_stale(session, estimator):
    pipe = FusedPipeline(session.fs, estimator, TRACKS, CFG, voice=FixedVoice(0.9, 0.9, 0.01))
    ev = run(pipe, session, 90)
    ecg_only = [e for e in ev if isinstance(e, FusedStateEvent) and e.fused is not None][-1]
    assert ecg_only.fused.used == ["ecg"] and ecg_only.modalities["voice"]["weight"] == [0.0, 0.0]
    pipe.push_audio(audio(89.0))
    fs, n0 = session.fs, int(90 * session.fs)
    ev = pipe.push(EcgChunk(session.ecg_mv[n0:n0 + int(fs)], fs, 90.0, n0, 0.0))
    st = [e for e in ev if isinstance(e, FusedStateEvent)][-1]
    ecg_var = st.modalities["ecg"]["valence_var"]
    w_voice = st.modalities["voice"]["weight"][0]
    assert w_voice == pytest.approx((1 / 0.01) / (1 / 0.01 + 1 / ecg_var), rel=1e-6)
    assert st.fused.used == ["ecg", "voice"]
    assert st.data_span == (st.window.t_start, max(90.0, st.window.t_end))  # union of ECG window and audio
    assert st.payload_extra()["modalities"]["voice"]["status"] == "valid"
    # 15 s later the voice estimate (audio ended at 90 s) is older than voice_max_age_s = 10 s
    ev = run_from(pipe, session, 91, 106)
    st = [e for e in ev if isinstance(e, FusedStateEvent)][-1]
    assert st.fused.used == ["ecg"] and st.modalities["voice"]["reason"].startswith("stale")


def run_from(pipe, session, t0, t1):
    fs = session.fs
    out = []
    for i in range(int(t0 * fs), int(t1 * fs), int(fs)):
        out += pipe.push(EcgChunk(session.ecg_mv[i:i + int(fs)], fs, i / fs, i, 0.0))
    return out


def test_missing_voice_model_is_reported_on_every_state(session, estimator):
    pipe = FusedPipeline(session.fs, estimator, TRACKS, CFG, voice_reason="no voice model configured")
    assert pipe.push_audio(audio(0.0)) == []
    states = [e for e in run(pipe, session, 40) if isinstance(e, FusedStateEvent)]
    assert states and all(s.modalities["voice"] == {"status": "not-available", "reason": "no voice model configured",
                                                    "weight": [0.0, 0.0]} for s in states)


def test_voice_alone_keeps_picking_while_the_electrodes_are_off(session, estimator):
    fs = session.fs
    mask = np.zeros(len(session.ecg_mv), dtype=bool)
    mask[int(100 * fs):] = True
    pipe = FusedPipeline(fs, estimator, TRACKS, CFG, voice=FixedVoice(-0.6, -0.6, 0.05))
    events = []
    for i in range(0, int(160 * fs), int(fs)):
        pipe.push_audio(audio(i / fs))
        events += pipe.push(EcgChunk(session.ecg_mv[i:i + int(fs)], fs, i / fs, i, 0.0, bool(mask[i])))
    late = [e for e in events if isinstance(e, FusedPickEvent) and e.window.t_start > 100]
    assert late and all(p.basis["modalities"]["ecg"]["weight"] == [0.0, 0.0] for p in late)
    # the voice's state is (-0.6, -0.6): t0 and, while no_repeat excludes it, its two neighbours
    ids = {p.pick.track.id for p in late}
    assert "t0" in ids and ids <= {"t0", "t1", "t4"}


def test_a_stored_baseline_calibrates_from_the_first_window(session, estimator):
    pipe = FusedPipeline(session.fs, estimator, TRACKS, CFG, baseline=Baseline(70.0, 40.0, 50.0, 30))
    states = [e for e in run(pipe, session, 25) if isinstance(e, FusedStateEvent)]
    assert states[0].calibrated and states[0].modalities["ecg"]["status"] != "not-available"
