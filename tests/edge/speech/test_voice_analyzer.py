"""VoiceAnalyzer windowing, speech gating and time spans (the model is a stand-in here;
tests/export/speech/test_voice_onnx.py runs the real exported model)."""
import numpy as np
import pytest
from cardiotune.edge.estimator import VaEstimate
from cardiotune.edge.sources.base import AudioChunk
from cardiotune.edge.speech.features import LogMelConfig, log_mel
from cardiotune.edge.voice import VoiceAnalyzer

from cardiotune.errors import DataError

SR = 16000


class RecordingModel:
    feature = LogMelConfig()
    clip_s = 2.0
    n_frames = LogMelConfig().n_frames(32000)

    def __init__(self):
        self.inputs = []

    def estimate(self, frames):
        self.inputs.append(frames.copy())
        return VaEstimate(float(frames.mean()) / 100, 0.1, 0.2, 0.3)


def clip():
    """3 s near-silence, then 4 s of a voiced-like harmonic signal, then 2 s silence."""
    rng = np.random.default_rng(1)
    t = np.arange(9 * SR) / SR
    x = rng.normal(0, 1e-4, t.size)
    voiced = (t >= 3) & (t < 7)
    x[voiced] += 0.2 * np.sin(2 * np.pi * 150 * t[voiced]) * (1 + 0.5 * np.sin(2 * np.pi * 4 * t[voiced]))
    return x


def feed(an, x, chunk, t0=10.0):
    out = []
    for i in range(0, x.size, chunk):
        out += an.push(AudioChunk(x[i:i + chunk], float(SR), t0 + i / SR, i, 0.0))
    return out


def test_windows_carry_their_audio_span_and_are_gated_by_speech():
    model = RecordingModel()
    est = feed(VoiceAnalyzer(model, hop_s=1.0), clip(), 640)
    # one window per second once 2 s are buffered: ends at about 2, 3, ..., 9 s after t0
    assert len(est) == 8
    for e in est:
        assert e.t_end - e.t_start == pytest.approx((197 * 160 + 400) / SR)
    assert est[0].t_start == pytest.approx(10.0)
    silent = [e for e in est if e.t_end <= 13.0]
    assert silent and all(e.status == "not-available" and "speech in" in e.reason for e in silent)
    inside = [e for e in est if e.t_start >= 3.0 + 10 and e.t_end <= 7.0 + 10.1]
    assert inside and all(e.status == "valid" for e in inside)
    assert all(f.shape == (198, 40) for f in model.inputs)


def test_model_input_is_exactly_log_mel_of_the_window_whatever_the_chunking():
    x = clip()
    a, b = RecordingModel(), RecordingModel()
    ea = feed(VoiceAnalyzer(a), x, 640)
    eb = feed(VoiceAnalyzer(b), x, 997)
    assert [e.status for e in ea] == [e.status for e in eb]
    for fa, fb in zip(a.inputs, b.inputs):
        np.testing.assert_array_equal(fa, fb)
    first = [e for e in ea if e.status != "not-available"][0]
    k0 = int(round((first.t_start - 10.0) * SR))
    np.testing.assert_allclose(a.inputs[0], log_mel(x[k0:k0 + 32000]), atol=1e-5)


def test_a_gap_in_the_audio_restarts_the_window():
    model = RecordingModel()
    an = VoiceAnalyzer(model)
    x = clip()
    first = feed(an, x[: 3 * SR], 640, t0=0.0)
    after = feed(an, x[3 * SR:], 640, t0=100.0)  # 97 s later: nothing may straddle the gap
    assert all(e.t_start >= 100.0 for e in after)
    assert len(first) == 2 and after[0].t_start == pytest.approx(100.0)


def test_wrong_sample_rate_is_named():
    an = VoiceAnalyzer(RecordingModel())
    with pytest.raises(DataError, match="22050 Hz"):
        an.push(AudioChunk(np.zeros(100), 22050.0, 0.0, 0, 0.0))
