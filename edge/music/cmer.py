"""Load CMER-CL's composite similarity for a catalog with embeddings (see
``export/cmer/onnx_export.py``): the emotion encoder runs in onnxruntime, the tracks'
music embeddings come from ``embeddings.json``."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Dict, Sequence, Union

import numpy as np

from cardiotune.errors import DataError, ModelContractError

from ..manifest import ModelManifest
from ..onnx_model import OnnxModel
from .similarity import CmerComposite, Embedding

__all__ = ["OnnxEmotionEmbedder", "load_cmer_similarity", "EMBEDDINGS_SCHEMA"]

EMBEDDINGS_SCHEMA = "cardiotune.catalog-embeddings/1"


class OnnxEmotionEmbedder:
    """``(valence, arousal) -> (e, mu, var)`` by CMER-CL's emotion branch (a length-1 sequence)."""

    def __init__(self, manifest_path: Path):
        self.manifest = ModelManifest.load(Path(manifest_path))
        self.manifest.require({"inputs.0.name": "va"})
        self._model = OnnxModel(self.manifest)  # sha256/size, graph contract, warm-up
        names = self._model.output_names
        if names != ["e", "mu", "var"]:
            raise ModelContractError(str(self.manifest.model_path), "graph outputs", ["e", "mu", "var"], names)

    def __call__(self, valence: float, arousal: float) -> Embedding:
        x = np.array([[[valence, arousal]]], dtype=np.float32)
        out = self._model.run({"va": x})
        e, mu, var = out["e"], out["mu"], out["var"]
        return e[0].astype(np.float64), mu[0].astype(np.float64), var[0].astype(np.float64)


def load_cmer_similarity(path: Union[str, Path], track_ids: Sequence[str]) -> CmerComposite:
    """The composite similarity for a catalog; every id in ``track_ids`` must have an embedding."""
    path = Path(path).expanduser()
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(f"catalog embeddings {path} do not exist") from None
    except ValueError as exc:
        raise DataError(f"catalog embeddings {path} are not valid JSON: {exc}") from None
    if doc.get("schema") != EMBEDDINGS_SCHEMA:
        raise DataError(f"catalog embeddings {path}: schema {doc.get('schema')!r}, expected {EMBEDDINGS_SCHEMA!r}")
    tracks: Dict[str, Embedding] = {}
    for tid, d in doc.get("tracks", {}).items():
        try:
            tracks[tid] = (np.asarray(d["e"], float), np.asarray(d["mu"], float), np.asarray(d["var"], float))
        except (KeyError, TypeError, ValueError):
            raise DataError(f"catalog embeddings {path}: track {tid!r} needs numeric 'e', 'mu' and 'var'") from None
    missing = [t for t in track_ids if t not in tracks]
    if missing:
        raise DataError(f"catalog embeddings {path} lack {len(missing)} catalog track(s), e.g. {missing[:3]}")
    embedder = OnnxEmotionEmbedder(path.parent / doc["emotion_encoder"])
    return CmerComposite(embedder, tracks, float(doc["lam"]))
