"""The chain as pure, synchronous logic: ECG chunks in, state and pick events out.

No I/O, no event loop, no wall clock: the same input gives the same events whether it
is replayed at 1x or as fast as possible. The async runtime feeds it and publishes.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import List, Optional, Sequence, Union

from .ecg.frontend import EcgFrontEnd
from .ecg.hrv import NOT_AVAILABLE, QUESTIONABLE, VALID, HrvWindow, HrvWindower, RrFrontEnd
from .estimator import OnnxVaEstimator, VaEstimate
from .features import BaselineTracker, feature_vector
from .recommender import NearestRecommender, Pick, TrackLike
from .smoothing import SmoothedVa, VaSmoother
from .sources.base import EcgChunk, RrChunk

__all__ = ["PipelineConfig", "StateEvent", "PickEvent", "Pipeline"]


@dataclass(frozen=True)
class PipelineConfig:
    window_s: float = 20.0
    hop_s: float = 1.0
    calibration_s: float = 120.0
    min_dwell_s: float = 15.0
    hysteresis: float = 0.15
    no_repeat: int = 4
    q_per_s: float = 0.002
    stale_after_s: float = 10.0


@dataclass(frozen=True)
class StateEvent:
    window: HrvWindow
    raw: Optional[VaEstimate]  # the model's output for this window (None if not estimated)
    va: SmoothedVa
    calibrated: bool
    received: float  # monotonic arrival of the chunk that completed the window

    @property
    def status(self) -> str:
        # before calibration the baseline is provisional: never call that "valid"
        if self.va.status == VALID and not self.calibrated:
            return QUESTIONABLE
        return self.va.status

    def payload_extra(self) -> dict:
        """Fields a richer pipeline adds to the state message (see fused_pipeline)."""
        return {}


@dataclass(frozen=True)
class PickEvent:
    pick: Pick
    window: HrvWindow
    received: float

    def payload_extra(self) -> dict:
        return {}


Event = Union[StateEvent, PickEvent]


class Pipeline:
    def __init__(self, fs: float, estimator: OnnxVaEstimator, tracks: Sequence[TrackLike],
                 config: PipelineConfig = PipelineConfig(), t0: float = 0.0):
        self.config = config
        self.frontend = EcgFrontEnd(fs, t0=t0)
        # no LF/HF on the device: the model reads HR/RMSSD/SDNN, the state message HR/RMSSD, and the
        # periodogram was ~7 % of the chain's CPU (the batch API and training still compute them)
        self.windower = HrvWindower(config.window_s, config.hop_s, t0=t0, spectral=False)
        self.baseline = BaselineTracker(config.calibration_s, t0=t0)
        self.estimator = estimator
        self.smoother = VaSmoother(q_per_s=config.q_per_s, stale_after_s=config.stale_after_s)
        self.recommender = NearestRecommender(tracks, config.min_dwell_s, config.hysteresis, config.no_repeat)
        self.n_beats = 0
        self.rr_frontend: Optional[RrFrontEnd] = None  # created by the first push_rr
        self._t0 = t0

    def push(self, chunk: EcgChunk) -> List[Event]:
        out = self.frontend.push(chunk.samples)
        self.n_beats += len(out.beats)
        events: List[Event] = []
        for window in self.windower.push(out.beats, out.t_decided):
            events.extend(self._on_window(window, chunk.received))
        return events

    def push_rr(self, chunk: RrChunk) -> List[Event]:
        """RR intervals straight from a chest strap: the same windows, features, model and picks as
        beats detected in ECG (the ECG front-end is skipped; windows get no ECG quality segments)."""
        if self.rr_frontend is None:
            self.rr_frontend = RrFrontEnd(self._t0)
        out = self.rr_frontend.push(chunk.rr_s, chunk.t_beats)
        self.n_beats += len(out.beats)
        events: List[Event] = []
        for window in self.windower.push(out.beats, out.t_decided):
            events.extend(self._on_window(window, chunk.received))
        return events

    def push_audio(self, chunk) -> list:
        """ECG-only chain: audio is not used (see :class:`.fused_pipeline.FusedPipeline`)."""
        return []

    def _on_window(self, window: HrvWindow, received: float) -> List[Event]:
        self.baseline.update(window)
        baseline = self.baseline.baseline
        raw: Optional[VaEstimate] = None
        if window.quality != NOT_AVAILABLE and baseline is not None:
            x = feature_vector(window, baseline)
            if all(math.isfinite(v) for v in x):
                raw = self.estimator.estimate(x)
        va = self.smoother.update(window.t_end, raw, window.quality if raw is not None else NOT_AVAILABLE)
        state = StateEvent(window, raw, va, self.baseline.calibrated, received)
        events: List[Event] = [state]
        if state.status != NOT_AVAILABLE:
            pick = self.recommender.update(va)
            if pick is not None:
                events.append(PickEvent(pick, window, received))
        return events
