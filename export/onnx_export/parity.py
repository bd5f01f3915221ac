"""Torch vs onnxruntime on the same inputs: names, then shapes, then values.

Every output's max abs error is reported (and kept in the manifest); the first stage that
fails raises :class:`cardiotune.errors.ModelParityError` carrying the numbers.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Sequence, Tuple

import numpy as np
from cardiotune.edge.providers import session_options

from cardiotune.errors import ModelParityError

from .spec import ExportSpec

__all__ = ["torch_outputs", "compare", "check_parity"]


def torch_outputs(module: Any, inputs: Sequence[np.ndarray]) -> List[np.ndarray]:
    import torch

    module.eval()
    with torch.inference_mode():
        out = module(*[torch.from_numpy(np.ascontiguousarray(x)) for x in inputs])
    out = out if isinstance(out, (tuple, list)) else (out,)
    return [o.detach().float().numpy() for o in out]


def compare(model: str, case: str, ref: Sequence[np.ndarray], got: Sequence[np.ndarray],
            names: Sequence[str], tolerance: float) -> Dict[str, float]:
    """Max abs error per output; raises at the first stage that fails."""
    if len(ref) != len(got):
        raise ModelParityError(model, "names", case, f"torch gives {len(ref)} outputs, onnx {len(got)}")
    bad = [f"{n}: onnx {tuple(g.shape)} vs torch {tuple(r.shape)}" for n, r, g in zip(names, ref, got)
           if tuple(r.shape) != tuple(g.shape)]
    if bad:
        errors = {n: float("inf") for n, r, g in zip(names, ref, got) if tuple(r.shape) != tuple(g.shape)}
        raise ModelParityError(model, "shapes", case, "; ".join(bad), errors, tolerance)
    errors = {n: (float(np.max(np.abs(r.astype(np.float64) - g.astype(np.float64)))) if r.size else 0.0)
              for n, r, g in zip(names, ref, got)}
    if any(not np.isfinite(e) or e > tolerance for e in errors.values()):
        worst = max(errors, key=lambda k: errors[k])
        raise ModelParityError(model, "values", case, f"worst output {worst}", errors, tolerance)
    return errors


def check_parity(spec: ExportSpec, module: Any, onnx_path: Path,
                 cases: Sequence[Tuple[str, Sequence[np.ndarray]]], tolerance: float = None,
                 ) -> Dict[str, Dict[str, float]]:
    """Run every case through torch and onnxruntime (CPU, the edge's session options).

    Returns ``{case label: {output: max abs error}}``; raises on the first failing case.
    """
    import onnxruntime as ort

    tol = spec.tolerance if tolerance is None else tolerance
    sess = ort.InferenceSession(str(onnx_path), sess_options=session_options(ort, 1),
                                providers=["CPUExecutionProvider"])
    in_names = [i.name for i in sess.get_inputs()]
    out_names = [o.name for o in sess.get_outputs()]
    if in_names != spec.input_names or out_names != spec.output_names:
        raise ModelParityError(spec.name, "names", "graph",
                               f"graph inputs {in_names} outputs {out_names}, spec inputs {spec.input_names} "
                               f"outputs {spec.output_names}")
    report: Dict[str, Dict[str, float]] = {}
    for label, inputs in cases:
        ref = torch_outputs(module, inputs)
        got = sess.run(out_names, {n: np.ascontiguousarray(x) for n, x in zip(in_names, inputs)})
        report[label] = compare(spec.name, label, ref, got, out_names, tol)
    return report


def worst_errors(report: Dict[str, Dict[str, float]]) -> Dict[str, float]:
    out: Dict[str, float] = {}
    for errs in report.values():
        for k, v in errs.items():
            out[k] = max(out.get(k, 0.0), v)
    return out
