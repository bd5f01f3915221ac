"""The chain with both modalities: ECG windows and voice estimates fused before smoothing.

Still pure and synchronous (no I/O, no wall clock). Differences from :class:`Pipeline`:

- ECG chunks go through ``EcgFrontEnd.push_chunk`` so a device's lead-off flag and
  timestamp gaps reach the HRV windows (with their quality segments);
- each HRV window's ECG estimate is fused (:func:`.fusion.fuse`, precision-weighted) with
  the newest voice estimate that is at most ``voice_max_age_s`` old, then smoothed;
- a window that overlaps a *lost-signal* span - lead-off reported by the device, or a
  second the quality stage labels not-available (flat line, saturation, missing samples)
  - contributes no ECG estimate, and a state to which no modality contributed never
  produces a pick (it may carry the previous value forward as ``questionable`` until
  ``stale_after_s``; with the signal lost it is ``not-available`` at once). So lead-off or
  unusable signal for 10 s gives zero picks from the windows that contain it;
- every state names each modality's estimate, status and data span (``modalities``) and
  the fused data span; every pick carries that basis in its explanation.

Smoothing (Kalman, random walk per dimension, see :mod:`.smoothing`): process noise
``q_per_s`` (default 0.002 /s, i.e. the true state may drift about 0.045 per second
standard deviation); measurement noise is the *fused* variance, which already contains
the questionable inflation, so the smoother's own inflation is set to 1.
"""
from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Deque, Dict, List, Optional, Sequence, Tuple

from .ecg.hrv import NOT_AVAILABLE, QUESTIONABLE, HrvWindow
from .features import Baseline, BaselineTracker, feature_vector
from .fusion import FusedEstimate, ModalityEstimate, fuse
from .pipeline import Event, PickEvent, Pipeline, PipelineConfig, StateEvent
from .recommender import TrackLike
from .smoothing import VaSmoother
from .sources.base import AudioChunk, EcgChunk

__all__ = ["FusedPipeline", "FusedStateEvent", "FusedPickEvent", "FusionConfig"]


@dataclass(frozen=True)
class FusionConfig:
    voice_max_age_s: float = 10.0  # a voice estimate counts for this long after its audio ended
    questionable_inflation: float = 4.0  # variance factor for questionable estimates


@dataclass(frozen=True)
class FusedStateEvent(StateEvent):
    fused: Optional[FusedEstimate] = None
    modalities: Dict[str, Dict[str, Any]] = field(default_factory=dict)
    signal_lost: bool = False  # the window overlaps lead-off or unusable ECG

    @property
    def status(self) -> str:
        if self.fused is None:
            if self.signal_lost or self.va.status == NOT_AVAILABLE:
                return NOT_AVAILABLE
            return QUESTIONABLE  # the last estimate carried forward: never valid, never picked on
        return super().status

    @property
    def pickable(self) -> bool:
        return self.fused is not None and self.status != NOT_AVAILABLE

    @property
    def data_span(self) -> Tuple[float, float]:
        if self.fused is None:
            return self.window.t_start, self.window.t_end
        return min(self.fused.t_start, self.window.t_start), max(self.fused.t_end, self.window.t_end)

    def payload_extra(self) -> Dict[str, Any]:
        t0, t1 = self.data_span
        return {"data_time": {"start": _num(t0, 3), "end": _num(t1, 3)},
                "modalities": {k: _clean(v) for k, v in self.modalities.items()}}


@dataclass(frozen=True)
class FusedPickEvent(PickEvent):
    basis: Dict[str, Any] = field(default_factory=dict)

    def payload_extra(self) -> Dict[str, Any]:
        return {"basis": _clean(self.basis)}


def _num(x, nd: int = 4):
    if x is None or not isinstance(x, (int, float)) or not math.isfinite(x):
        return None
    return round(float(x), nd)


def _clean(d):
    """JSON-safe copy: floats rounded, NaN -> null."""
    if isinstance(d, dict):
        return {k: _clean(v) for k, v in d.items()}
    if isinstance(d, (list, tuple)):
        return [_clean(v) for v in d]
    if isinstance(d, float):
        return _num(d)
    return d


