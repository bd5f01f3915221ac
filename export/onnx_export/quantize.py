"""fp16 and int8 (dynamic, static) variants of an exported model, each measured and verified.

A variant is kept only if onnxruntime loads it with the edge's session options
(``ORT_ENABLE_EXTENDED``) and runs it on real windows; the table records file size,
batch-1 latency on one thread and the change in the task's own metric against fp32.
"""
from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

import numpy as np
from cardiotune.edge.manifest import sha256_file
from cardiotune.edge.providers import session_options

from .spec import EvalSet

__all__ = ["VARIANTS", "make_variant", "evaluate_variant", "quantise_all", "recommend"]

log = logging.getLogger(__name__)
VARIANTS = ("fp16", "int8_dynamic", "int8_static")
MAX_METRIC_DROP = 0.01  # a variant may lose at most this much of the primary metric to be recommended
MIN_SPEEDUP = 1.2  # ... and must be this much faster than fp32 to be worth a less exact model


class _Reader:
    """onnxruntime CalibrationDataReader over real windows."""

    def __init__(self, batches: List[Dict[str, np.ndarray]]):
        # one window per call: the calibrator's activation ranges should not depend on batch padding
        self._it = iter([{k: v[i:i + 1] for k, v in b.items()} for b in batches
                         for i in range(len(next(iter(b.values()))))])

    def get_next(self) -> Optional[Dict[str, np.ndarray]]:
        return next(self._it, None)


def _preprocessed(src: Path) -> Path:
    """Shape inference + graph clean-up that the onnxruntime quantiser asks for (a temp file)."""
    from onnxruntime.quantization.shape_inference import quant_pre_process

    dst = src.with_name(f"{src.stem}.preprocessed.tmp.onnx")
    quant_pre_process(str(src), str(dst), skip_symbolic_shape=False)
    return dst


def make_variant(src: Path, variant: str, calibration: Optional[List[Dict[str, np.ndarray]]] = None) -> Path:
    """Write ``model.<variant>.onnx`` next to ``src``."""
    import onnx

    dst = src.with_name(f"{src.stem}.{variant}.onnx")
    if variant == "fp16":
        from onnxruntime.transformers.float16 import convert_float_to_float16

        # edge code keeps feeding fp32: casts at the graph boundary
        proto = convert_float_to_float16(onnx.load(str(src)), keep_io_types=True)
        onnx.save(proto, str(dst))
    elif variant == "int8_dynamic":
        from onnxruntime.quantization import QuantType, quantize_dynamic

        # Conv is left in float: dynamic int8 Conv becomes ConvInteger with int8 weights, which the
        # onnxruntime builds on Jetson/Python 3.8 (1.19 and older) cannot run.
        quantize_dynamic(str(_preprocessed(src)), str(dst), weight_type=QuantType.QInt8,
                         op_types_to_quantize=["MatMul", "Gemm", "GRU", "LSTM"])
    elif variant == "int8_static":
        from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static

        if not calibration:
            raise ValueError(f"int8_static of {src} needs calibration windows")
        quantize_static(str(_preprocessed(src)), str(dst), _Reader(calibration), quant_format=QuantFormat.QDQ,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                        calibrate_method=CalibrationMethod.MinMax)
    else:
        raise ValueError(f"variant {variant!r}: expected one of {VARIANTS}")
    if variant.startswith("int8"):
        src.with_name(f"{src.stem}.preprocessed.tmp.onnx").unlink(missing_ok=True)
        _tidy(dst)
    return dst


def _tidy(path: Path) -> None:
    """Drop opset imports no node uses (the pre-processor lists every onnxruntime domain, which
    older onnxruntime builds, e.g. 1.11 on JetPack 4.6, may not know) and keep IR version 8."""
    import onnx

    proto = onnx.load(str(path))
    used = {n.domain for n in proto.graph.node} | {""}
    keep = [o for o in proto.opset_import if o.domain in used]
    del proto.opset_import[:]
    proto.opset_import.extend(keep)
    proto.ir_version = min(proto.ir_version, 8)
    onnx.checker.check_model(proto)
    onnx.save(proto, str(path))


def _session(path: Path, threads: int = 1):
    import onnxruntime as ort

    opts = session_options(ort, threads)
    opts.log_severity_level = 3  # constant-folding notes on fp16 graphs are expected, not news
    return ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])


def evaluate_variant(path: Path, ev: EvalSet) -> Dict[str, Any]:
    """Load with the edge's options (raises if onnxruntime refuses it) and score on real windows."""
    sess = _session(path)
    names = [o.name for o in sess.get_outputs()]
    outs = [dict(zip(names, sess.run(names, b))) for b in ev.inputs]
    return {"file": path.name, "size_bytes": path.stat().st_size, "sha256": sha256_file(path),
            "metric": ev.metric(outs)}


