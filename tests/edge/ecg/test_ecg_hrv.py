"""HRV features, RR cleaning, windows and the RR-interval input path."""

from __future__ import annotations

import math

import numpy as np
import pytest
from cardiotune.edge.ecg import (
    NOT_AVAILABLE,
    QUESTIONABLE,
    VALID,
    Beat,
    EcgFrontEnd,
    HrvWindower,
    RrFrontEnd,
    clean_rr,
    hrv_features,
)
from cardiotune.edge.ecg.quality import QualitySegment

from cardiotune.errors import DataError


def modulated_rr(n=200, mean=0.8, depth=0.05, f_hz=0.25, seed=0):
    rng = np.random.default_rng(seed)
    t = np.cumsum(np.full(n, mean))
    return mean + depth * np.sin(2 * np.pi * f_hz * t) + rng.normal(0, 0.002, n)


def test_time_domain_features_match_definitions():
    rr = np.array([0.8, 0.85, 0.78, 0.9, 0.82, 0.88, 0.79, 0.86])
    f, why = hrv_features(rr, 60.0)
    d = np.diff(rr)
    assert f["hr_bpm"] == pytest.approx(60 / rr.mean())
    assert f["rmssd_ms"] == pytest.approx(1000 * np.sqrt(np.mean(d**2)))
    assert f["sdnn_ms"] == pytest.approx(1000 * rr.std(ddof=1))
    assert f["pnn50"] == pytest.approx(np.mean(np.abs(d) > 0.05))
    assert f["sd1_ms"] == pytest.approx(1000 * np.std(d, ddof=1) / np.sqrt(2))
    assert f["sd2_ms"] ** 2 == pytest.approx(2 * f["sdnn_ms"] ** 2 - f["sd1_ms"] ** 2)


@pytest.mark.parametrize("f_hz,dominant", [(0.25, "hf_ms2"), (0.1, "lf_ms2")])
def test_lomb_scargle_puts_power_in_the_right_band(f_hz, dominant):
    rr = modulated_rr(f_hz=f_hz)
    f, why = hrv_features(rr, 160.0)
    other = "lf_ms2" if dominant == "hf_ms2" else "hf_ms2"
    assert f[dominant] > 10 * f[other], f
    # a sinusoid of amplitude A ms has power A^2/2
    assert f[dominant] == pytest.approx((50.0**2) / 2, rel=0.35)
    assert (f["lf_hf"] < 0.1) == (dominant == "hf_ms2")


def test_spectral_false_skips_only_lf_hf():
    rr = modulated_rr(f_hz=0.25)
    full, _ = hrv_features(rr, 160.0)
    f, why = hrv_features(rr, 160.0, spectral=False)
    spectral = {"lf_ms2", "hf_ms2", "lf_hf"}
    assert all(math.isnan(f[k]) and k in why for k in spectral) and "not computed" in why["hf_ms2"]
    assert {k: f[k] for k in f if k not in spectral} == {k: full[k] for k in full if k not in spectral}


def test_short_window_gives_nan_with_reason():
    f, why = hrv_features(modulated_rr(n=40), 30.0)
    assert math.isnan(f["lf_ms2"]) and "30 s < 50 s" in why["lf_ms2"]
    assert math.isnan(f["lf_hf"]) and "lf_hf" in why
    assert not math.isnan(f["hf_ms2"]) and not math.isnan(f["rmssd_ms"])
    f, why = hrv_features(np.array([0.8]), 30.0)
    assert all(math.isnan(v) for v in f.values()) and set(why) == set(f)


def test_clean_series_is_left_alone():
    rr = modulated_rr(n=120)
    c = clean_rr(rr)
    assert c.n_corrected == 0 and np.array_equal(c.rr_s, rr)


def test_ectopic_beat_is_corrected_and_flagged():
    rr = modulated_rr(n=120, depth=0.02)
    rr[60], rr[61] = rr[60] - 0.3, rr[61] + 0.3  # premature beat + compensatory pause
    c = clean_rr(rr)
    assert c.flags[60] == "E" and c.flags[61] == "E" and c.n_corrected == 2
    assert abs(c.rr_s[60] - 0.8) < 0.05 and abs(c.rr_s[61] - 0.8) < 0.05


def test_missed_and_extra_beats_are_corrected():
    rr = list(modulated_rr(n=120, depth=0.02))
    missed = rr[:40] + [rr[40] + rr[41]] + rr[42:]  # one beat not detected
    c = clean_rr(missed)
    assert c.flags.count("M") == 2 and c.rr_s.size == 120
    extra = rr[:80] + [0.3, rr[80] - 0.3] + rr[81:]  # a spurious beat splits an interval
    c = clean_rr(extra)
    assert "X" in c.flags and c.rr_s.size == 120
    assert np.allclose(c.rr_s[80], rr[80])


