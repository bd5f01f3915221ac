"""Precision-weighted fusion of per-modality valence/arousal estimates (pure logic).

Each modality (ECG, voice) gives a mean and a predictive variance per dimension plus a
quality status. The fused mean is the inverse-variance weighted mean and the fused
variance ``1 / sum(1 / var_i)`` - the Bayes posterior for independent Gaussian
measurements of the same quantity. Quality enters as a variance inflation: a
``questionable`` estimate counts ``questionable_inflation`` times less than a valid one
with the same variance; a ``not-available`` one, or one older than ``max_age_s``, does not
count at all. The fused status is ``valid`` when at least one valid modality contributed,
``questionable`` when only questionable ones did, and ``not-available`` when none did.

Every estimate carries the source-clock span (``t_start``, ``t_end``) of the data it came
from; the fused span is the union of the contributing spans.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

from .ecg.hrv import NOT_AVAILABLE, QUESTIONABLE, VALID
from .estimator import VaEstimate

__all__ = ["ModalityEstimate", "FusedEstimate", "fuse", "MIN_VAR"]

MIN_VAR = 1e-6  # a model claiming zero variance must not silence every other modality


@dataclass(frozen=True)
class ModalityEstimate:
    modality: str  # "ecg" | "voice"
    valence: float
    arousal: float
    valence_var: float
    arousal_var: float
    status: str  # valid | questionable | not-available
    t_start: float
    t_end: float
    reason: str = ""

    def __post_init__(self) -> None:
        if self.status not in (VALID, QUESTIONABLE, NOT_AVAILABLE):
            raise ValueError(f"status {self.status!r}: expected {VALID!r}, {QUESTIONABLE!r} or {NOT_AVAILABLE!r}")

    def to_dict(self) -> Dict[str, object]:
        return {"status": self.status, "valence": self.valence, "arousal": self.arousal,
                "valence_var": self.valence_var, "arousal_var": self.arousal_var,
                "data_time": {"start": self.t_start, "end": self.t_end}, "reason": self.reason}


@dataclass(frozen=True)
class FusedEstimate:
    valence: float
    arousal: float
    valence_var: float
    arousal_var: float
    status: str
    t_start: float
    t_end: float
    weights: Dict[str, Tuple[float, float]] = field(default_factory=dict)  # modality -> share of (V, A)
    skipped: Dict[str, str] = field(default_factory=dict)  # modality -> why it did not count

    @property
    def used(self) -> List[str]:
        return sorted(self.weights)

    def as_va_estimate(self) -> VaEstimate:
        return VaEstimate(self.valence, self.arousal, self.valence_var, self.arousal_var)


def fuse(estimates: Sequence[Optional[ModalityEstimate]], *, now: Optional[float] = None,
         max_age_s: Optional[float] = None, questionable_inflation: float = 4.0) -> Optional[FusedEstimate]:
    """Fuse the usable estimates; ``None`` when none is usable (the caller reports not-available).

    ``now`` and ``max_age_s`` (source clock) drop estimates whose data ended too long ago:
    a voice estimate from a sentence spoken a minute ago says nothing about now.
    """
    if not questionable_inflation >= 1:
        raise ValueError(f"questionable_inflation={questionable_inflation!r}: expected a factor >= 1")
    skipped: Dict[str, str] = {}
    rows = []
    for e in estimates:
        if e is None:
            continue
        if e.status == NOT_AVAILABLE:
            skipped[e.modality] = e.reason or NOT_AVAILABLE
            continue
        if now is not None and max_age_s is not None and now - e.t_end > max_age_s:
            skipped[e.modality] = f"stale: data ended {now - e.t_end:.1f} s ago (> {max_age_s:g} s)"
            continue
        k = questionable_inflation if e.status == QUESTIONABLE else 1.0
        wv = 1.0 / (max(e.valence_var, MIN_VAR) * k)
        wa = 1.0 / (max(e.arousal_var, MIN_VAR) * k)
        rows.append((e, wv, wa))
    if not rows:
        return None
    sv = sum(r[1] for r in rows)
    sa = sum(r[2] for r in rows)
    valence = sum(r[0].valence * r[1] for r in rows) / sv
    arousal = sum(r[0].arousal * r[2] for r in rows) / sa
    status = VALID if any(r[0].status == VALID for r in rows) else QUESTIONABLE
    weights = {r[0].modality: (r[1] / sv, r[2] / sa) for r in rows}
    return FusedEstimate(valence, arousal, 1.0 / sv, 1.0 / sa, status,
                         min(r[0].t_start for r in rows), max(r[0].t_end for r in rows), weights, skipped)
