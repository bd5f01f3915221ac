import math

import numpy as np
import pytest
from cardiotune.edge.ecg.frontend import EcgFrontEnd
from cardiotune.edge.ecg.hrv import HrvWindow, HrvWindower
from cardiotune.edge.ecg_va_features import (
    FEATURE_NAMES,
    BaselineCalibrator,
    HrvSequencer,
    RestingBaseline,
    window_features,
)
from cardiotune.edge.synthetic.ecg import Phase, SubjectProfile, synthesize_session


def _w(t, hr=60.0, rmssd=40.0, sdnn=50.0, q="valid"):
    return HrvWindow(t - 30, t, 30, hr, rmssd, sdnn, q)


def test_baseline_is_median_of_valid_windows_only():
    ws = [
        _w(30, 60),
        _w(31, 62),
        _w(32, 64),
        _w(33, 200, q="questionable"),
        _w(34, math.nan, q="not-available"),
    ]
    b = RestingBaseline.from_windows(ws)
    assert (b.hr_bpm, b.n_windows) == (62.0, 3)
    with pytest.raises(ValueError, match="at least 3"):
        RestingBaseline.from_windows(ws[:2])


def test_features_are_log_ratios_to_baseline_and_gaps_are_flagged():
    b = RestingBaseline(60.0, 40.0, 50.0, 5)
    f = window_features(_w(40, hr=120.0, rmssd=20.0, sdnn=50.0), b)
    np.testing.assert_allclose(f, [math.log(2), math.log(0.5), 0.0, 1.0], rtol=1e-6)
    gap = window_features(_w(41, math.nan, math.nan, math.nan, q="not-available"), b)
    np.testing.assert_array_equal(gap, np.zeros(len(FEATURE_NAMES)))
    assert window_features(_w(42, q="questionable"), b)[3] == 0.5
    with pytest.raises(ValueError, match="quality"):
        window_features(_w(43, q="great"), b)


def test_calibrator_and_sequencer():
    cal = BaselineCalibrator(duration_s=40, t0=0.0)
    assert cal.push([_w(30 + k) for k in range(11)]) is None
    b = cal.push([_w(41, hr=90.0)])
    assert b is not None and b.hr_bpm == 60.0
    seq = HrvSequencer(b, seq_len=4)
    outs = seq.push([_w(50 + k, hr=60.0 * (1 + 0.1 * k)) for k in range(6)])
    assert len(outs) == 3 and outs[0].shape == (4, 4)
    np.testing.assert_allclose(outs[-1][-1, 0], math.log(1.5), rtol=1e-6)


def test_arousal_raises_the_hr_feature_through_the_real_front_end():
    """Synthetic ground truth: high-arousal phase -> positive log HR ratio, lower RMSSD."""
    phases = [Phase("rest", 150, 0.0, -0.5), Phase("aroused", 150, 0.0, 0.9)]
    s = synthesize_session(phases, fs=250.0, seed=3, profile=SubjectProfile.from_seed(3))
    fe, hw = EcgFrontEnd(250.0, 0.0), HrvWindower(30.0, 5.0, 0.0)
    cal = BaselineCalibrator(150.0)
    feats = []
    for i in range(0, len(s.ecg_mv), 250):
        o = fe.push(s.ecg_mv[i : i + 250])
        ws = hw.push(o.beats, o.t_decided)
        b = cal.push(ws)
        if b is not None:
            feats += [window_features(w, b) for w in ws if w.t_end > 220]
    f = np.array(feats)
    assert f.shape[0] > 5
    assert f[:, 0].mean() > 0.1  # HR up
    assert f[:, 1].mean() < -0.1  # RMSSD down
