"""Top-10 retrieval latency, exact vs HNSW, at several catalog sizes (one run, one core).

Vectors: a synthetic stand-in for catalog embeddings - a mixture of Gaussian clusters in
``dim`` dimensions (the CMER embedding has 8), seeded. Queries are fresh draws from the same
mixture. For each size: build both indexes, time ``n_queries`` single-vector top-10 queries
(one thread; numpy's BLAS pinned to one thread by the caller's environment), recall@10 of
HNSW against exact. Build times are reported but are not the target.
"""
from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path
from typing import Dict, List, Sequence

import numpy as np

from .retrieval import ExactIndex, HnswIndex, recall_at_k

__all__ = ["bench_retrieval"]


def _vectors(n: int, dim: int, rng: np.random.Generator, centers: np.ndarray) -> np.ndarray:
    lab = rng.integers(0, len(centers), n)
    return (centers[lab] + 0.35 * rng.normal(size=(n, dim))).astype(np.float32)


def _time_queries(index, qs: np.ndarray, k: int) -> (np.ndarray, List[float]):
    ids, lat = [], []
    for q in qs:
        t = time.perf_counter()
        got, _ = index.search(q, k)
        lat.append((time.perf_counter() - t) * 1000.0)
        ids.append(got[:k])
    return np.stack(ids), lat


def _summary(lat: Sequence[float]) -> Dict[str, float]:
    a = np.asarray(lat)
    return {"median_ms": round(float(np.median(a)), 4), "p99_ms": round(float(np.percentile(a, 99)), 4),
            "mean_ms": round(float(a.mean()), 4)}


def bench_retrieval(out: Path, sizes: Sequence[int] = (10_000, 100_000, 1_000_000), dim: int = 8, k: int = 10,
                    n_queries: int = 200, expansion_search: int = 64, connectivity: int = 16,
                    expansion_add: int = 64, seed: int = 0,
                    build_threads: int = 0) -> Dict[str, object]:
    rng = np.random.default_rng(seed)
    centers = rng.normal(scale=2.0, size=(256, dim))
    result: Dict[str, object] = {
        "what": "top-k query latency, exact (numpy brute force) vs HNSW (usearch), one query thread",
        "dim": dim, "k": k, "n_queries": n_queries, "hnsw": {"connectivity": connectivity,
                                                            "expansion_search": expansion_search,
                                                            "expansion_add": expansion_add},
        "machine": {"python": platform.python_version(), "cpu_count": os.cpu_count(),
                    "omp_threads": os.environ.get("OMP_NUM_THREADS"), "platform": platform.platform()},
        "sizes": [],
    }
    x_all = _vectors(max(sizes), dim, rng, centers)
    qs = _vectors(n_queries, dim, rng, centers)
    for n in sizes:
        x = x_all[:n]
        exact = ExactIndex(x)
        t = time.perf_counter()
        ann = HnswIndex(x, connectivity=connectivity, expansion_add=expansion_add, expansion_search=expansion_search,
                        threads=build_threads)
        build_s = time.perf_counter() - t
        _time_queries(exact, qs[:5], k)  # warm caches
        _time_queries(ann, qs[:5], k)
        truth, lat_e = _time_queries(exact, qs, k)
        got, lat_a = _time_queries(ann, qs, k)
        row = {"n": n, "exact": _summary(lat_e), "hnsw": _summary(lat_a), "hnsw_build_s": round(build_s, 2),
               "recall_at_k": round(recall_at_k(truth, got), 4)}
        row["speedup_median"] = round(row["exact"]["median_ms"] / max(row["hnsw"]["median_ms"], 1e-9), 1)
        result["sizes"].append(row)
        print(f"n={n:>9,}: exact median {row['exact']['median_ms']:8.3f} ms p99 {row['exact']['p99_ms']:8.3f} | "
              f"hnsw median {row['hnsw']['median_ms']:7.3f} ms p99 {row['hnsw']['p99_ms']:7.3f} | "
              f"recall@{k} {row['recall_at_k']:.4f} | build {build_s:.1f} s", flush=True)
        del exact, ann
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")
    return result
