"""Build the fused chain from a :class:`RuntimeConfig`: ECG model, optional voice model,
policy, feedback, stored per-user baseline. Used by :func:`.app.run_app`.

No voice model configured (none is shipped yet) or one that fails to load is a reported
state, not a crash: the chain runs ECG-only and says why in ``voice_status``.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Callable, Dict, Optional, Sequence

from cardiotune.errors import ModelError

from .calibration import CalibrationStore
from .config import RuntimeConfig
from .estimator import resolve_manifest
from .fused_pipeline import FusedPipeline, FusionConfig
from .policy import make_policy
from .recommender import FeedbackConfig, NearestRecommender

__all__ = ["Assembled", "Parts", "build_fused_pipeline"]

log = logging.getLogger(__name__)


@dataclass
class Parts:
    """What does not depend on the sample rate: loaded once, reused when a live device's first
    data states a rate other than the one assumed (the chain is rebuilt, the models are not)."""

    voice: Any
    voice_status: Dict[str, Any]
    similarity: Any
    store: Optional[CalibrationStore]
    stored: Any


@dataclass
class Assembled:
    pipeline: FusedPipeline
    calibration: Dict[str, Any]
    on_event: Callable[[object], None]  # stores the baseline once calibration completes
    parts: Parts

    @property
    def voice_status(self) -> Dict[str, Any]:
        return self.parts.voice_status


def _voice(cfg: RuntimeConfig):
    manifest = cfg.get("voice.manifest")
    if not manifest:
        return None, {"status": "not-available", "reason": "no voice model configured (voice.manifest); ECG only"}
    from .speech.estimator import OnnxSpeechEstimator
    from .voice import VoiceAnalyzer

    try:
        est = OnnxSpeechEstimator(resolve_manifest(manifest))
    except ModelError as exc:
        log.error("voice model not loaded (%s); running ECG only", exc)
        return None, {"status": "not-available", "reason": f"voice model not loaded: {exc}"}
    analyzer = VoiceAnalyzer(est, hop_s=cfg.get("voice.hop_s"), min_speech_frac=cfg.get("voice.min_speech_frac"),
                             valid_speech_frac=max(cfg.get("voice.min_speech_frac"), 0.8))
    return analyzer, {"status": "ready", "model": {"name": est.name, "version": est.version},
                      "providers": est.providers, "record_audio": cfg.get("voice.record_audio")}


def _parts(cfg: RuntimeConfig, tracks: Sequence, similarity) -> Parts:
    voice, voice_status = _voice(cfg)
    if similarity is None and cfg.get("recommender.embeddings"):
        from .music.cmer import load_cmer_similarity

        similarity = load_cmer_similarity(cfg.get("recommender.embeddings"), [t.id for t in tracks])
    user = cfg.get("calibration.user")
    store = CalibrationStore(cfg.get("calibration.data_dir") or None) if user else None
    return Parts(voice, voice_status, similarity, store, store.load(user) if store is not None else None)


def build_fused_pipeline(cfg: RuntimeConfig, fs: float, estimator, tracks: Sequence, pipeline_cfg,
                         similarity=None, parts: Optional[Parts] = None) -> Assembled:
    """The chain at ``fs``; ``parts``: those of an earlier build (same config), not loaded again."""
    if parts is None:
        parts = _parts(cfg, tracks, similarity)
    voice, voice_status, similarity, store, stored = (parts.voice, parts.voice_status, parts.similarity,
                                                      parts.store, parts.stored)
    user = cfg.get("calibration.user")
    calibration: Dict[str, Any] = {"user": user or None, "stored": stored is not None}
    if stored is not None:
        calibration.update(baseline=stored.baseline.to_dict(), source=stored.source)
        log.info("using the stored resting baseline of %s (%s)", user, store.path(user))
    fb = FeedbackConfig(cfg.get("recommender.skip_penalty"), cfg.get("recommender.like_bonus"),
                        cfg.get("recommender.like_radius"), cfg.get("recommender.feedback_half_life_s"),
                        cfg.get("recommender.ahead_s"))
    recommender = NearestRecommender(tracks, pipeline_cfg.min_dwell_s, pipeline_cfg.hysteresis,
                                     pipeline_cfg.no_repeat, similarity=similarity, feedback=fb)
    pipeline = FusedPipeline(fs, estimator, tracks, pipeline_cfg, voice=voice,
                             voice_reason=voice_status.get("reason", ""),
                             fusion=FusionConfig(cfg.get("voice.max_age_s"), cfg.get("fusion.questionable_inflation")),
                             baseline=stored.baseline if stored is not None else None, recommender=recommender)
    policy = cfg.get("policy.name")
    if policy != "match":
        goal = cfg.get("policy.goal")
        pipeline.recommender.set_policy(make_policy(policy, goal if isinstance(goal, str) else list(goal),
                                                    cfg.get("policy.ramp_s")), repick=False)

    saved = {"done": stored is not None or store is None}

    def on_event(event) -> None:
        if saved["done"] or not pipeline.baseline.calibrated:
            return
        saved["done"] = True
        kind = cfg.get("source.kind")
        what = cfg.get("source.path") if kind == "replay" else f"a live {kind} source"
        path = store.save(user, pipeline.baseline.baseline, f"first {pipeline_cfg.calibration_s:g} s of {what}",
                          pipeline_cfg.calibration_s)
        calibration.update(saved_to=str(path), baseline=pipeline.baseline.baseline.to_dict())

    return Assembled(pipeline, calibration, on_event, parts)
