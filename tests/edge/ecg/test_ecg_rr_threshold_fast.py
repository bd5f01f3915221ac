"""The vectorised quartile-deviation threshold equals the per-window loop it replaced."""
import numpy as np
from cardiotune.edge.ecg.rr import ALPHA, MIN_TH_S, _qd_threshold


def _loop(v, half=45):
    a = np.abs(v)
    out = np.empty(a.size)
    for i in range(a.size):
        q1, q3 = np.percentile(a[max(i - half, 0): i + half + 1], [25, 75])
        out[i] = ALPHA * (q3 - q1) / 2.0
    return np.maximum(out, MIN_TH_S)


def test_vectorised_threshold_is_exactly_the_loop():
    rng = np.random.default_rng(5)
    for n in (1, 4, 50, 90, 91, 92, 137, 400):
        v = rng.normal(0, 0.08, size=n)
        v[rng.integers(0, n, size=max(1, n // 20))] *= 8  # outliers, as ectopic beats make
        assert np.array_equal(_qd_threshold(v), _loop(v)), n


def test_quantised_series_and_the_median_match_numpy_and_scipy():
    from cardiotune.edge.ecg.rr import _median11
    from scipy.ndimage import median_filter

    rng = np.random.default_rng(6)
    for n in (1, 2, 3, 4, 5, 10, 11, 12, 35, 91, 150):
        rr = np.round(rng.normal(0.8, 0.05, size=n), 2)  # ties, as 1/fs-quantised beats make
        assert np.array_equal(_qd_threshold(rr - 0.8), _loop(rr - 0.8)), n
        ref = median_filter(rr, size=min(11, n | 1), mode="nearest")
        assert np.array_equal(_median11(rr), ref), n
