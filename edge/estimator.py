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
from .onnx_model import check_graph_contract
from .providers import create_session

__all__ = ["VaEstimate", "OnnxVaEstimator", "default_hrv_model_manifest"]

log = logging.getLogger(__name__)
MODELS_DIR = Path(__file__).resolve().parent / "models"


def default_hrv_model_manifest() -> Path:
    return MODELS_DIR / "hrv_va" / "manifest.json"


def resolve_manifest(ref: str) -> Path:
    """``builtin:<name>`` = the model shipped in the package (edge/models/<name>); else a path."""
    if ref.startswith("builtin:"):
        return MODELS_DIR / ref[len("builtin:"):] / "manifest.json"
    return Path(ref).expanduser()


@dataclass(frozen=True)
class VaEstimate:
    valence: float
    arousal: float
    valence_var: float
    arousal_var: float


class OnnxVaEstimator:
    """Features -> VA mean and variance. Refuses a model whose hash or contract is off."""

    def __init__(self, manifest_path: Optional[Path] = None, providers: Optional[Sequence[str]] = None,
                 threads: int = 1, variant: str = "fp32", trt_cache_dir: str = "~/.cache/cardiotune/trt",
                 trt_fp16: bool = True):
        self.manifest = ModelManifest.load(manifest_path or default_hrv_model_manifest())
        path = self.manifest.verify_variant(variant)
        self.manifest.require({"inputs.0.name": "features", "inputs.0.feature_names": list(FEATURE_NAMES),
                               "outputs.0.name": "va_mean", "outputs.1.name": "va_logvar"})
        # tiny model: one thread (threads only add overhead); ORT_ENABLE_EXTENDED (edge/providers.py)
        self._session, self.provider_choice = create_session(path, providers, threads, trt_cache_dir, trt_fp16)
        names = [i.name for i in self._session.get_inputs()]
        if names != ["features"]:
            raise ModelContractError(str(path), "graph inputs", ["features"], names)
        check_graph_contract(self.manifest, self._session)
        self.providers: List[str] = self._session.get_providers()
        for _ in range(3):  # warm-up before the runtime reports ready: TensorRT builds its engine here
            self.predict(np.zeros((1, len(FEATURE_NAMES)), np.float32))
        log.info("loaded %s v%s (%s) with providers %s (asked for %s)", self.manifest.data["name"],
                 self.manifest.data["version"], variant, self.providers, self.provider_choice.requested)

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
