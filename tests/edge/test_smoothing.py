from cardiotune.edge.estimator import VaEstimate
from cardiotune.edge.smoothing import VaSmoother


def test_converges_to_a_constant_input_and_shrinks_uncertainty():
    sm = VaSmoother()
    first = sm.update(0.0, VaEstimate(0.5, -0.5, 0.05, 0.05), "valid")
    for t in range(1, 60):
        out = sm.update(float(t), VaEstimate(0.5, -0.5, 0.05, 0.05), "valid")
    assert abs(out.valence - 0.5) < 0.02 and abs(out.arousal + 0.5) < 0.02
    assert out.arousal_sd < first.arousal_sd and out.status == "valid"


def test_questionable_input_moves_the_estimate_less_than_valid_input():
    a, b = VaSmoother(), VaSmoother()
    a.update(0, VaEstimate(0, 0, 0.05, 0.05), "valid")
    b.update(0, VaEstimate(0, 0, 0.05, 0.05), "valid")
    va = a.update(1, VaEstimate(1, 1, 0.05, 0.05), "valid")
    vq = b.update(1, VaEstimate(1, 1, 0.05, 0.05), "questionable")
    assert vq.arousal < va.arousal and vq.status == "questionable"


def test_goes_not_available_when_input_stops_and_uncertainty_grows():
    sm = VaSmoother(stale_after_s=10)
    last = sm.update(0, VaEstimate(0.2, 0.2, 0.05, 0.05), "valid")
    mid = sm.update(5, None, "not-available")
    late = sm.update(11, None, "not-available")
    assert mid.status == "valid" and late.status == "not-available"
    assert late.arousal_sd > mid.arousal_sd > last.arousal_sd
    assert late.last_update_t == 0
