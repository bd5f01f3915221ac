"""The one exporter: checkpoint -> ``model.onnx`` (weights inside) + ``manifest.json``.

Opset 17 and IR version 8, so the onnxruntime 1.19 of Python 3.8 (JetPack 4.6) loads the
files. The TorchScript exporter is the default: the dynamo exporter bakes a GRU's sequence
length into a Reshape (PLATFORM_NOTES), which the parity cases at several lengths catch.
"""
from __future__ import annotations

import datetime as _dt
import importlib.util
import json
import logging
import warnings
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import numpy as np
from cardiotune.edge.manifest import MANIFEST_SCHEMA, sha256_file

from cardiotune.errors import ConfigError

from .parity import check_parity, worst_errors
from .spec import EXPORTERS, EvalSet, ExportSpec, LoadedModel

__all__ = ["IR_VERSION", "export_onnx", "export_model", "write_manifest", "real_cases"]

log = logging.getLogger(__name__)
IR_VERSION = 8


def export_onnx(spec: ExportSpec, module: Any, onnx_path: Path, exporter: Optional[str] = None) -> Path:
    """Write the graph of ``module`` to ``onnx_path`` (single file) and check it with onnx."""
    import onnx
    import torch

    exporter = exporter or spec.exporter
    if exporter not in EXPORTERS:
        raise ConfigError("--exporter", exporter, f"one of {EXPORTERS}")
    if exporter == "dynamo" and importlib.util.find_spec("onnxscript") is None:
        raise ConfigError("--exporter", exporter, "'torchscript', or `pip install onnxscript` first (the dynamo "
                          "exporter needs it; it is not in the train extra because no shipped model uses it)")
    onnx_path = Path(onnx_path)
    onnx_path.parent.mkdir(parents=True, exist_ok=True)
    module.eval()
    dims = dict(spec.parity_cases[0])
    example = tuple(torch.from_numpy(x) for x in spec.example(dims, np.random.default_rng(0)))
    with warnings.catch_warnings():  # the TorchScript exporter's deprecation notice is expected
        warnings.simplefilter("ignore", (DeprecationWarning, FutureWarning, UserWarning, torch.jit.TracerWarning))
        if exporter == "torchscript":
            torch.onnx.export(module, example, str(onnx_path), input_names=spec.input_names,
                              output_names=spec.output_names, dynamic_axes=spec.dynamic_axes(),
                              opset_version=spec.opset, dynamo=False, external_data=False)
        else:
            shapes = {t.name: {i: torch.export.Dim.AUTO for i in t.dynamic_axes()} for t in spec.inputs}
            torch.onnx.export(module, example, str(onnx_path), input_names=spec.input_names,
                              output_names=spec.output_names, dynamic_shapes=shapes,
                              opset_version=spec.opset, dynamo=True, external_data=False)
    proto = onnx.load(str(onnx_path))
    proto.ir_version = min(proto.ir_version, IR_VERSION)
    proto.producer_name = "cardiotune"
    onnx.checker.check_model(proto)
    onnx.save(proto, str(onnx_path))
    stray = onnx_path.with_name(onnx_path.name + ".data")
    if stray.exists():  # weights must live inside the file that the manifest hashes
        raise RuntimeError(f"exporter wrote external weights {stray}; expected them inside {onnx_path}")
    return onnx_path


def real_cases(ev: Optional[EvalSet], n: int = 2) -> List[Tuple[str, list]]:
    """Parity cases from the first ``n`` real evaluation batches."""
    if ev is None:
        return []
    out = []
    for i, batch in enumerate(ev.inputs[:n]):
        arrays = list(batch.values())
        out.append((f"real batch {i} shape {tuple(arrays[0].shape)}", arrays))
    return out


def write_manifest(spec: ExportSpec, loaded: LoadedModel, onnx_path: Path, parity: Dict[str, Dict[str, float]],
                   exporter: str, extra: Optional[Dict[str, Any]] = None) -> Path:
    import onnx
    import onnxruntime
    import torch

    manifest: Dict[str, Any] = {
        "schema": MANIFEST_SCHEMA,
        "name": spec.name,
        "version": spec.version,
        "description": spec.description,
        "file": onnx_path.name,
        "sha256": sha256_file(onnx_path),
        "size_bytes": onnx_path.stat().st_size,
        "opset": spec.opset,
        "ir_version": IR_VERSION,
        "exporter": exporter,
        "exported": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "torch_version": torch.__version__,
        "onnx_version": onnx.__version__,
        "onnxruntime_version": onnxruntime.__version__,
        "checkpoint": Path(loaded.checkpoint).name if loaded.checkpoint else None,
        "inputs": [t.manifest() for t in spec.inputs],
        "outputs": [t.manifest() for t in spec.outputs],
        "contract": dict(spec.contract),
        "parity": {"tolerance": spec.tolerance, "cases": parity},
        "parity_max_abs_error": worst_errors(parity),
        **loaded.manifest_extra,
        **(extra or {}),
    }
    path = onnx_path.parent / "manifest.json"
    path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return path


def export_model(spec: ExportSpec, checkpoint: Optional[str], out_dir: Path, exporter: Optional[str] = None,
                 with_eval: bool = True) -> Tuple[Path, LoadedModel, Optional[EvalSet]]:
    """Load, export, run parity (synthetic cases + real evaluation batches), write the manifest."""
    loaded = spec.load(checkpoint or spec.default_checkpoint)
    spec = spec.with_sizes(loaded.sizes)  # e.g. the embedding width the checkpoint was trained with
    exporter = exporter or spec.exporter
    if spec.recurrent and exporter != "torchscript":
        log.warning("%s is recurrent: the dynamo exporter may bake the sequence length in; parity will tell",
                    spec.name)
    out_dir = Path(out_dir)
    onnx_path = export_onnx(spec, loaded.module, out_dir / "model.onnx", exporter)
    ev = spec.eval_set(loaded) if (with_eval and spec.eval_set) else None
    report = check_parity(spec, loaded.module, onnx_path, spec.examples() + real_cases(ev))
    log.info("%s parity OK: %s", spec.name, worst_errors(report))
    return write_manifest(spec, loaded, onnx_path, report, exporter), loaded, ev
