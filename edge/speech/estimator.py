"""The speech valence/arousal model run by onnxruntime, with its manifest checked at load.

Contract (written by ``cardiotune.export.speech.onnx_export``): one input ``logmel``
``(batch, frames, n_mels)`` float32 - exactly what :func:`..features.log_mel` returns for
``clip_s`` seconds of 16 kHz audio - and outputs ``va_mean`` ``(batch, 2)`` and
``va_logvar`` ``(batch, 2)``. The manifest's ``feature`` block must equal the device's
:class:`LogMelConfig`, so a model trained on other features never runs.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import List, Optional, Sequence

import numpy as np

from cardiotune.errors import ModelContractError

from ..estimator import VaEstimate
from ..manifest import ModelManifest
from ..onnx_model import OnnxModel
from .features import LogMelConfig

__all__ = ["OnnxSpeechEstimator", "SPEECH_INPUT"]

log = logging.getLogger(__name__)
SPEECH_INPUT = "logmel"


class OnnxSpeechEstimator:
    def __init__(self, manifest_path: Path, providers: Optional[Sequence[str]] = None):
        self.manifest = ModelManifest.load(Path(manifest_path))
        self.manifest.require({"inputs.0.name": SPEECH_INPUT})
        data = self.manifest.data
        outputs = [o.get("name") for o in data["outputs"]]
        if not {"va_mean", "va_logvar"} <= set(outputs):
            raise ModelContractError(str(self.manifest.path), "outputs", ["va_mean", "va_logvar"], outputs)
        spec = data["inputs"][0]  # feature config and clip length: on the input, or at the top level
        try:
            self.feature = LogMelConfig(**(spec.get("feature") or data["feature"]))
            self.clip_s = float(spec.get("clip_s") or data["clip_s"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelContractError(str(self.manifest.path), "feature / clip_s",
                                     "a LogMelConfig table and clip_s seconds", repr(exc)) from None
        # one loading path for every model: size/sha256, graph contract, providers, warm-up
        self._model = OnnxModel(self.manifest, providers=providers)
        if self._model.input_names != [SPEECH_INPUT]:
            raise ModelContractError(str(self.manifest.model_path), "graph inputs", [SPEECH_INPUT],
                                     self._model.input_names)
        self.providers: List[str] = self._model.providers
        log.info("loaded speech model %s v%s with providers %s", data["name"], data["version"], self.providers)

    @property
    def name(self) -> str:
        return str(self.manifest.data["name"])

    @property
    def version(self) -> str:
        return str(self.manifest.data["version"])

    @property
    def n_frames(self) -> int:
        return self.feature.n_frames(int(round(self.clip_s * self.feature.sample_rate)))

    def estimate(self, logmel: np.ndarray) -> VaEstimate:
        x = np.asarray(logmel, dtype=np.float32)
        if x.ndim != 2 or x.shape[1] != self.feature.n_mels:
            raise ValueError(f"log-mel of shape {x.shape}: expected (frames, {self.feature.n_mels})")
        out = self._model.run({SPEECH_INPUT: x[None]})
        mean, logvar = out["va_mean"], out["va_logvar"]
        var = np.exp(logvar[0])
        return VaEstimate(float(mean[0, 0]), float(mean[0, 1]), float(var[0]), float(var[1]))
