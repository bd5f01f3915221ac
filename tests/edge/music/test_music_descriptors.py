"""The rendered audio, measured without looking at the synthesis parameters, carries the
intended cues: loudness, brightness and event density rise with arousal, and the chroma
sounds major where valence is positive."""
from __future__ import annotations

import numpy as np
import pytest
from cardiotune.edge.music.descriptors import describe, spearman
from cardiotune.edge.music.wav import read_wav

SR = 22050


@pytest.fixture(scope="module")
def measured(demo_catalog):
    rows = [describe(read_wav(t.path)[0][:, 0], SR) for t in demo_catalog]
    return demo_catalog.va_array(), {k: np.array([r[k] for r in rows]) for k in rows[0]}


def test_arousal_cues_are_in_the_audio(measured):
    va, d = measured
    assert spearman(d["rms_db"], va[:, 1]) > 0.8
    assert spearman(d["onset_rate"], va[:, 1]) > 0.8
    assert spearman(d["centroid_hz"], va[:, 1]) > 0.6


def test_mode_is_audible(measured, demo_catalog):
    va, d = measured
    major = np.array([t.params["mode"] == "major" for t in demo_catalog])
    assert np.mean((d["mode_score"] > 0) == major) >= 0.8
    assert spearman(d["mode_score"], va[:, 0]) > 0.5


def test_descriptors_on_known_signals():
    t = np.arange(4 * SR) / SR
    quiet, loud = 0.05 * np.sin(2 * np.pi * 220 * t), 0.5 * np.sin(2 * np.pi * 220 * t)
    assert describe(loud, SR)["rms_db"] - describe(quiet, SR)["rms_db"] == pytest.approx(20, abs=0.1)
    assert describe(np.sin(2 * np.pi * 1000 * t), SR)["centroid_hz"] == pytest.approx(1000, rel=0.02)
    clicks = np.zeros_like(t)
    clicks[:: SR // 4] = 1.0  # 4 clicks per second
    assert describe(clicks, SR)["onset_rate"] == pytest.approx(4, abs=0.5)

    def chord(*midi):
        return sum(np.sin(2 * np.pi * 440 * 2 ** ((m - 69) / 12) * t) for m in midi)

    assert describe(chord(48, 60, 64, 67), SR)["mode_score"] > 0  # C major
    assert describe(chord(48, 60, 63, 67), SR)["mode_score"] < 0  # C minor


def test_spearman():
    assert spearman([1, 2, 3, 4], [10, 20, 30, 45]) == pytest.approx(1.0)
    assert spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    with pytest.raises(ValueError):
        spearman([1, 2], [1, 2])