def beats_at(times):
    return [Beat(float(t), -1, math.nan) for t in times]


def test_windower_emits_on_data_time_and_vetoes_on_quality():
    t = np.cumsum(modulated_rr(n=120))
    w = HrvWindower(30.0, 5.0)
    bad = [QualitySegment(s, s + 1.0, NOT_AVAILABLE, "flat line") for s in range(40, 50)]
    out = w.push(beats_at(t), t_decided=90.0, quality=bad)
    assert [o.t_end for o in out] == [30.0 + 5 * k for k in range(13)]
    by_end = {o.t_end: o for o in out}
    assert by_end[30.0].quality == VALID and by_end[30.0].features["pnn50"] >= 0
    veto = by_end[55.0]  # 25-55 s: 10 s of unusable signal
    assert veto.quality == NOT_AVAILABLE and "unusable" in veto.reason and math.isnan(veto.rmssd_ms)
    assert all(math.isnan(v) for v in veto.features.values())


def test_noisy_seconds_make_windows_questionable_then_not_available():
    t = np.cumsum(modulated_rr(n=120))
    noisy = [
        QualitySegment(s, s + 1.0, QUESTIONABLE, "noisy (QRS crest factor 5.0 < 8)")
        for s in [*range(33, 37), *range(60, 67)]  # 4 s (13 % of a window), then 7 s (23 %)
    ]
    out = HrvWindower(30.0, 30.0).push(beats_at(t), t_decided=90.0, quality=noisy)
    assert [o.quality for o in out] == [VALID, QUESTIONABLE, NOT_AVAILABLE]
    assert "questionable 13%" in out[1].reason and out[1].rmssd_ms > 0
    assert "unusable or noisy 23%" in out[2].reason and "crest" in out[2].reason
    assert math.isnan(out[2].rmssd_ms) and math.isnan(out[2].hr_bpm)


def test_window_with_few_beats_is_not_available():
    w = HrvWindower(30.0, 30.0, min_beats=8)
    (o,) = w.push(beats_at([1.0, 2.0, 3.0]), 30.0)
    assert o.quality == NOT_AVAILABLE and "only 3 beats" in o.reason and math.isnan(o.hr_bpm)


def test_window_with_artefacts_is_questionable():
    rr = list(modulated_rr(n=60, depth=0.01))
    for k in range(5, 60, 4):
        rr[k] = 0.35  # many spurious short intervals
    out = HrvWindower(30.0, 30.0).push(beats_at(np.cumsum(rr)), 30.0)
    assert out[0].quality == QUESTIONABLE and "artefact" in out[0].reason


def test_rr_input_path_feeds_the_same_windows():
    rr = modulated_rr(n=100, mean=0.75)
    t = np.cumsum(rr) + 0.75
    fe, w = RrFrontEnd(), HrvWindower(30.0, 10.0)
    windows = []
    for i in range(0, 100, 4):  # chest straps publish a few intervals per notification
        out = fe.push(rr[i : i + 4], t[i : i + 4])
        windows += w.push(out.beats, out.t_decided)
    assert windows and all(o.quality == VALID for o in windows)
    assert windows[0].hr_bpm == pytest.approx(80.0, rel=0.02)
    assert windows[0].n_rr >= 35


def test_rr_input_rejects_bad_values():
    fe = RrFrontEnd()
    out = fe.push([0.8, np.nan, -1.0, 0.8], [1.0, 1.8, 2.6, 3.4])
    assert all(np.isfinite(b.t) for b in out.beats)
    with pytest.raises(DataError, match="2 intervals but 3 beat times"):
        fe.push([0.8, 0.8], [1.0, 2.0, 3.0])


def test_ecg_to_windows_end_to_end(ecg):
    x, fs = ecg
    fe, w = EcgFrontEnd(fs), HrvWindower(30.0, 5.0)
    windows = []
    for i in range(0, x.size, 10):  # 40 ms chunks at 250 Hz
        out = fe.push(x[i : i + 10])
        windows += w.push(out.beats, out.t_decided, out.quality)
    assert len(windows) >= 5 and all(o.quality == VALID for o in windows)
    assert all(40 < o.hr_bpm < 120 and o.n_beats >= 20 for o in windows)


