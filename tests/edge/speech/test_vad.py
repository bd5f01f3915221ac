import numpy as np
from cardiotune.edge.speech import EnergyVad, VadConfig, speech_frames


def _signal(seed=0):
    """1 s of quiet noise, 1 s of a loud voiced-like tone, 1 s of quiet noise at 16 kHz."""
    rng = np.random.default_rng(seed)
    sr = 16000
    noise = 0.001 * rng.normal(size=3 * sr)
    t = np.arange(sr) / sr
    noise[sr : 2 * sr] += 0.3 * np.sin(2 * np.pi * 180 * t) * (1 + 0.5 * np.sin(2 * np.pi * 4 * t))
    return noise


def test_detects_the_loud_stretch_only():
    vad = speech_frames(_signal())
    t = np.arange(vad.size) * 0.01
    assert vad[(t > 1.05) & (t < 1.95)].all()
    assert not vad[(t > 0.3) & (t < 0.95)].any()
    assert not vad[(t > 2.4)].any()  # after the 200 ms hangover


def test_chunk_invariant():
    x = _signal(1)
    whole = speech_frames(x)
    v = EnergyVad(VadConfig())
    rng = np.random.default_rng(2)
    cuts = np.sort(rng.choice(np.arange(1, x.size), 50, replace=False))
    parts = np.concatenate([v.push(c) for c in np.split(x, cuts)])
    np.testing.assert_array_equal(parts, whole)


def test_silence_is_never_speech():
    assert not speech_frames(np.zeros(16000)).any()
