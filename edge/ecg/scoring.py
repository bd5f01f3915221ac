"""Beat-detection scoring against reference annotations (pure logic, no I/O).

Standard practice (ANSI/AAMI EC57): a detection matches a reference beat when it lies
within +-``tolerance`` of it; each reference and each detection matches at most once.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Iterable, Sequence, Tuple

import numpy as np

__all__ = ["AAMI_BEAT_SYMBOLS", "BeatScore", "match_beats", "gross", "drop_excluded"]

AAMI_BEAT_SYMBOLS = frozenset("NLRejAaJSVEF/fQ")


@dataclass
class BeatScore:
    tp: int
    fn: int
    fp: int
    errors_s: np.ndarray  # detection - reference for every match, seconds

    @property
    def se(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else math.nan

    @property
    def ppv(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else math.nan

    @property
    def f1(self) -> float:
        d = 2 * self.tp + self.fp + self.fn
        return 2 * self.tp / d if d else math.nan

    def timing_ms(self) -> dict:
        e = 1000.0 * self.errors_s
        if e.size == 0:
            return {"mean": math.nan, "sd": math.nan, "median_abs": math.nan}
        med = float(np.median(np.abs(e)))
        return {"mean": float(e.mean()), "sd": float(e.std()), "median_abs": med}

    def as_dict(self) -> dict:
        d = {k: v for k, v in asdict(self).items() if k != "errors_s"}
        d.update(se=self.se, ppv=self.ppv, f1=self.f1, timing_ms=self.timing_ms())
        return d


def drop_excluded(t: np.ndarray, exclude: Sequence[Tuple[float, float]]) -> np.ndarray:
    keep = np.ones(t.size, bool)
    for a, b in exclude:
        keep &= ~((t >= a) & (t <= b))
    return t[keep]


def match_beats(
    ref_s: np.ndarray,
    det_s: np.ndarray,
    tolerance_s: float = 0.15,
    exclude: Sequence[Tuple[float, float]] = (),
) -> BeatScore:
    """Greedy nearest matching in time order (both sorted); O(n log n).

    ``exclude``: (start, end) times scored for neither side - EC57 / ``bxb`` exclude
    ventricular flutter/fibrillation episodes (``[`` to ``]``) from QRS statistics.
    """
    ref = drop_excluded(np.sort(np.asarray(ref_s, dtype=float)), exclude)
    det = drop_excluded(np.sort(np.asarray(det_s, dtype=float)), exclude)
    if ref.size == 0 or det.size == 0:
        return BeatScore(0, int(ref.size), int(det.size), np.zeros(0))
    # candidate pairs: each detection with its nearest reference, accepted closest-first
    j = np.clip(np.searchsorted(ref, det), 1, ref.size - 1)
    left, right = ref[j - 1], ref[j]
    nearest = np.where(np.abs(det - left) <= np.abs(det - right), j - 1, j)
    dist = np.abs(det - ref[nearest])
    order = np.argsort(dist, kind="stable")
    used_ref = np.zeros(ref.size, bool)
    errors = []
    tp = 0
    for k in order:
        if dist[k] > tolerance_s:
            break
        r = nearest[k]
        if not used_ref[r]:
            used_ref[r] = True
            tp += 1
            errors.append(det[k] - ref[r])
    # a detection whose nearest reference was taken may still match the other neighbour
    # within tolerance; that case is rare (beats >= 200 ms apart) and scored as FP here.
    return BeatScore(tp, int(ref.size - tp), int(det.size - tp), np.asarray(errors))


def gross(scores: Iterable[BeatScore]) -> BeatScore:
    scores = list(scores)
    errs = [s.errors_s for s in scores if s.errors_s.size]
    tp, fn, fp = (sum(getattr(s, k) for s in scores) for k in ("tp", "fn", "fp"))
    return BeatScore(tp, fn, fp, np.concatenate(errs) if errs else np.zeros(0))
