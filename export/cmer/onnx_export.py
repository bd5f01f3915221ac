"""Ship CMER-CL to the device: the emotion branch as ONNX plus the catalog's music embeddings.

The device ranks tracks with CMER-CL's composite similarity (``edge/music/similarity.py``):
the query is the emotion branch's embedding of the target valence/arousal, computed on
the device by the exported ONNX graph (input ``va`` ``(batch, time, 2)`` ordered
[valence, arousal]; outputs ``e``, ``mu``, ``var``); each track's music embedding is
computed here once, by the music branch, and stored in ``embeddings.json`` next to it.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Dict

import numpy as np

from ..._imports import import_optional
from ..onnx_io import export_with_manifest

torch = import_optional("torch", "train", "exporting CMER-CL")

__all__ = ["export_cmer_catalog", "EMBEDDINGS_SCHEMA"]

EMBEDDINGS_SCHEMA = "cardiotune.catalog-embeddings/1"


def export_cmer_catalog(model, music_features: Dict[str, np.ndarray], out_dir: Path, *, lam: float,
                        version: str = "0.0.0", seed: int = 0) -> Path:
    """Write ``emotion/model.onnx`` + manifest and ``embeddings.json``; returns the latter's path.

    ``music_features``: track id -> that track's (already standardised) music feature
    sequence ``(T, F)`` or vector ``(F,)``, as the model was trained on.
    """
    if not 0 <= lam <= 1:
        raise ValueError(f"lam={lam!r}: expected a weight in [0, 1]")
    out_dir = Path(out_dir)
    model.eval()
    rng = np.random.default_rng(seed)
    example = rng.uniform(-1, 1, size=(2, 1, 2)).astype(np.float32)
    longer = rng.uniform(-1, 1, size=(3, 5, 2)).astype(np.float32)
    manifest = export_with_manifest(
        model.emotion, [example], out_dir / "emotion", name="cmer_emotion", version=version,
        input_names=["va"], output_names=["e", "mu", "var"],
        dynamic_axes={"va": {0: "batch", 1: "time"}, "e": {0: "batch"}, "mu": {0: "batch"}, "var": {0: "batch"}},
        manifest_extra={"inputs": [{"name": "va", "shape": ["batch", "time", 2], "order": ["valence", "arousal"]}],
                        "outputs": [{"name": "e"}, {"name": "mu"}, {"name": "var"}]},
        parity_batches=[[longer]], tolerance=1e-4,
    )
    tracks = {}
    with torch.no_grad():
        for tid, feat in music_features.items():
            x = torch.as_tensor(np.asarray(feat, dtype=np.float32))
            x = x[None] if x.ndim == 2 else x[None, None]
            e, mu, var = model.music(x)
            tracks[tid] = {"e": e[0].tolist(), "mu": mu[0].tolist(), "var": var[0].tolist()}
    path = out_dir / "embeddings.json"
    path.write_text(json.dumps({"schema": EMBEDDINGS_SCHEMA, "lam": lam,
                                "emotion_encoder": str(manifest.relative_to(out_dir)), "tracks": tracks}) + "\n",
                    encoding="utf-8")
    return path
