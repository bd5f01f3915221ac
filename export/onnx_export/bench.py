"""``cardiotune bench models``: batch-1 latency of every shipped model, torch vs onnxruntime.

Each (model, runtime) is measured in a fresh subprocess, so load time and resident memory
are that runtime's alone: RSS before the import, after loading, and the latency median/p99
at one thread and at the runtime's default thread count.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import numpy as np

__all__ = ["bench_models", "measure", "format_table"]


def _rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def _timeit(fn, n: int, warmup: int = 30) -> Dict[str, float]:
    for _ in range(warmup):
        fn()
    t = np.empty(n)
    for i in range(n):
        t0 = time.perf_counter()
        fn()
        t[i] = time.perf_counter() - t0
    return {"median_ms": float(np.median(t) * 1e3), "p99_ms": float(np.percentile(t, 99) * 1e3)}


def measure(model: str, runtime: str, manifest: str, n: int = 1000) -> Dict[str, Any]:
    """One measurement (run in its own process). ``runtime`` is ``torch`` or ``ort:<variant>``."""
    rss0 = _rss_mb()
    t0 = time.perf_counter()
    from .registry import get_spec

    spec = get_spec(model)
    inputs = spec.example(dict(spec.parity_cases[0]), np.random.default_rng(0))
    out: Dict[str, Any] = {"model": model, "runtime": runtime, "input_shapes": [list(x.shape) for x in inputs]}
    if runtime == "torch":
        import torch

        out["import_ms"] = (time.perf_counter() - t0) * 1e3
        t0 = time.perf_counter()
        loaded = spec.load(spec.default_checkpoint)
        mod = loaded.module.eval()
        xs = [torch.from_numpy(x) for x in inputs]

        def run():
            with torch.inference_mode():
                mod(*xs)
        out["load_ms"] = (time.perf_counter() - t0) * 1e3
        run()
        out["rss_mb"] = _rss_mb()
        default = torch.get_num_threads()
        torch.set_num_threads(1)
        out["threads_1"] = _timeit(run, n)
        torch.set_num_threads(default)
        out["threads_default"] = {**_timeit(run, n), "threads": default}
    else:
        import onnxruntime  # noqa: F401 - timed as the import, apart from the model load
        from cardiotune.edge.manifest import ModelManifest
        from cardiotune.edge.onnx_model import OnnxModel

        out["import_ms"] = (time.perf_counter() - t0) * 1e3
        t0 = time.perf_counter()
        variant = runtime.split(":", 1)[1]
        man = ModelManifest.load(Path(manifest))
        m1 = OnnxModel(man, variant=variant, threads=1, warmup=1)
        out["load_ms"] = (time.perf_counter() - t0) * 1e3
        out["rss_mb"] = _rss_mb()
        feed = dict(zip(m1.input_names, inputs))
        out["threads_1"] = _timeit(lambda: m1.session.run(None, feed), n)
        md = OnnxModel(man, variant=variant, threads=0, warmup=1)  # 0 = onnxruntime's default
        out["threads_default"] = {**_timeit(lambda: md.session.run(None, feed), n), "threads": os.cpu_count()}
        out["providers"] = m1.providers
    out["rss_before_mb"] = rss0
    return out


def bench_models(manifests: Sequence[Path], out_json: Path, n: int = 1000, with_torch: bool = True,
                 progress: bool = True) -> Dict[str, Any]:
    from cardiotune.edge.manifest import ModelManifest

    from .registry import SPECS

    rows: List[Dict[str, Any]] = []
    jobs = []
    for mp in manifests:
        man = ModelManifest.load(mp)
        name = man.data["name"]
        if with_torch and name in SPECS:
            jobs.append((name, "torch", mp))
        jobs += [(name, f"ort:{v}", mp) for v in sorted(man.variants)]
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover - tqdm comes with the train extra
        def tqdm(x, **_):
            return x
    for name, runtime, mp in tqdm(jobs, desc="bench models", disable=not progress):
        cmd = [sys.executable, "-m", "cardiotune.export.onnx_export.bench", name, runtime, str(mp), str(n)]
        res = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if res.returncode != 0:
            rows.append({"model": name, "runtime": runtime, "error": res.stderr.strip().splitlines()[-1:]})
            continue
        rows.append(json.loads(res.stdout.strip().splitlines()[-1]))
    summary = _summary(rows)
    result = {"n_runs": n, "cpu_count": os.cpu_count(), "rows": rows, "summary": summary}
    out_json = Path(out_json)
    out_json.parent.mkdir(parents=True, exist_ok=True)
    out_json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return result


def _summary(rows: List[Dict[str, Any]]) -> Dict[str, Any]:
    """Per model: ORT fp32 speed-up over torch (same thread count), and the 1 ms target."""
    out: Dict[str, Any] = {}
    by = {(r["model"], r["runtime"]): r for r in rows if "error" not in r}
    for model in sorted({r["model"] for r in rows}):
        t, o = by.get((model, "torch")), by.get((model, "ort:fp32"))
        if not (t and o):
            continue
        s1 = t["threads_1"]["median_ms"] / o["threads_1"]["median_ms"]
        sd = t["threads_default"]["median_ms"] / o["threads_default"]["median_ms"]
        best = min((r["threads_1"]["median_ms"], k[1]) for k, r in by.items() if k[0] == model and k[1] != "torch")
        out[model] = {"speedup_fp32_1thread": round(s1, 2), "speedup_fp32_default": round(sd, 2),
                      "meets_3x": bool(s1 >= 3 and sd >= 3),
                      "ort_fp32_1thread_ms": round(o["threads_1"]["median_ms"], 4),
                      "fastest_ort_1thread": {"runtime": best[1], "median_ms": round(best[0], 4)},
                      "meets_1ms_1thread": bool(o["threads_1"]["median_ms"] <= 1.0)}
    return out


def format_table(result: Dict[str, Any]) -> str:
    lines = ["| model | runtime | import ms | load ms | RSS MB | median ms (1 thr) | p99 ms (1 thr) "
             "| median ms (default) | p99 ms (default) |", "|---|---|---|---|---|---|---|---|---|"]
    for r in result["rows"]:
        if "error" in r:
            lines.append(f"| {r['model']} | {r['runtime']} | error: {r['error']} | | | | | | |")
            continue
        lines.append(f"| {r['model']} | {r['runtime']} | {r['import_ms']:.0f} | {r['load_ms']:.1f} | "
                     f"{r['rss_mb']:.0f} | "
                     f"{r['threads_1']['median_ms']:.4f} | {r['threads_1']['p99_ms']:.4f} | "
                     f"{r['threads_default']['median_ms']:.4f} | {r['threads_default']['p99_ms']:.4f} |")
    lines += ["", "| model | ORT fp32 speed-up vs torch (1 thr / default) | ≥ 3× | ORT fp32 1-thread ms | ≤ 1 ms |",
              "|---|---|---|---|---|"]
    for m, s in result["summary"].items():
        lines.append(f"| {m} | {s['speedup_fp32_1thread']}× / {s['speedup_fp32_default']}× | "
                     f"{'yes' if s['meets_3x'] else 'NO'} | {s['ort_fp32_1thread_ms']} | "
                     f"{'yes' if s['meets_1ms_1thread'] else 'NO'} |")
    return "\n".join(lines)


def _main(argv: Optional[List[str]] = None) -> int:
    name, runtime, manifest, n = (argv or sys.argv[1:])[:4]
    print(json.dumps(measure(name, runtime, manifest, int(n))))
    return 0


if __name__ == "__main__":
    sys.exit(_main())
