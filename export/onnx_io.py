"""Write an ONNX model with its manifest, after a parity check against PyTorch.

Models are exported with opset 17 and IR version 8 so that the onnxruntime 1.19 builds
of Python 3.8 (classic Jetson Nano) load them; weights stay inside the file.
"""
from __future__ import annotations

import datetime as _dt
import json
import warnings
from pathlib import Path
from typing import Any, Dict, List, Sequence

import numpy as np
from cardiotune.edge.manifest import MANIFEST_SCHEMA, sha256_file

__all__ = ["ParityError", "export_with_manifest", "check_parity"]

OPSET = 17
IR_VERSION = 8


class ParityError(AssertionError):
    """onnxruntime output differs from torch beyond tolerance; carries every output's error."""

    def __init__(self, errors: Dict[str, float], tolerance: float):
        self.errors, self.tolerance = errors, tolerance
        worst = ", ".join(f"{k}: {v:.3g}" for k, v in errors.items())
        super().__init__(f"ONNX parity failed (tolerance {tolerance:g}): max abs error {worst}")


def check_parity(model, onnx_path: Path, inputs: Sequence[np.ndarray], input_names: List[str],
                 output_names: List[str], tolerance: float = 1e-4) -> Dict[str, float]:
    """Run torch and onnxruntime on the same inputs; return max abs error per output."""
    import onnxruntime as ort
    import torch

    sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    got_inputs = [i.name for i in sess.get_inputs()]
    if got_inputs != input_names:
        raise ParityError({"input names": float("inf")}, tolerance)
    model.eval()
    with torch.inference_mode():
        ref = model(*[torch.from_numpy(x) for x in inputs])
    ref = ref if isinstance(ref, (tuple, list)) else (ref,)
    out = sess.run(output_names, dict(zip(input_names, inputs)))
    errors: Dict[str, float] = {}
    for name, r, o in zip(output_names, ref, out):
        r = r.detach().numpy()
        if r.shape != o.shape:
            raise ParityError({f"{name} shape {o.shape} vs {r.shape}": float("inf")}, tolerance)
        errors[name] = float(np.max(np.abs(r - o))) if r.size else 0.0
    if any(e > tolerance for e in errors.values()):
        raise ParityError(errors, tolerance)
    return errors


def export_with_manifest(model, example_inputs: Sequence[np.ndarray], out_dir: Path, *, name: str,
                         version: str, input_names: List[str], output_names: List[str],
                         dynamic_axes: Dict[str, Dict[int, str]], manifest_extra: Dict[str, Any],
                         parity_batches: Sequence[Sequence[np.ndarray]] = (), tolerance: float = 1e-4) -> Path:
    """Export ``model`` to ``out_dir/model.onnx`` + ``manifest.json``; returns the manifest path."""
    import onnx
    import torch

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    onnx_path = out_dir / "model.onnx"
    model.eval()
    # TorchScript exporter on purpose (dynamo=False): it keeps dynamic sequence lengths of
    # recurrent models (see PLATFORM_NOTES); its deprecation warning is expected.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(
            model, tuple(torch.from_numpy(x) for x in example_inputs), str(onnx_path),
            input_names=input_names, output_names=output_names, dynamic_axes=dynamic_axes,
            opset_version=OPSET, dynamo=False, external_data=False,
        )
    proto = onnx.load(str(onnx_path))
    proto.ir_version = IR_VERSION
    proto.producer_name = "cardiotune"
    onnx.checker.check_model(proto)
    onnx.save(proto, str(onnx_path))
    errors: Dict[str, float] = {}
    for batch in [list(example_inputs), *parity_batches]:
        for k, v in check_parity(model, onnx_path, list(batch), input_names, output_names, tolerance).items():
            errors[k] = max(errors.get(k, 0.0), v)
    manifest = {
        "schema": MANIFEST_SCHEMA,
        "name": name,
        "version": version,
        "file": onnx_path.name,
        "sha256": sha256_file(onnx_path),
        "size_bytes": onnx_path.stat().st_size,
        "opset": OPSET,
        "ir_version": IR_VERSION,
        "exported": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "torch_version": torch.__version__,
        "onnx_version": onnx.__version__,
        "parity_max_abs_error": errors,
        **manifest_extra,
    }
    manifest_path = out_dir / "manifest.json"
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest_path
