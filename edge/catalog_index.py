"""Load a catalog index artifact (``cardiotune catalog build`` + ``export``) on the device.

numpy only (no torch, no librosa; Python 3.8). The artifact is one ``.npz`` (schema
``cardiotune.catalog-index/1``, layout in ``cardiotune.server.catalog.export``); it is
loaded with ``allow_pickle=False`` and its ``content_sha256`` is re-computed and checked,
so a truncated or edited file is refused with the reason instead of recommending from it.

The tracks come back as :class:`~cardiotune.edge.music.catalog.Track` objects, the type
the recommender already takes, so ``cardiotune demo --catalog index.npz`` needs no other
change. Unknown durations (0 in the artifact, e.g. imported annotation sets without audio)
become ``default_duration_s`` and are counted in ``unknown_duration``.
"""
from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Union

import numpy as np

from ..errors import DataError
from .music.catalog import Track

__all__ = ["INDEX_SCHEMA", "ARRAY_KEYS", "CatalogIndex", "content_hash", "load_catalog_index"]

INDEX_SCHEMA = "cardiotune.catalog-index/1"
ARRAY_KEYS = ("ids", "titles", "artists", "uris", "va", "va_sd", "duration_s", "embedding",
              "seg_track", "seg_start_s", "seg_va")


def content_hash(arrays: Dict[str, np.ndarray]) -> str:
    """sha256 over (key, dtype, shape, bytes) of every array in ARRAY_KEYS order."""
    h = hashlib.sha256()
    for k in ARRAY_KEYS:
        a = np.ascontiguousarray(arrays[k])
        h.update(f"{k}|{a.dtype.str}|{a.shape}|".encode())
        h.update(a.tobytes())
    return h.hexdigest()


@dataclass
class CatalogIndex:
    meta: Dict[str, Any]
    arrays: Dict[str, np.ndarray]
    tracks: List[Track]
    unknown_duration: int

    def __len__(self) -> int:
        return len(self.tracks)

    def segments(self, track_index: int) -> np.ndarray:
        """(K, 3) [start_s, valence, arousal] of one track's dynamic VA."""
        m = self.arrays["seg_track"] == track_index
        return np.column_stack([self.arrays["seg_start_s"][m], self.arrays["seg_va"][m]])


def load_catalog_index(path: Union[str, Path], default_duration_s: float = 30.0) -> CatalogIndex:
    path = Path(path)
    try:
        with np.load(str(path), allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except FileNotFoundError:
        raise DataError(f"catalog index {path}: file not found") from None
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise DataError(f"catalog index {path}: not a readable .npz ({exc})") from None
    if "meta" not in arrays:
        raise DataError(f"catalog index {path}: no 'meta' entry; not a cardiotune catalog index")
    try:
        meta = json.loads(arrays.pop("meta").tobytes().decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise DataError(f"catalog index {path}: 'meta' is not JSON ({exc})") from None
    schema = meta.get("schema", "")
    if schema != INDEX_SCHEMA:
        raise DataError(f"catalog index {path}: schema {schema!r}, expected {INDEX_SCHEMA!r}")
    missing = [k for k in ARRAY_KEYS if k not in arrays]
    if missing:
        raise DataError(f"catalog index {path}: missing arrays {missing}")
    digest = content_hash(arrays)
    if digest != meta.get("content_sha256"):
        raise DataError(f"catalog index {path}: content sha256 {digest[:16]}... differs from its meta "
                        f"({str(meta.get('content_sha256'))[:16]}...): corrupted or edited; refusing it")
    va, dur = arrays["va"], arrays["duration_s"]
    tracks, unknown = [], 0
    for i, tid in enumerate(arrays["ids"]):
        d = float(dur[i])
        if not d > 0:
            d, unknown = default_duration_s, unknown + 1
        tracks.append(Track(str(tid), str(arrays["titles"][i]), float(va[i, 0]), float(va[i, 1]), d,
                            str(arrays["uris"][i])))
    return CatalogIndex(meta, arrays, tracks, unknown)
