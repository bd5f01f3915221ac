"""Export the catalog database as the index artifact devices load (one ``.npz`` file).

Layout (schema ``cardiotune.catalog-index/1``; read by ``cardiotune.edge.catalog_index``,
which needs only numpy): string arrays ``ids``, ``titles``, ``artists``, ``uris``; float32
``va`` (N, 2) and ``va_sd`` (N, 2) on the catalog VA scale, ``duration_s`` (N; 0 = unknown),
``embedding`` (N, d); dynamic VA as ``seg_track`` (int32 row into the arrays above),
``seg_start_s``, ``seg_va`` (M, 2); and ``meta``: UTF-8 JSON bytes with the schema, the
model version(s) that produced the VA, the creation time and ``content_sha256``, a hash of
every array (fixed order), which the loader checks.
"""
from __future__ import annotations

import io
import json
import os
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Dict, Optional, Union

import numpy as np
from cardiotune.edge.catalog_index import ARRAY_KEYS, INDEX_SCHEMA, content_hash

from cardiotune.errors import DataError

from .db import open_db

__all__ = ["INDEX_SCHEMA", "ARRAY_KEYS", "export_index", "content_hash"]

def export_index(db_path: Union[str, Path], out: Union[str, Path], *, source: Optional[str] = None,
                 playable_only: bool = False) -> Dict[str, object]:
    """Write the index artifact; returns its ``meta``. ``source`` keeps only rows of that source
    (``scan`` or an import name); ``playable_only`` keeps rows whose file:// URI exists."""
    if not Path(db_path).is_file():
        raise DataError(f"catalog database {db_path}: file not found (run `cardiotune catalog build` first)")
    db = open_db(db_path)
    try:
        q = "SELECT rowid AS r, * FROM tracks" + (" WHERE source = ?" if source else "") + " ORDER BY id"
        rows = db.execute(q, (source,) if source else ()).fetchall()
        if playable_only:
            rows = [r for r in rows if r["path"] and Path(r["path"]).is_file()]
        if not rows:
            raise DataError(f"{db_path}: no tracks to export" + (f" with source {source!r}" if source else ""))
        arrays = _arrays(db, rows)
        models = sorted({r["model"] for r in rows})
    finally:
        db.close()
    meta = {"schema": INDEX_SCHEMA, "created": time.time(), "n_tracks": len(rows),
            "embedding_dim": int(arrays["embedding"].shape[1]), "models": models,
            "va_scale": "valence, arousal in [-1, 1], 0 = neutral (docs/catalog.md)",
            "content_sha256": content_hash(arrays)}
    buf = io.BytesIO()
    np.savez_compressed(buf, meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8), **arrays)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=str(out.parent), prefix=f".{out.name}.", suffix=".tmp")
    with os.fdopen(fd, "wb") as f:
        f.write(buf.getvalue())
    os.replace(tmp, out)  # atomic: a device never loads a half-written index
    return meta


def _arrays(db: sqlite3.Connection, rows) -> Dict[str, np.ndarray]:
    dims = {len(r["embedding"]) // 4 for r in rows if r["embedding"]}
    d = max(dims) if dims else 0
    emb = np.zeros((len(rows), d), dtype=np.float32)
    for i, r in enumerate(rows):
        if r["embedding"] and len(r["embedding"]) // 4 == d:
            emb[i] = np.frombuffer(r["embedding"], dtype="<f4")
    pos = {r["id"]: i for i, r in enumerate(rows)}
    seg = db.execute("SELECT track_id, start_s, valence, arousal FROM segments ORDER BY track_id, start_s").fetchall()
    seg = [s for s in seg if s["track_id"] in pos]

    def nan(x):
        return np.nan if x is None else x

    return {
        "ids": np.array([r["id"] for r in rows], dtype=str),
        "titles": np.array([r["title"] for r in rows], dtype=str),
        "artists": np.array([r["artist"] for r in rows], dtype=str),
        "uris": np.array([r["uri"] for r in rows], dtype=str),
        "va": np.array([[r["valence"], r["arousal"]] for r in rows], dtype=np.float32),
        "va_sd": np.array([[nan(r["valence_sd"]), nan(r["arousal_sd"])] for r in rows], dtype=np.float32),
        "duration_s": np.array([r["duration_s"] or 0.0 for r in rows], dtype=np.float32),
        "embedding": emb,
        "seg_track": np.array([pos[s["track_id"]] for s in seg], dtype=np.int32),
        "seg_start_s": np.array([s["start_s"] for s in seg], dtype=np.float32),
        "seg_va": np.array([[s["valence"], s["arousal"]] for s in seg], dtype=np.float32).reshape(-1, 2),
    }
