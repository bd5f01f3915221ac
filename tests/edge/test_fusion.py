import math

import pytest
from cardiotune.edge.fusion import ModalityEstimate, fuse


def est(mod, v, a, var=0.1, status="valid", t0=0.0, t1=20.0):
    return ModalityEstimate(mod, v, a, var, var, status, t0, t1)


def test_equal_variances_give_the_midpoint_and_half_the_variance():
    f = fuse([est("ecg", 0.2, -0.4, 0.1), est("voice", 0.6, 0.0, 0.1, t0=18, t1=21)])
    assert f.valence == pytest.approx(0.4) and f.arousal == pytest.approx(-0.2)
    assert f.valence_var == pytest.approx(0.05) and f.arousal_var == pytest.approx(0.05)
    assert f.status == "valid" and f.used == ["ecg", "voice"]
    assert (f.t_start, f.t_end) == (0.0, 21.0)  # union of the contributing data spans
    assert f.weights["ecg"] == pytest.approx((0.5, 0.5))


def test_the_more_certain_modality_dominates_in_proportion_to_its_precision():
    f = fuse([est("ecg", 0.0, 0.0, 0.01), est("voice", 1.0, 1.0, 0.09)])
    # weights 100 : 11.1 -> mean 11.1 / 111.1
    assert f.valence == pytest.approx((1 / 0.09) / (1 / 0.01 + 1 / 0.09))
    assert f.valence_var == pytest.approx(1 / (1 / 0.01 + 1 / 0.09))
    assert f.valence_var < 0.01  # fusing never loses precision


def test_questionable_counts_less_and_alone_stays_questionable():
    both = fuse([est("ecg", 0.0, 0.0, 0.1), est("voice", 1.0, 1.0, 0.1, status="questionable")],
                questionable_inflation=4.0)
    assert both.valence == pytest.approx(0.2)  # weights 10 : 2.5
    assert both.status == "valid"
    alone = fuse([est("voice", 1.0, 1.0, 0.1, status="questionable")])
    assert alone.status == "questionable" and alone.valence_var == pytest.approx(0.4)


def test_a_dropped_modality_degrades_gracefully_to_the_other():
    ecg = est("ecg", 0.3, -0.2, 0.05)
    f = fuse([ecg, est("voice", 0.9, 0.9, 0.01, status="not-available")])
    assert f.used == ["ecg"] and f.valence == pytest.approx(0.3) and f.valence_var == pytest.approx(0.05)
    assert "voice" in f.skipped
    assert fuse([ecg, None]).used == ["ecg"]


def test_stale_estimates_are_skipped_with_a_reason():
    f = fuse([est("ecg", 0.3, 0.1, t1=100.0), est("voice", -0.9, -0.9, t1=40.0)], now=100.0, max_age_s=10.0)
    assert f.used == ["ecg"] and f.skipped["voice"].startswith("stale")


def test_nothing_usable_is_none():
    assert fuse([]) is None
    assert fuse([est("ecg", 0, 0, status="not-available"), None]) is None


def test_zero_variance_is_floored_so_it_cannot_silence_the_other_modality_into_nan():
    f = fuse([est("ecg", 0.0, 0.0, 0.0), est("voice", 1.0, 1.0, 0.0)])
    assert math.isfinite(f.valence) and f.valence == pytest.approx(0.5)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="status 'ok'"):
        est("ecg", 0, 0, status="ok")
    with pytest.raises(ValueError, match="questionable_inflation"):
        fuse([est("ecg", 0, 0)], questionable_inflation=0.5)
