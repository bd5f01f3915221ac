from __future__ import annotations

import hashlib

import numpy as np
import pytest
from cardiotune.edge.music import synth
from cardiotune.edge.music.wav import encode_wav, read_wav


def test_params_follow_the_cue_literature():
    calm_sad = synth.params_for_va(-0.8, -0.8)
    calm_happy = synth.params_for_va(0.8, -0.8)
    excited_happy = synth.params_for_va(0.8, 0.8)
    excited_angry = synth.params_for_va(-0.8, 0.8)
    # Mode carries valence.
    assert calm_sad.mode == excited_angry.mode == "minor"
    assert calm_happy.mode == excited_happy.mode == "major"
    # Tempo, loudness, brightness, staccato, attack and drums carry arousal.
    for lo, hi in ((calm_sad, excited_angry), (calm_happy, excited_happy)):
        assert hi.tempo_bpm - lo.tempo_bpm >= 60
        assert hi.loudness_db - lo.loudness_db >= 10
        assert hi.brightness > lo.brightness
        assert hi.articulation < lo.articulation
        assert hi.attack_s < lo.attack_s
        assert hi.notes_per_beat > lo.notes_per_beat
        assert hi.percussion > lo.percussion == 0.0
    # Register rises with valence and arousal; dissonance only for negative valence.
    assert calm_happy.register > calm_sad.register
    assert excited_happy.register > calm_happy.register
    assert excited_angry.dissonance > calm_sad.dissonance > 0 == excited_happy.dissonance


def test_params_range_over_the_whole_plane():
    grid = np.linspace(-1, 1, 9)
    tempos = [synth.params_for_va(v, a).tempo_bpm for v in grid for a in grid]
    assert min(tempos) >= 60 and max(tempos) <= 160


@pytest.mark.parametrize("bad", [(1.5, 0.0), (0.0, -1.01), (float("nan"), 0.0)])
def test_params_reject_out_of_range(bad):
    with pytest.raises(ValueError, match="expected a finite number in"):
        synth.params_for_va(*bad)


def test_render_is_deterministic_in_the_seed(tmp_path):
    params = synth.params_for_va(0.4, 0.6, duration_s=3.0)
    a = encode_wav(synth.render(params, seed=7), synth.SAMPLE_RATE)
    b = encode_wav(synth.render(params, seed=7), synth.SAMPLE_RATE)
    c = encode_wav(synth.render(params, seed=8), synth.SAMPLE_RATE)
    assert hashlib.sha256(a).hexdigest() == hashlib.sha256(b).hexdigest()
    assert a != c
    path = tmp_path / "x.wav"
    path.write_bytes(a)
    x, sr = read_wav(path)
    assert sr == synth.SAMPLE_RATE and x.shape == (3 * synth.SAMPLE_RATE, 1)
    assert 0.1 < np.abs(x).max() < 1.0  # audible, not clipped


def test_render_hits_the_loudness_target():
    for a in (-0.8, 0.0, 0.8):
        params = synth.params_for_va(0.0, a, duration_s=4.0)
        x = synth.render(params, seed=1)
        rms_db = 20 * np.log10(np.sqrt(np.mean(x**2)))
        assert abs(rms_db - params.loudness_db) < 1.5
