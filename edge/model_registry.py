"""The models shipped in the package (``edge/models/<name>/manifest.json``): list and verify.

Verification is what the edge does at load, for every variant: manifest fields present,
size and sha256 of the file, graph inputs/outputs against the manifest's contract, and one
run on zeros with the edge's session options.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from cardiotune.errors import ModelError, ModelParityError

from .manifest import ModelManifest

__all__ = ["MODELS_DIR", "shipped_manifests", "list_models", "verify_model", "verify_models"]

MODELS_DIR = Path(__file__).resolve().parent / "models"


def shipped_manifests(root: Optional[Path] = None) -> List[Path]:
    root = Path(root) if root else MODELS_DIR
    return sorted(p for p in root.glob("*/manifest.json"))


def _headline(data: Dict[str, Any]) -> Dict[str, Any]:
    """A few numbers for the listing: the quantisation table's fp32 metric, else the training metrics."""
    q = data.get("quantisation", {})
    fp32 = q.get("table", {}).get("fp32", {}).get("metric")
    if fp32:
        return {k: round(float(v), 4) for k, v in fp32.items()}
    m = data.get("metrics") or data.get("metrics_test_subjects") or {}
    if isinstance(m, dict) and isinstance(m.get("model"), dict):
        m = m["model"]
    return {k: v for k, v in m.items() if isinstance(v, (int, float))} if isinstance(m, dict) else {}


def list_models(root: Optional[Path] = None) -> List[Dict[str, Any]]:
    rows = []
    for path in shipped_manifests(root):
        man = ModelManifest.load(path)
        d = man.data
        size = sum((path.parent / v["file"]).stat().st_size for v in man.variants.values()
                   if (path.parent / v["file"]).is_file())
        rows.append({"name": d["name"], "version": d["version"], "file": d["file"],
                     "size_bytes": d.get("size_bytes", man.model_path.stat().st_size if man.model_path.is_file()
                                         else None),
                     "total_bytes": size, "variants": sorted(man.variants), "sha256": d["sha256"],
                     "metrics": _headline(d), "recommended": d.get("recommended", {}), "manifest": str(path)})
    return rows


def verify_model(manifest_path: Path, providers: Optional[Sequence[str]] = None) -> Dict[str, Any]:
    """Every variant through :class:`OnnxModel` (hash, size, contract, warm-up run)."""
    from .onnx_model import OnnxModel

    man = ModelManifest.load(manifest_path)
    out: Dict[str, Any] = {"name": man.data["name"], "manifest": str(manifest_path), "variants": {}}
    for variant in sorted(man.variants):
        m = OnnxModel(man, providers=providers, variant=variant, warmup=1)
        out["variants"][variant] = {"ok": True, "providers": m.providers, "load_ms": round(m.load_s * 1e3, 2)}
    return out


def provider_parity(manifest_path: Path, providers: Sequence[str], tolerance: float = 2e-2,
                    variant: str = "fp32", seed: int = 0) -> Dict[str, Any]:
    """The model on ``providers`` (e.g. a TensorRT fp16 engine) against the CPU provider on the
    same inputs; raises :class:`ModelParityError` beyond ``tolerance`` (fp16 engines: ~1e-2)."""
    import numpy as np

    from .onnx_model import OnnxModel

    dev = OnnxModel(manifest_path, providers=providers, variant=variant)
    cpu = OnnxModel(manifest_path, providers=["CPUExecutionProvider"], variant=variant, warmup=0)
    rng = np.random.default_rng(seed)
    errors: Dict[str, float] = {}
    for dims in ({"batch": 1, "time": 1, "frames": 200, "seq_len": 16}, {"batch": 4, "time": 7, "frames": 64,
                                                                          "seq_len": 5}):
        feed = {k: rng.normal(0, 1, v.shape).astype(v.dtype) for k, v in dev.warmup_inputs(**dims).items()}
        a, b = dev.run(feed), cpu.run(feed)
        for k in a:
            errors[k] = max(errors.get(k, 0.0), float(np.max(np.abs(a[k].astype(np.float64) - b[k]))))
    result = {"providers": dev.providers, "requested": list(providers), "fell_back": dev.provider_choice.fell_back,
              "max_abs_error_vs_cpu": errors, "tolerance": tolerance}
    if any(not np.isfinite(e) or e > tolerance for e in errors.values()):
        raise ModelParityError(dev.name, "values", f"{dev.providers[0]} vs CPUExecutionProvider",
                               "device result differs from CPU", errors, tolerance)
    return result


def verify_models(root: Optional[Path] = None, providers: Optional[Sequence[str]] = None) -> List[Dict[str, Any]]:
    """Verify every shipped model; a failure is reported per model (with the field that differs).
    With ``providers`` (e.g. TensorRT on a Jetson) each model is also checked against CPU results."""
    results = []
    for path in shipped_manifests(root):
        try:
            row = {"ok": True, **verify_model(path)}
            if providers:
                row["device_parity"] = provider_parity(path, providers)
            results.append(row)
        except ModelError as exc:
            results.append({"ok": False, "manifest": str(path), "error": str(exc),
                            "field": getattr(exc, "field", None), "error_type": type(exc).__name__})
    return results
