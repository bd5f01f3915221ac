"""The models shipped in the package (``edge/models/<name>/manifest.json``): list and verify.

Verification is what the edge does at load, for every variant: manifest fields present,
size and sha256 of the file, graph inputs/outputs against the manifest's contract, and one
run on zeros with the edge's session options.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from cardiotune.errors import ModelError

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


def verify_models(root: Optional[Path] = None) -> List[Dict[str, Any]]:
    """Verify every shipped model; a failure is reported per model (with the field that differs)."""
    results = []
    for path in shipped_manifests(root):
        try:
            results.append({"ok": True, **verify_model(path)})
        except ModelError as exc:
            results.append({"ok": False, "manifest": str(path), "error": str(exc),
                            "field": getattr(exc, "field", None), "error_type": type(exc).__name__})
    return results
