"""Top-k nearest tracks by vector (VA point or embedding) behind one interface.

* :class:`ExactIndex` - numpy brute force (squared L2 via one matrix-vector product and
  ``argpartition``). Exact; right for small catalogs and the reference for recall.
* :class:`HnswIndex` - usearch's HNSW graph (optional extra ``ann``); approximate, with
  ``expansion_search`` trading speed for recall (the benchmark reports both).

``make_index(vectors, kind="auto")`` picks exact below ``ANN_MIN`` vectors, else HNSW if
usearch is installed. Both return ``(indices, squared_distances)`` sorted by distance.
"""
from __future__ import annotations

from typing import Tuple

import numpy as np

from cardiotune._imports import import_optional

__all__ = ["ExactIndex", "HnswIndex", "make_index", "ANN_MIN", "recall_at_k"]

ANN_MIN = 50_000


class ExactIndex:
    kind = "exact"

    def __init__(self, vectors: np.ndarray):
        x = np.ascontiguousarray(vectors, dtype=np.float32)
        if x.ndim != 2 or len(x) == 0:
            raise ValueError(f"vectors of shape {x.shape}: expected (n > 0, d)")
        self.x = x
        self.sq = np.einsum("ij,ij->i", x, x)

    def __len__(self) -> int:
        return len(self.x)

    def search(self, q: np.ndarray, k: int = 10) -> Tuple[np.ndarray, np.ndarray]:
        q = np.asarray(q, dtype=np.float32).reshape(-1)
        if q.shape[0] != self.x.shape[1]:
            raise ValueError(f"query of dimension {q.shape[0]}: expected {self.x.shape[1]}")
        k = min(k, len(self.x))
        d = self.sq - 2.0 * (self.x @ q) + float(q @ q)
        part = np.argpartition(d, k - 1)[:k] if k < len(d) else np.arange(len(d))
        order = part[np.argsort(d[part], kind="stable")]
        return order, np.maximum(d[order], 0.0)


class HnswIndex:
    kind = "hnsw"

    def __init__(self, vectors: np.ndarray, connectivity: int = 16, expansion_add: int = 128,
                 expansion_search: int = 64, threads: int = 0):
        usearch = import_optional("usearch.index", "ann", "the approximate nearest-neighbour index")
        x = np.ascontiguousarray(vectors, dtype=np.float32)
        if x.ndim != 2 or len(x) == 0:
            raise ValueError(f"vectors of shape {x.shape}: expected (n > 0, d)")
        self.index = usearch.Index(ndim=x.shape[1], metric="l2sq", dtype="f32", connectivity=connectivity,
                                   expansion_add=expansion_add, expansion_search=expansion_search)
        self.index.add(np.arange(len(x), dtype=np.uint64), x, threads=threads)
        self.d = x.shape[1]

    def __len__(self) -> int:
        return len(self.index)

    def search(self, q: np.ndarray, k: int = 10) -> Tuple[np.ndarray, np.ndarray]:
        q = np.asarray(q, dtype=np.float32).reshape(-1)
        if q.shape[0] != self.d:
            raise ValueError(f"query of dimension {q.shape[0]}: expected {self.d}")
        m = self.index.search(q, k, threads=1)
        return np.asarray(m.keys, dtype=np.int64), np.asarray(m.distances, dtype=np.float32)


def make_index(vectors: np.ndarray, kind: str = "auto", **kw):
    if kind not in ("auto", "exact", "hnsw"):
        raise ValueError(f"index kind {kind!r}: expected auto, exact or hnsw")
    if kind == "exact" or (kind == "auto" and len(vectors) < ANN_MIN):
        return ExactIndex(vectors)
    return HnswIndex(vectors, **kw)


def recall_at_k(truth: np.ndarray, got: np.ndarray) -> float:
    """Mean fraction of each row of ``truth`` (exact top-k ids) found in ``got``'s row."""
    hits = [len(set(t.tolist()) & set(g.tolist())) / len(t) for t, g in zip(truth, got)]
    return float(np.mean(hits))