def interleaved_latency(paths: Dict[str, Path], feed: Dict[str, np.ndarray], rounds: int = 12,
                        block: int = 40) -> Dict[str, Dict[str, float]]:
    """Batch-1 latency of every variant on one thread, measured in interleaved blocks so that
    load from other processes hits all variants alike: median of the block medians, p99 of all."""
    sessions = {k: _session(p) for k, p in paths.items()}
    for s in sessions.values():
        for _ in range(20):
            s.run(None, feed)
    samples: Dict[str, List[float]] = {k: [] for k in sessions}
    medians: Dict[str, List[float]] = {k: [] for k in sessions}
    for _ in range(rounds):
        for k, s in sessions.items():
            t = np.empty(block)
            for i in range(block):
                t0 = time.perf_counter()
                s.run(None, feed)
                t[i] = time.perf_counter() - t0
            samples[k].extend(t.tolist())
            medians[k].append(float(np.median(t)))
    return {k: {"median_ms": float(np.median(medians[k]) * 1e3),
                "p99_ms": float(np.percentile(samples[k], 99) * 1e3), "runs": len(samples[k])} for k in sessions}


def _primary(metric: Dict[str, float]) -> str:
    for key in metric:
        if key.endswith("_mean") or "balanced" in key:
            return key
    return next(iter(metric))


def recommend(table: Dict[str, Dict[str, Any]]) -> Dict[str, Any]:
    """CPU: the fastest variant losing <= MAX_METRIC_DROP of the primary metric (fp32 unless
    another is >= MIN_SPEEDUP times faster). Jetson GPU: the fp32 graph on TensorRT with fp16 engines
    (TensorRT converts itself; int8 QDQ graphs need TensorRT's own calibration) - EXPECTED."""
    base = table["fp32"]
    key = _primary(base["metric"])
    ok = {k: v for k, v in table.items() if "error" not in v
          and base["metric"][key] - v["metric"][key] <= MAX_METRIC_DROP}
    fastest = min(ok, key=lambda k: ok[k]["latency_1thread"]["median_ms"])
    cpu = fastest if ok[fastest]["latency_1thread"]["median_ms"] * MIN_SPEEDUP <= base["latency_1thread"]["median_ms"] \
        else "fp32"
    return {
        "cpu": {"variant": cpu, "provider": "cpu", "why": f"fastest variant within {MAX_METRIC_DROP} of fp32 "
                f"{key} (fp32 unless another is >= {MIN_SPEEDUP:g}x faster), batch 1, one thread, "
                "interleaved timing"},
        "jetson_gpu": {"variant": "fp32", "provider": "tensorrt", "trt_fp16": True,
                       "why": "TensorRT builds fp16 engines from the fp32 graph (engine cache); CUDA EP as fallback. "
                              "EXPECTED, not measured: no NVIDIA GPU where this was exported"},
    }


def quantise_all(onnx_path: Path, ev: EvalSet, variants=VARIANTS) -> Dict[str, Any]:
    """Make, verify and measure every variant. Variants onnxruntime cannot load are deleted and
    reported with their error; the others stay next to ``onnx_path``."""
    table: Dict[str, Dict[str, Any]] = {"fp32": evaluate_variant(onnx_path, ev)}
    base = table["fp32"]["metric"]
    for v in variants:
        try:
            path = make_variant(onnx_path, v, ev.calibration)
        except Exception as exc:  # noqa: BLE001 - the quantiser's own failure is a result to report
            log.warning("%s: could not make %s: %s", onnx_path, v, exc)
            table[v] = {"error": f"quantiser failed: {type(exc).__name__}: {exc}"}
            continue
        try:
            row = evaluate_variant(path, ev)
        except Exception as exc:  # noqa: BLE001 - a variant onnxruntime refuses is never shipped
            path.unlink()
            log.warning("%s: onnxruntime refuses %s (%s); not emitted", onnx_path, v, exc)
            table[v] = {"error": f"onnxruntime (ORT_ENABLE_EXTENDED) refuses it: {type(exc).__name__}: {exc}"}
            continue
        if row["sha256"] == table["fp32"]["sha256"]:
            row["note"] = "no op was quantised (file identical to fp32)"
        row["metric_delta"] = {k: row["metric"][k] - base[k] for k in base}
        table[v] = row
    ok = {k: onnx_path.parent / r["file"] for k, r in table.items() if "error" not in r}
    one = {k: v[:1] for k, v in ev.inputs[0].items()}
    for k, lat in interleaved_latency(ok, one).items():
        table[k]["latency_1thread"] = lat
    return {"eval": ev.description, "primary_metric": _primary(base), "table": table,
            "recommended": recommend(table)}
