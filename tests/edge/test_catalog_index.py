"""The device-side loader of the catalog index artifact (numpy only): a valid file, a
tampered one, a foreign one."""
from __future__ import annotations

import json

import numpy as np
import pytest
from cardiotune.edge.catalog_index import INDEX_SCHEMA, content_hash, load_catalog_index

from cardiotune.errors import DataError


def _arrays():
    return {
        "ids": np.array(["t1", "t2"]), "titles": np.array(["One", "Two"]), "artists": np.array(["A", ""]),
        "uris": np.array(["file:///m/1.mp3", "deam:5"]),
        "va": np.array([[0.5, -0.5], [-0.1, 0.2]], dtype=np.float32),
        "va_sd": np.array([[0.1, 0.1], [np.nan, np.nan]], dtype=np.float32),
        "duration_s": np.array([45.0, 0.0], dtype=np.float32),
        "embedding": np.zeros((2, 8), dtype=np.float32),
        "seg_track": np.array([0, 0], dtype=np.int32), "seg_start_s": np.array([0.0, 5.0], dtype=np.float32),
        "seg_va": np.array([[0.4, -0.4], [0.6, -0.6]], dtype=np.float32),
    }


def _write(path, arrays, **meta_over):
    meta = {"schema": INDEX_SCHEMA, "content_sha256": content_hash(arrays), "models": ["m"]}
    meta.update(meta_over)
    np.savez(path, meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8), **arrays)


def test_loads_tracks_and_segments(tmp_path):
    _write(tmp_path / "i.npz", _arrays())
    idx = load_catalog_index(tmp_path / "i.npz", default_duration_s=30.0)
    assert [(t.id, t.title, t.valence, t.arousal, t.duration_s) for t in idx.tracks] == [
        ("t1", "One", 0.5, -0.5, 45.0), ("t2", "Two", pytest.approx(-0.1), pytest.approx(0.2), 30.0)]
    assert idx.unknown_duration == 1
    np.testing.assert_allclose(idx.segments(0), [[0.0, 0.4, -0.4], [5.0, 0.6, -0.6]], rtol=1e-6)


def test_refuses_tampered_foreign_or_missing_files(tmp_path):
    a = _arrays()
    good = content_hash(a)
    a["va"][0, 0] = 0.9  # edited after export
    _write(tmp_path / "t.npz", a, content_sha256=good)
    with pytest.raises(DataError, match="differs from its meta .* refusing it"):
        load_catalog_index(tmp_path / "t.npz")
    _write(tmp_path / "f.npz", _arrays(), schema="cardiotune.catalog-index/2")
    with pytest.raises(DataError, match="expected 'cardiotune.catalog-index/1'"):
        load_catalog_index(tmp_path / "f.npz")
    with pytest.raises(DataError, match="file not found"):
        load_catalog_index(tmp_path / "none.npz")
    (tmp_path / "z.npz").write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(DataError, match="not a readable .npz"):
        load_catalog_index(tmp_path / "z.npz")
