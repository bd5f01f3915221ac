"""Temporal smoothing of VA estimates with an explicit status on every output.

A scalar Kalman filter per dimension (random-walk state): process noise ``q`` per second
says how fast true affect may drift (0.002 /s: roughly a full-scale change takes a
minute); the measurement noise is the model's own predictive variance, inflated for
questionable windows. The uncertainty grows while no valid input arrives; once the last
valid update is older than ``stale_after_s`` the output is ``not-available``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

from .ecg.hrv import NOT_AVAILABLE, QUESTIONABLE, VALID
from .estimator import VaEstimate

__all__ = ["SmoothedVa", "VaSmoother"]


@dataclass(frozen=True)
class SmoothedVa:
    t: float  # source time of the estimate (end of the newest window used)
    valence: float
    arousal: float
    valence_sd: float
    arousal_sd: float
    status: str  # valid | questionable | not-available
    last_update_t: Optional[float]  # source time of the newest input that changed it


class VaSmoother:
    def __init__(self, q_per_s: float = 0.002, questionable_inflation: float = 4.0,
                 stale_after_s: float = 10.0, prior_var: float = 0.5):
        self.q, self.inflation, self.stale_after_s = q_per_s, questionable_inflation, stale_after_s
        self._x = [0.0, 0.0]
        self._p = [prior_var, prior_var]
        self._t: Optional[float] = None
        self._last_update: Optional[float] = None
        self._last_quality = NOT_AVAILABLE

    def _predict(self, t: float) -> None:
        if self._t is not None and t > self._t:
            dt = t - self._t
            self._p = [p + self.q * dt for p in self._p]
        self._t = t if self._t is None else max(self._t, t)

    def update(self, t: float, estimate: Optional[VaEstimate], quality: str) -> SmoothedVa:
        """Advance to ``t``; fold in ``estimate`` unless it is None or quality is not-available."""
        self._predict(t)
        if estimate is not None and quality in (VALID, QUESTIONABLE):
            z = (estimate.valence, estimate.arousal)
            r = [estimate.valence_var, estimate.arousal_var]
            if quality == QUESTIONABLE:
                r = [v * self.inflation for v in r]
            for k in range(2):
                gain = self._p[k] / (self._p[k] + max(r[k], 1e-6))
                self._x[k] += gain * (z[k] - self._x[k])
                self._p[k] *= 1 - gain
            self._last_update, self._last_quality = t, quality
        return self.current(t)

    def current(self, t: float) -> SmoothedVa:
        if self._last_update is None or t - self._last_update > self.stale_after_s:
            status = NOT_AVAILABLE
        else:
            status = self._last_quality
        return SmoothedVa(t, self._x[0], self._x[1], math.sqrt(self._p[0]), math.sqrt(self._p[1]),
                          status, self._last_update)
