"""Noise generator (SNR as in the noise stress test) and beat scoring."""

from __future__ import annotations

import numpy as np
import pytest
from cardiotune.edge.ecg import detect_beats
from cardiotune.edge.ecg.noise import NOISE_KINDS, add_noise, make_noise, qrs_signal_power
from cardiotune.edge.ecg.scoring import gross, match_beats


@pytest.mark.parametrize("snr", [24.0, 6.0, 0.0])
def test_add_noise_hits_the_requested_snr(ecg, session, snr):
    x, fs = ecg
    beats = np.round(session.r_peak_times * fs).astype(int)
    y = add_noise(x, fs, snr, beats, seed=1)
    p_sig = qrs_signal_power(x, fs, beats)
    measured = 10 * np.log10(p_sig / np.mean((y - x) ** 2))
    assert measured == pytest.approx(snr, abs=0.01)
    np.testing.assert_array_equal(y, add_noise(x, fs, snr, beats, seed=1))  # seeded
    assert not np.array_equal(y, add_noise(x, fs, snr, beats, seed=2))


@pytest.mark.parametrize("kind", NOISE_KINDS)
def test_each_noise_kind_is_unit_rms_and_in_its_band(kind):
    fs = 360.0
    n = make_noise(kind, int(60 * fs), fs, np.random.default_rng(0), mains_hz=60.0)
    assert np.sqrt(np.mean(n**2)) == pytest.approx(1.0, rel=1e-6)
    spec = np.abs(np.fft.rfft(n)) ** 2
    f = np.fft.rfftfreq(n.size, 1 / fs)
    centroid = float((f * spec).sum() / spec.sum())
    lo, hi = {"bw": (0, 1.0), "em": (0.5, 15), "ma": (20, 150), "pl": (55, 70)}[kind]
    assert lo <= centroid <= hi, centroid


def test_unknown_noise_kind_names_the_options():
    with pytest.raises(ValueError, match="bw, em, ma, pl"):
        make_noise("pink", 100, 250.0, np.random.default_rng(0))


def test_detector_is_robust_at_12_db(ecg, session):
    x, fs = ecg
    beats = np.round(session.r_peak_times * fs).astype(int)
    y = add_noise(x, fs, 12.0, beats, seed=3)
    s = match_beats(session.r_peak_times, detect_beats(y, fs) / fs)
    assert s.f1 >= 0.98, s.as_dict()


def test_match_beats_counts_and_errors():
    ref = np.array([1.0, 2.0, 3.0, 4.0])
    det = np.array([1.01, 2.2, 3.0, 3.05, 5.0])
    s = match_beats(ref, det, 0.15)
    assert (s.tp, s.fn, s.fp) == (2, 2, 3)
    assert sorted(np.round(s.errors_s, 3)) == [0.0, 0.01]
    assert s.f1 == pytest.approx(4 / 9)
    excl = match_beats(ref, det, 0.15, exclude=[(1.9, 4.1)])
    assert (excl.tp, excl.fn, excl.fp) == (1, 0, 1)
    g = gross([s, excl])
    assert (g.tp, g.fn, g.fp) == (3, 2, 4) and g.errors_s.size == 3


def test_match_beats_empty_inputs():
    s = match_beats(np.array([]), np.array([1.0]))
    assert (s.tp, s.fn, s.fp) == (0, 0, 1) and np.isnan(s.se)
