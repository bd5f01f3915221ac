"""VA estimators: an ONNX model plus its manifest, run by onnxruntime.

onnxruntime is imported lazily (in the session factory) so importing the runtime stays
cheap; one session per model, created once.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Sequence

import numpy as np

from cardiotune.errors import ModelContractError

from .features import FEATURE_NAMES
from .manifest import ModelManifest

__all__ = ["VaEstimate", "OnnxVaEstimator", "default_hrv_model_manifest"]

log = logging.getLogger(__name__)
MODELS_DIR = Path(__file__).resolve().parent / "models"


def default_hrv_model_manifest() -> Path:
    return MODELS_DIR / "hrv_va" / "manifest.json"


@dataclass(frozen=True)
class VaEstimate:
    valence: float
    arousal: float
    valence_var: float
    arousal_var: float


class OnnxVaEstimator:
    """Features -> VA mean and variance. Refuses a model whose hash or contract is off."""

    def __init__(self, manifest_path: Optional[Path] = None, providers: Optional[Sequence[str]] = None):
        self.manifest = ModelManifest.load(manifest_path or default_hrv_model_manifest())
        self.manifest.verify_file()
        self.manifest.require({"inputs.0.name": "features", "inputs.0.feature_names": list(FEATURE_NAMES),
                               "outputs.0.name": "va_mean", "outputs.1.name": "va_logvar"})
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1  # tiny model: threads only add overhead
        opts.inter_op_num_threads = 1
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
        self._session = ort.InferenceSession(
            str(self.manifest.model_path), sess_options=opts,
            providers=list(providers) if providers else ["CPUExecutionProvider"],
        )
        names = [i.name for i in self._session.get_inputs()]
        if names != ["features"]:
            raise ModelContractError(str(self.manifest.model_path), "graph inputs", ["features"], names)
        self.providers: List[str] = self._session.get_providers()
        log.info("loaded %s v%s with providers %s", self.manifest.data["name"],
                 self.manifest.data["version"], self.providers)

    @property
    def version(self) -> str:
        return str(self.manifest.data["version"])

    def predict(self, features: np.ndarray) -> np.ndarray:
        """Batch (N, F) -> (N, 4): valence, arousal, var_v, var_a."""
        x = np.asarray(features, dtype=np.float32).reshape(-1, len(FEATURE_NAMES))
        mean, logvar = self._session.run(["va_mean", "va_logvar"], {"features": x})
        return np.concatenate([mean, np.exp(logvar)], axis=1)

    def estimate(self, features: np.ndarray) -> VaEstimate:
        v, a, vv, va = (float(x) for x in self.predict(features)[0])
        return VaEstimate(v, a, vv, va)