def test_batch_analyze_matches_streaming_and_honours_lead_off(ecg):
    from cardiotune.edge.ecg.batch import analyze, reference_windows

    x, fs = ecg
    a = analyze(x, fs, 30.0, 5.0, chunk_s=1.0)
    b = analyze(x, fs, 30.0, 5.0, chunk_s=0.04)
    assert a.beats == b.beats and [w.hr_bpm for w in a.windows] == [w.hr_bpm for w in b.windows]
    lead_off = np.zeros(x.size, bool)
    lead_off[int(10 * fs) : int(25 * fs)] = True
    c = analyze(x, fs, 30.0, 5.0, lead_off=lead_off)
    assert not [bb for bb in c.beats if 10 <= bb.t < 25]
    assert c.windows[0].quality == NOT_AVAILABLE  # 0-30 s: half of it without a lead
    ref = reference_windows(a.beat_times, x.size / fs, 30.0, 5.0)
    assert abs(ref[0].hr_bpm - a.windows[0].hr_bpm) < 0.5
    with pytest.raises(ValueError, match="one per sample"):
        analyze(x, fs, lead_off=lead_off[:10])


def test_rr_input_ectopic_beat_is_corrected_and_flagged_like_ecg_beats():
    """A premature beat in a strap's RR stream goes through the same cleaning as ECG beats:
    the window counts the corrected intervals and RMSSD stays near the clean value."""
    rr = modulated_rr(n=100, mean=0.75, depth=0.02)
    bad = rr.copy()
    bad[50], bad[51] = bad[50] - 0.3, bad[51] + 0.3  # premature beat + compensatory pause

    def windows(series):
        t = np.cumsum(series) + 0.75
        fe, w = RrFrontEnd(), HrvWindower(60.0, 60.0)
        out = []
        for i in range(0, series.size, 3):
            o = fe.push(series[i : i + 3], t[i : i + 3])
            out += w.push(o.beats, o.t_decided)
        return out

    clean, hit = windows(rr)[0], windows(bad)[0]
    assert clean.quality == hit.quality == VALID  # 2 of 80 intervals: below the 20 % veto
    assert (clean.n_corrected, hit.n_corrected) == (0, 2)
    # without correction the 0.3 s jumps would inflate RMSSD several times over
    assert hit.rmssd_ms == pytest.approx(clean.rmssd_ms, rel=0.25)


def test_rr_input_dropout_is_not_bridged_by_a_fabricated_interval():
    """A strap that goes silent for 20 s: no interval spans the silence, the window over it
    is not valid, and windows after it are valid again."""
    rr = modulated_rr(n=200, mean=0.75, depth=0.02)
    t = np.cumsum(rr) + 0.75
    t[80:] += 20.0  # the strap dropped out for 20 s after beat 79
    fe, w = RrFrontEnd(), HrvWindower(30.0, 5.0)
    beats, windows = [], []
    for i in range(0, rr.size, 2):
        o = fe.push(rr[i : i + 2], t[i : i + 2])
        beats += o.beats
        windows += w.push(o.beats, o.t_decided)
    intervals = np.diff([b.t for b in beats])
    assert intervals.max() < 1.0 or np.sum(intervals > 1.0) == 1  # only the silence itself
    s0, s1 = t[79], t[80] - rr[80]  # the silence

    def overlap(x):
        return min(x.t_end, s1) - max(x.t_start, s0)

    silent = [x for x in windows if overlap(x) > 3.0]
    assert len(silent) >= 5 and all(x.quality != VALID for x in silent)
    assert all("without beats" in x.reason or "missing" in x.reason for x in silent)
    assert any(x.quality == VALID for x in windows if x.t_start > t[80])


def test_own_lomb_scargle_equals_scipy():
    """hrv._lomb_scargle replaces scipy.signal.lombscargle (its argument handling cost more
    than the arithmetic per window); both compute the same periodogram."""
    from cardiotune.edge.ecg.hrv import HF_BAND, LF_BAND, _grid, _lomb_scargle
    from scipy.signal import lombscargle

    rng = np.random.default_rng(11)
    for n in (8, 35, 90):
        rr = 0.8 + 0.05 * np.sin(2 * np.pi * 0.25 * np.arange(n)) + rng.normal(0, 0.02, n)
        t, y = np.cumsum(rr), 1000.0 * rr
        y = y - y.mean()
        for band in (LF_BAND, HF_BAND):
            w = _grid(band, 0.005)[1]
            np.testing.assert_allclose(_lomb_scargle(t, y, w), lombscargle(t, y, w), rtol=1e-9)
