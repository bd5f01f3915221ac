from __future__ import annotations

import numpy as np
import pytest
from cardiotune.export.cmer.metrics import (
    average_rank,
    chance_mrr,
    mrr,
    ranks_from_scores,
    top_fraction_cosine,
)


def test_ranks_mrr_ar():
    s = np.array([[0.9, 0.1, 0.2], [0.8, 0.5, 0.1], [0.3, 0.2, 0.1]])
    r = ranks_from_scores(s)
    assert list(r) == [1, 2, 3]
    assert mrr(r) == pytest.approx((1 + 1 / 2 + 1 / 3) / 3)
    assert average_rank(r) == 2.0


def test_ties_count_against_the_model():
    assert list(ranks_from_scores(np.zeros((4, 4)))) == [4, 4, 4, 4]


def test_chance_mrr_matches_random_scores():
    rng = np.random.default_rng(0)
    vals = [mrr(ranks_from_scores(rng.normal(size=(20, 20)))) for _ in range(400)]
    assert np.mean(vals) == pytest.approx(chance_mrr(20), abs=0.01)


def test_top_fraction_cosine():
    desc = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [-1.0, 0.0]] * 5)
    s = np.eye(20)
    s[0, 2] = 2.0  # query 0's top target is item 2 (same direction: cosine 1)
    s[1, 3] = 2.0  # query 1's top target is item 3 (orthogonal: cosine 0)
    c = top_fraction_cosine(s, desc, 0.05)  # 5 % of 20 = 1 target
    assert c[0] == pytest.approx(1.0) and c[1] == pytest.approx(0.0)
    with pytest.raises(ValueError):
        ranks_from_scores(np.zeros((2, 3)))


def test_non_finite_scores_are_an_error_not_rank_zero():
    # NaN compares False with everything: without the check the query got rank 0 (MRR inf)
    s = np.eye(3)
    s[1, 2] = np.nan
    with pytest.raises(ValueError, match="non-finite"):
        ranks_from_scores(s)
