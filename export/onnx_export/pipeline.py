"""``cardiotune export <model>``: export + parity + quantisation table + manifest, in one call."""
from __future__ import annotations

import dataclasses
import json
import logging
from pathlib import Path
from typing import Any, Dict, Optional

from cardiotune.errors import ConfigError

from .exporter import export_model
from .quantize import VARIANTS, quantise_all
from .registry import get_spec

__all__ = ["build_model"]

log = logging.getLogger(__name__)


def build_model(name: str, checkpoint: Optional[str], out_dir: Path, exporter: Optional[str] = None,
                quantise: bool = True, with_eval: bool = True, variants=VARIANTS,
                opset: Optional[int] = None) -> Dict[str, Any]:
    """Write ``out_dir/model.onnx`` (+ verified variants) and ``manifest.json``; return the manifest."""
    spec = get_spec(name)
    if opset is not None:
        if not 11 <= opset <= 21:
            raise ConfigError("--opset", opset, "an ONNX opset between 11 and 21")
        spec = dataclasses.replace(spec, opset=int(opset))
    manifest_path, loaded, ev = export_model(spec, checkpoint, Path(out_dir), exporter, with_eval=with_eval)
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    if ev is not None:
        manifest["evaluation"] = ev.description
    if quantise and ev is not None:
        q = quantise_all(manifest_path.parent / manifest["file"], ev, variants)
        manifest["variants"] = {k: {"file": r["file"], "sha256": r["sha256"], "size_bytes": r["size_bytes"]}
                                for k, r in q["table"].items() if k != "fp32" and "error" not in r}
        manifest["quantisation"] = {
            "eval": q["eval"], "primary_metric": q["primary_metric"],
            "table": {k: {kk: vv for kk, vv in r.items() if kk not in ("sha256", "file")}
                      for k, r in q["table"].items()},
        }
        manifest["recommended"] = q["recommended"]
    elif quantise:
        log.warning("%s: no evaluation data (CARDIOTUNE_DATA?), so no quantised variants", name)
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest
