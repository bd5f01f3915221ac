"""Any shipped ONNX model, loaded by its manifest: verified, contract-checked, warmed up.

The order of checks is the order of trust: the manifest parses, the file has the recorded
size and sha256, the graph's inputs and outputs are the ones the manifest promises (name,
dtype, rank, fixed dims), and only then does the model run once on zeros (the warm-up that
builds TensorRT engines) before :attr:`ready` is set.
"""
from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

import numpy as np

from cardiotune.errors import ModelContractError

from .manifest import ModelManifest
from .providers import create_session

__all__ = ["OnnxModel", "check_graph_contract", "ORT_DTYPES"]

log = logging.getLogger(__name__)

ORT_DTYPES = {"tensor(float)": "float32", "tensor(float16)": "float16", "tensor(int64)": "int64",
              "tensor(int32)": "int32", "tensor(double)": "float64"}


def _graph_side(path: str, kind: str, declared: Sequence[Mapping[str, Any]], actual: Sequence[Any]) -> None:
    names = [a.name for a in actual]
    want = [d["name"] for d in declared]
    if names != want:
        raise ModelContractError(path, f"{kind} names", want, names)
    for i, (d, a) in enumerate(zip(declared, actual)):
        dtype = ORT_DTYPES.get(a.type, a.type)
        if "dtype" in d and d["dtype"] != dtype:
            raise ModelContractError(path, f"{kind}.{i}.dtype", d["dtype"], dtype)
        if "shape" not in d:
            continue
        shape = list(a.shape)
        if len(shape) != len(d["shape"]):
            raise ModelContractError(path, f"{kind}.{i}.shape", d["shape"], shape)
        for j, (dm, dg) in enumerate(zip(d["shape"], shape)):
            # fixed sizes must agree; a named (dynamic) manifest dim must be dynamic in the graph
            if isinstance(dm, int) and dg != dm:
                raise ModelContractError(path, f"{kind}.{i}.shape.{j}", dm, dg)
            if isinstance(dm, str) and isinstance(dg, int):
                raise ModelContractError(path, f"{kind}.{i}.shape.{j}", dm, dg)


def check_graph_contract(manifest: ModelManifest, session: Any) -> None:
    """Raise :class:`ModelContractError` naming the field where graph and manifest differ."""
    path = str(manifest.model_path)
    _graph_side(path, "inputs", manifest.data["inputs"], session.get_inputs())
    _graph_side(path, "outputs", manifest.data["outputs"], session.get_outputs())


def _warmup_input(spec: Mapping[str, Any], dyn: Mapping[str, int]) -> np.ndarray:
    shape = [d if isinstance(d, int) else int(dyn.get(d, spec.get("min_dims", {}).get(d, 1))) for d in spec["shape"]]
    return np.zeros(shape, dtype=np.dtype(spec.get("dtype", "float32")))


class OnnxModel:
    """One verified model file with one onnxruntime session."""

    def __init__(self, manifest: Union[str, Path, ModelManifest], providers: Optional[Sequence[str]] = None,
                 threads: int = 1, variant: Optional[str] = None, warmup: int = 3,
                 trt_cache_dir: Union[str, Path] = "~/.cache/cardiotune/trt"):
        self.manifest = manifest if isinstance(manifest, ModelManifest) else ModelManifest.load(Path(manifest))
        self.variant = variant or "fp32"
        self.path = self.manifest.verify_variant(self.variant)
        self.ready = False
        t0 = time.perf_counter()
        self.session, self.provider_choice = create_session(self.path, providers, threads, trt_cache_dir)
        check_graph_contract(self.manifest, self.session)
        self.input_names: List[str] = [i.name for i in self.session.get_inputs()]
        self.output_names: List[str] = [o.name for o in self.session.get_outputs()]
        self.load_s = time.perf_counter() - t0
        for _ in range(max(0, warmup)):  # builds TensorRT engines / CUDA kernels before "ready"
            self.run(self.warmup_inputs())
        self.ready = True
        log.info("model %s %s ready on %s (load %.1f ms)", self.name, self.variant, self.providers,
                 self.load_s * 1e3)

    @property
    def name(self) -> str:
        return str(self.manifest.data["name"])

    @property
    def providers(self) -> List[str]:
        return list(self.provider_choice.active)

    def warmup_inputs(self, **dims: int) -> Dict[str, np.ndarray]:
        return {s["name"]: _warmup_input(s, dims) for s in self.manifest.data["inputs"]}

    def run(self, inputs: Mapping[str, np.ndarray]) -> Dict[str, np.ndarray]:
        outs = self.session.run(self.output_names, dict(inputs))
        return dict(zip(self.output_names, outs))

    def status(self) -> Dict[str, Any]:
        """For the status message: which providers were asked for and which are running."""
        return {"name": self.name, "version": str(self.manifest.data["version"]), "variant": self.variant,
                "providers": self.provider_choice.as_status()}