class FusedPipeline(Pipeline):
    def __init__(self, fs: float, estimator, tracks: Sequence[TrackLike], config: PipelineConfig = PipelineConfig(),
                 t0: float = 0.0, *, voice=None, voice_reason: str = "", fusion: FusionConfig = FusionConfig(),
                 baseline: Optional[Baseline] = None, recommender=None):
        super().__init__(fs, estimator, tracks, config, t0)
        if recommender is not None:  # e.g. with feedback settings or CMER similarity (assemble.py)
            self.recommender = recommender
        self.smoother = VaSmoother(q_per_s=config.q_per_s, questionable_inflation=1.0,
                                   stale_after_s=config.stale_after_s)
        if baseline is not None:
            self.baseline = BaselineTracker.fixed(baseline)
        self.voice = voice  # a VoiceAnalyzer, or None when no voice model/microphone
        self.voice_reason = voice_reason if voice is None else ""
        self.fusion = fusion
        self.voice_latest: Optional[ModalityEstimate] = None
        self._lost: Deque[Tuple[float, float, str]] = deque()  # (start, end, why) of lost ECG signal
        self.lead_off_s = 0.0

    # ------------------------------------------------------------------ inputs
    def push(self, chunk: EcgChunk) -> List[Event]:
        out = self.frontend.push_chunk(chunk)
        for g0, g1 in out.gaps:
            self.windower.mark_gap(g0, g1, "samples missing")
        if chunk.lead_off:
            t1 = chunk.t_first + len(chunk.samples) / chunk.fs
            self.lead_off_s += t1 - chunk.t_first
            self._mark_lost(chunk.t_first, t1, "electrode lead-off", 1.5 / chunk.fs)
        for seg in out.quality:
            if seg.label == NOT_AVAILABLE:
                self._mark_lost(seg.t_start, seg.t_end, f"signal unusable ({seg.reason})", 1e-6)
        self.n_beats += len(out.beats)
        events: List[Event] = []
        for window in self.windower.push(out.beats, out.t_decided, out.quality):
            events.extend(self._on_window(window, chunk.received))
            # windows start later and later: spans that ended before this one began are done with
            while self._lost and self._lost[0][1] <= window.t_start:
                self._lost.popleft()
        return events

    def push_audio(self, chunk: AudioChunk) -> List[ModalityEstimate]:
        if self.voice is None:
            return []
        estimates = self.voice.push(chunk)
        if estimates:
            self.voice_latest = estimates[-1]
        return estimates

    # ------------------------------------------------------------------ windows
    def _mark_lost(self, t0: float, t1: float, why: str, tol: float) -> None:
        last = self._lost[-1] if self._lost else None
        if last is not None and last[2] == why and abs(last[1] - t0) < tol:
            self._lost[-1] = (last[0], t1, why)  # one span per contiguous stretch
        else:
            self._lost.append((t0, t1, why))

    def _lost_in(self, window: HrvWindow) -> str:
        """Why the ECG signal was lost somewhere in this window ("" if it was not)."""
        for s, e, why in self._lost:
            if s < window.t_end and e > window.t_start:
                return why
        return ""

    def _ecg_estimate(self, window: HrvWindow, lost: str):
        self.baseline.update(window)
        baseline = self.baseline.baseline
        nan = math.nan
        if lost:
            return None, ModalityEstimate("ecg", nan, nan, nan, nan, NOT_AVAILABLE, window.t_start, window.t_end,
                                          f"{lost} in this window")
        if window.quality == NOT_AVAILABLE or baseline is None:
            why = window.reason if window.quality == NOT_AVAILABLE else "no resting baseline yet"
            return None, ModalityEstimate("ecg", nan, nan, nan, nan, NOT_AVAILABLE, window.t_start, window.t_end,
                                          why)
        x = feature_vector(window, baseline)
        if not all(math.isfinite(v) for v in x):
            return None, ModalityEstimate("ecg", nan, nan, nan, nan, NOT_AVAILABLE, window.t_start, window.t_end,
                                          "HRV features missing")
        raw = self.estimator.estimate(x)
        return raw, ModalityEstimate("ecg", raw.valence, raw.arousal, raw.valence_var, raw.arousal_var,
                                     window.quality, window.t_start, window.t_end, window.reason)

    def _on_window(self, window: HrvWindow, received: float) -> List[Event]:
        lost = self._lost_in(window)
        raw, ecg = self._ecg_estimate(window, lost)
        voice = self.voice_latest
        fused = fuse([ecg, voice], now=window.t_end, max_age_s=self.fusion.voice_max_age_s,
                     questionable_inflation=self.fusion.questionable_inflation)
        va = self.smoother.update(window.t_end, fused.as_va_estimate() if fused is not None else None,
                                  fused.status if fused is not None else NOT_AVAILABLE)
        modalities: Dict[str, Dict[str, Any]] = {"ecg": ecg.to_dict()}
        if voice is not None:
            modalities["voice"] = voice.to_dict()
            if fused is not None and "voice" in fused.skipped:
                modalities["voice"]["reason"] = fused.skipped["voice"]
                modalities["voice"]["status"] = NOT_AVAILABLE
        else:
            modalities["voice"] = {"status": NOT_AVAILABLE, "reason": self.voice_reason or "no speech analysed yet"}
        for name, d in modalities.items():
            d["weight"] = list(fused.weights[name]) if fused is not None and name in fused.weights else [0.0, 0.0]
        state = FusedStateEvent(window, raw, va, self.baseline.calibrated, received, fused=fused,
                                modalities=modalities, signal_lost=bool(lost))
        events: List[Event] = [state]
        if state.pickable:
            pick = self.recommender.update(va)
            if pick is not None:
                basis = {"status": state.status, "data_time": list(state.data_span),
                         "modalities": {k: {"status": v["status"], "weight": v["weight"]}
                                        for k, v in modalities.items()}}
                events.append(FusedPickEvent(pick, window, received, basis=basis))
        return events
