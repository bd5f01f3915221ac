"""Export a speech model to ONNX with the manifest the device's speech estimator checks.

The graph takes ``logmel`` ``(batch, frames, n_mels)`` - the device's numpy log-mel of
``clip_s`` seconds of 16 kHz audio - and returns ``va_mean`` and ``va_logvar`` (the class
logits stay in PyTorch: the device only needs valence/arousal and their uncertainty).
The manifest records the feature config and clip length so a mismatch never runs.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np

from ..._imports import import_optional
from ...edge.speech import LogMelConfig
from ..onnx_io import export_with_manifest

torch = import_optional("torch", "train", "exporting the speech model")

__all__ = ["export_speech_onnx"]


class _VaHead(torch.nn.Module):
    """(logits, va_mean, va_logvar) -> (va_mean, va_logvar)."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        _, mean, logvar = self.model(x)
        return mean, logvar


def export_speech_onnx(model, out_dir: Path, *, feature: Optional[LogMelConfig] = None, clip_s: float = 2.0,
                       name: str = "speech_va", version: str = "0.0.0", seed: int = 0) -> Path:
    """Write ``out_dir/model.onnx`` + ``manifest.json`` (parity-checked); returns the manifest path."""
    feature = feature or LogMelConfig()
    frames = feature.n_frames(int(round(clip_s * feature.sample_rate)))
    rng = np.random.default_rng(seed)
    example = rng.normal(-5.0, 3.0, size=(2, frames, feature.n_mels)).astype(np.float32)
    longer = rng.normal(-5.0, 3.0, size=(1, frames + 37, feature.n_mels)).astype(np.float32)
    return export_with_manifest(
        _VaHead(model).eval(), [example], Path(out_dir), name=name, version=version,
        input_names=["logmel"], output_names=["va_mean", "va_logvar"],
        dynamic_axes={"logmel": {0: "batch", 1: "frames"}, "va_mean": {0: "batch"}, "va_logvar": {0: "batch"}},
        manifest_extra={
            "inputs": [{"name": "logmel", "shape": ["batch", "frames", feature.n_mels], "dtype": "float32"}],
            "outputs": [{"name": "va_mean", "shape": ["batch", 2]}, {"name": "va_logvar", "shape": ["batch", 2]}],
            "feature": feature.to_dict(),
            "clip_s": clip_s,
        },
        parity_batches=[[longer]], tolerance=1e-4,
    )
