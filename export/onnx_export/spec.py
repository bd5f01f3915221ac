"""Declarative export specs: what a model's ONNX graph takes and gives, and how to check it.

One :class:`ExportSpec` per model feeds the one exporter (:mod:`.exporter`): tensor names,
dynamic axes (a ``str`` dim is dynamic and names the axis), an example-input factory for any
batch size and sequence length, the parity cases, opset, tolerance and the exporter to use.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

__all__ = ["TensorSpec", "LoadedModel", "EvalSet", "ExportSpec", "EXPORTERS"]

EXPORTERS = ("torchscript", "dynamo")
Dim = Union[int, str]


@dataclass(frozen=True)
class TensorSpec:
    name: str
    shape: Tuple[Dim, ...]
    meaning: str = ""
    units: str = ""
    dtype: str = "float32"
    extra: Mapping[str, Any] = field(default_factory=dict)  # feature names, normalisation, min_dims, ...

    def dynamic_axes(self) -> Dict[int, str]:
        return {i: d for i, d in enumerate(self.shape) if isinstance(d, str)}

    def concrete(self, dims: Mapping[str, int]) -> Tuple[int, ...]:
        return tuple(d if isinstance(d, int) else int(dims[d]) for d in self.shape)

    def manifest(self) -> Dict[str, Any]:
        out: Dict[str, Any] = {"name": self.name, "dtype": self.dtype, "shape": list(self.shape)}
        if self.meaning:
            out["meaning"] = self.meaning
        if self.units:
            out["units"] = self.units
        out.update(self.extra)
        return out


@dataclass
class LoadedModel:
    """A checkpoint made ready to export: the module whose forward is the graph, plus the
    manifest facts that live in the checkpoint (normalisation, training data, metrics)."""

    module: Any
    manifest_extra: Dict[str, Any] = field(default_factory=dict)
    checkpoint: Optional[str] = None
    sizes: Dict[str, int] = field(default_factory=dict)  # named dims the checkpoint fixes (e.g. d_emb)


@dataclass
class EvalSet:
    """Real evaluation inputs and the task's own metric, for parity and quantisation.

    ``metric(outputs_by_name) -> {metric_name: value}`` scores one model's outputs on
    ``inputs``; ``calibration`` are the windows the static int8 quantiser calibrates on.
    """

    inputs: List[Dict[str, np.ndarray]]  # batches, each {input name: array}
    metric: Callable[[Dict[str, np.ndarray]], Dict[str, float]]
    description: str
    calibration: List[Dict[str, np.ndarray]] = field(default_factory=list)


@dataclass(frozen=True)
class ExportSpec:
    name: str
    version: str
    description: str
    inputs: Tuple[TensorSpec, ...]
    outputs: Tuple[TensorSpec, ...]
    load: Callable[[Optional[str]], LoadedModel]
    example: Callable[[Mapping[str, int], np.random.Generator], List[np.ndarray]]
    parity_cases: Tuple[Mapping[str, int], ...] = ({"batch": 1},)
    opset: int = 15  # ORT >= 1.10 loads it: NVIDIA's onnxruntime-gpu 1.11 for JetPack 4.6 stops at 16
    tolerance: float = 1e-4
    exporter: str = "torchscript"  # the TorchScript exporter: the only one right for GRUs
    recurrent: bool = False
    default_checkpoint: Optional[str] = None
    eval_set: Optional[Callable[[LoadedModel], EvalSet]] = None
    contract: Mapping[str, Any] = field(default_factory=dict)  # sample rate, window, hop, channels

    @property
    def input_names(self) -> List[str]:
        return [t.name for t in self.inputs]

    @property
    def output_names(self) -> List[str]:
        return [t.name for t in self.outputs]

    def dynamic_axes(self) -> Dict[str, Dict[int, str]]:
        return {t.name: t.dynamic_axes() for t in (*self.inputs, *self.outputs) if t.dynamic_axes()}

    def with_sizes(self, sizes: Mapping[str, int]) -> ExportSpec:
        """The spec with named dims that a checkpoint fixes (``LoadedModel.sizes``) made concrete."""
        if not sizes:
            return self

        def fix(t: TensorSpec) -> TensorSpec:
            return dataclasses.replace(t, shape=tuple(int(sizes[d]) if d in sizes else d for d in t.shape))

        return dataclasses.replace(self, inputs=tuple(map(fix, self.inputs)), outputs=tuple(map(fix, self.outputs)))

    def examples(self, cases: Optional[Sequence[Mapping[str, int]]] = None, seed: int = 0) -> List[Tuple[str, list]]:
        """(case label, inputs) for each parity case."""
        rng = np.random.default_rng(seed)
        out = []
        for case in cases or self.parity_cases:
            label = ", ".join(f"{k}={v}" for k, v in case.items())
            out.append((label, self.example(case, rng)))
        return out
