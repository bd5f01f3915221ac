import numpy as np
import pytest
from cardiotune.export.splits import SplitLeakError, assert_disjoint, group_holdout, group_kfold


def test_holdout_never_shares_a_group():
    groups = np.repeat(np.arange(10), 50)  # 10 subjects x 50 windows
    tr, te = group_holdout(groups, 0.2, seed=3)
    assert set(groups[tr]).isdisjoint(groups[te]) and len(set(groups[te])) == 2
    assert len(tr) + len(te) == len(groups)


def test_kfold_covers_every_group_once():
    groups = np.repeat(list("abcdefg"), 3)
    seen = []
    for tr, te in group_kfold(groups, 3, seed=0):
        assert set(groups[tr]).isdisjoint(groups[te])
        seen.extend(sorted(set(groups[te])))
    assert sorted(seen) == list("abcdefg")


def test_leak_is_detected_and_bad_arguments_are_named():
    groups = np.array([1, 1, 2, 2])
    with pytest.raises(SplitLeakError, match="group 1"):
        assert_disjoint(groups, np.array([0]), np.array([1]))
    with pytest.raises(ValueError, match="test_fraction=1.5"):
        group_holdout(groups, 1.5)
    with pytest.raises(ValueError, match="k=5"):
        list(group_kfold(groups, 5))
    with pytest.raises(ValueError, match="only 1 group"):
        group_holdout([7, 7, 7])
