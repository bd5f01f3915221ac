"""Splits by subject / speaker / song - the only kind this project allows.

CardioMusic's public code split windows at random, so windows of one subject landed in
both train and test. Here every split function takes the *group* of each item and
returns index arrays whose groups are disjoint; there is no window-level split function
to call by accident. ``assert_disjoint`` re-checks any split handed to training.
"""
from __future__ import annotations

from typing import Iterator, List, Sequence, Tuple

import numpy as np

__all__ = ["group_holdout", "group_kfold", "assert_disjoint", "SplitLeakError"]


class SplitLeakError(ValueError):
    """A group (subject/speaker/song) appears on both sides of a split."""


def _groups(groups: Sequence) -> np.ndarray:
    g = np.asarray(groups)
    if g.ndim != 1 or g.size == 0:
        raise ValueError(f"groups has shape {g.shape}: expected a non-empty 1-D sequence of group ids")
    return g


def group_holdout(groups: Sequence, test_fraction: float = 0.2, seed: int = 0) -> Tuple[np.ndarray, np.ndarray]:
    """Hold out about ``test_fraction`` of the *groups* (not the items). Returns (train_idx, test_idx)."""
    g = _groups(groups)
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction={test_fraction!r}: expected a number in (0, 1)")
    uniq = np.unique(g)
    if uniq.size < 2:
        raise ValueError(f"only {uniq.size} group(s): a group split needs at least 2")
    rng = np.random.default_rng(seed)
    n_test = min(max(1, int(round(test_fraction * uniq.size))), uniq.size - 1)
    test_groups = rng.permutation(uniq)[:n_test]
    test = np.isin(g, test_groups)
    return np.nonzero(~test)[0], np.nonzero(test)[0]


def group_kfold(groups: Sequence, k: int, seed: int = 0) -> Iterator[Tuple[np.ndarray, np.ndarray]]:
    """K folds over groups (leave-groups-out). Yields (train_idx, test_idx)."""
    g = _groups(groups)
    uniq = np.unique(g)
    if not 2 <= k <= uniq.size:
        raise ValueError(f"k={k!r}: expected 2 <= k <= number of groups ({uniq.size})")
    perm = np.random.default_rng(seed).permutation(uniq)
    folds: List[np.ndarray] = np.array_split(perm, k)
    for fold in folds:
        test = np.isin(g, fold)
        yield np.nonzero(~test)[0], np.nonzero(test)[0]


def assert_disjoint(groups: Sequence, *index_sets: np.ndarray) -> None:
    """Raise :class:`SplitLeakError` if any group occurs in more than one index set."""
    g = _groups(groups)
    seen = {}
    for k, idx in enumerate(index_sets):
        for grp in np.unique(g[np.asarray(idx, dtype=int)]).tolist():
            if grp in seen and seen[grp] != k:
                raise SplitLeakError(f"group {grp!r} is in split {seen[grp]} and split {k}")
            seen[grp] = k
