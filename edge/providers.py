"""onnxruntime execution providers: TensorRT -> CUDA -> CPU as configured, and what we really got.

onnxruntime-gpu silently falls back to CPU when the CUDA or TensorRT libraries do not load,
so the session's own ``get_providers()`` is the truth: it is logged, compared with what was
asked for, and reported in the status message. Nothing here imports TensorRT or CUDA; the
provider names are strings that onnxruntime resolves (or not) when the session is created.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

from cardiotune.errors import ConfigError

__all__ = ["PROVIDER_ALIASES", "ProviderChoice", "resolve_providers", "session_options", "create_session",
           "validate_provider_names"]

log = logging.getLogger(__name__)

# Config short names -> onnxruntime provider names, in the order the edge prefers them.
PROVIDER_ALIASES = {
    "tensorrt": "TensorrtExecutionProvider",
    "cuda": "CUDAExecutionProvider",
    "cpu": "CPUExecutionProvider",
}
DEFAULT_PROVIDERS = ("cpu",)
ProviderEntry = Union[str, Tuple[str, Dict[str, Any]]]


def validate_provider_names(names: Sequence[str], key: str = "model.providers") -> List[str]:
    """Short names ('tensorrt', 'cuda', 'cpu') -> onnxruntime names; CPU is always last."""
    if isinstance(names, str) or not names:
        raise ConfigError(key, names, f"a non-empty list of {sorted(PROVIDER_ALIASES)}")
    out = []
    for n in names:
        if n not in PROVIDER_ALIASES:
            raise ConfigError(key, n, f"one of {sorted(PROVIDER_ALIASES)}")
        out.append(PROVIDER_ALIASES[n])
    if out[-1] != PROVIDER_ALIASES["cpu"]:
        out.append(PROVIDER_ALIASES["cpu"])  # the floor: a session always has somewhere to run
    return out


def tensorrt_options(cache_dir: Union[str, Path], fp16: bool = True, workspace_mb: int = 1024) -> Dict[str, Any]:
    """TensorRT EP options: engines are built once on the device and cached (the first start
    takes minutes on a Jetson; later starts load the cached engine in seconds)."""
    cache = str(Path(cache_dir).expanduser())
    return {
        "trt_engine_cache_enable": True,
        "trt_engine_cache_path": cache,
        "trt_timing_cache_enable": True,
        "trt_timing_cache_path": cache,
        "trt_fp16_enable": bool(fp16),
        "trt_max_workspace_size": int(workspace_mb) << 20,
    }


@dataclass
class ProviderChoice:
    """What was requested, what this onnxruntime build offers, and what the session got."""

    requested: List[str]
    available: List[str]
    entries: List[ProviderEntry] = field(default_factory=list)
    active: List[str] = field(default_factory=list)

    @property
    def fell_back(self) -> bool:
        return bool(self.active) and self.active[0] != self.requested[0]

    def as_status(self) -> Dict[str, Any]:
        return {"requested": list(self.requested), "active": list(self.active), "fell_back": self.fell_back}


def resolve_providers(requested: Sequence[str], available: Sequence[str],
                      trt_cache_dir: Union[str, Path] = "~/.cache/cardiotune/trt",
                      trt_fp16: bool = True) -> ProviderChoice:
    """Keep the requested providers this build offers, in the requested order; TensorRT gets
    its engine-cache options. A provider the build lacks is logged, never an error."""
    choice = ProviderChoice(list(requested), list(available))
    for name in requested:
        if name not in available:
            log.warning("execution provider %s requested but this onnxruntime build only offers %s",
                        name, list(available))
            continue
        if name == PROVIDER_ALIASES["tensorrt"]:
            os.makedirs(str(Path(trt_cache_dir).expanduser()), exist_ok=True)
            choice.entries.append((name, tensorrt_options(trt_cache_dir, trt_fp16)))
        else:
            choice.entries.append(name)
    if not choice.entries:
        choice.entries.append(PROVIDER_ALIASES["cpu"])
    return choice


def session_options(ort: Any, threads: int = 1) -> Any:
    """The edge's one session setup: ORT_ENABLE_EXTENDED (ORT_ENABLE_ALL segfaults on fp16 GRUs)."""
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = int(threads)
    opts.inter_op_num_threads = 1
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    opts.log_severity_level = 3  # errors only: fp16 graphs print constant-folding notes; fallbacks we log ourselves
    return opts


def create_session(model_path: Union[str, Path], requested: Optional[Sequence[str]] = None, threads: int = 1,
                   trt_cache_dir: Union[str, Path] = "~/.cache/cardiotune/trt", trt_fp16: bool = True,
                   ) -> Tuple[Any, ProviderChoice]:
    """An onnxruntime session on the best of ``requested`` that really loads; logs a fallback."""
    import onnxruntime as ort

    requested = list(requested) if requested else [PROVIDER_ALIASES[n] for n in DEFAULT_PROVIDERS]
    choice = resolve_providers(requested, ort.get_available_providers(), trt_cache_dir, trt_fp16)
    session = ort.InferenceSession(str(model_path), sess_options=session_options(ort, threads),
                                   providers=choice.entries)
    choice.active = list(session.get_providers())
    if choice.fell_back:
        log.warning("%s: asked for %s, running on %s", Path(model_path).name, requested, choice.active)
    else:
        log.info("%s: running on %s", Path(model_path).name, choice.active)
    return session, choice
