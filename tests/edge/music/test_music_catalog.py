from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from cardiotune.edge.music import catalog as cat
from cardiotune.edge.music.wav import read_wav


def test_catalog_spans_the_va_plane(demo_catalog):
    assert len(demo_catalog) == 32
    va = demo_catalog.va_array()
    assert va.shape == (32, 2)
    for corner in ((-0.8, -0.8), (-0.8, 0.8), (0.8, -0.8), (0.8, 0.8)):
        assert np.min(np.linalg.norm(va - corner, axis=1)) < 1e-9
    assert [t.id for t in demo_catalog][:3] == ["proc-000", "proc-001", "proc-002"]
    assert len({t.title for t in demo_catalog}) >= 25


def test_tracks_are_playable_wavs(demo_catalog):
    track = demo_catalog.by_id("proc-024")
    assert (track.valence, track.arousal) == (0.8, 0.8)
    assert track.title == "Bright Major Dance 155 bpm"
    assert track.uri.startswith("file://") and track.path.is_file()
    x, sr = read_wav(track.path)
    assert sr == 22050 and x.shape[0] == pytest.approx(track.duration_s * sr)
    assert track.params["mode"] == "major" and track.params["tempo_bpm"] == 155


def test_by_id_error_names_the_id(demo_catalog):
    with pytest.raises(KeyError, match="'nope' is not in the catalog"):
        demo_catalog.by_id("nope")
    assert "proc-000" in demo_catalog and "nope" not in demo_catalog


def test_metadata_lists_every_clip_with_its_sha256(demo_catalog):
    doc = json.loads((demo_catalog.root / "catalog.json").read_text())
    assert doc["schema"] == "cardiotune.demo-catalog/1"
    assert [e["id"] for e in doc["tracks"]] == [t.id for t in demo_catalog]
    assert all(len(e["sha256"]) == 64 and e["params"]["tempo_bpm"] for e in doc["tracks"])


def _copy(src: Path, dst: Path) -> None:
    (dst / cat.CATALOG_NAME).mkdir(parents=True)
    for f in (src).iterdir():
        (dst / cat.CATALOG_NAME / f.name).write_bytes(f.read_bytes())


def test_warm_cache_does_no_synthesis(demo_catalog, tmp_path, monkeypatch):
    _copy(demo_catalog.root, tmp_path)

    def fail(*a, **k):
        raise AssertionError("synthesised on a warm cache")

    monkeypatch.setattr(cat.synth, "render", fail)
    again = cat.load_demo_catalog(tmp_path)
    assert [t.id for t in again] == [t.id for t in demo_catalog]
    assert again.by_id("proc-003").uri != demo_catalog.by_id("proc-003").uri  # its own files


def test_missing_and_corrupt_clips_are_regenerated_identically(demo_catalog, tmp_path):
    _copy(demo_catalog.root, tmp_path)
    root = tmp_path / cat.CATALOG_NAME
    original = (root / "proc-005.wav").read_bytes()
    (root / "proc-005.wav").write_bytes(original[:1000])  # truncated
    (root / "proc-017.wav").unlink()
    generated = []
    again = cat.load_demo_catalog(tmp_path, progress=lambda i, n, t: generated.append((i, n, t.id)))
    assert generated == [(1, 2, "proc-005"), (2, 2, "proc-017")]
    assert (root / "proc-005.wav").read_bytes() == original
    assert again.by_id("proc-017").path.is_file()
    assert not list(root.glob(".*.tmp"))  # no temp files left behind


def test_unreadable_metadata_regenerates(demo_catalog, tmp_path, monkeypatch):
    _copy(demo_catalog.root, tmp_path)
    (tmp_path / cat.CATALOG_NAME / "catalog.json").write_text("{not json")
    rendered = []

    def cheap(params, seed):  # count what would be synthesised, render silence (fast)
        rendered.append(seed)
        return np.zeros(100)

    monkeypatch.setattr(cat.synth, "render", cheap)
    cat.load_demo_catalog(tmp_path)
    assert len(rendered) == 32
    doc = json.loads((tmp_path / cat.CATALOG_NAME / "catalog.json").read_text())
    assert len(doc["tracks"]) == 32


def test_default_cache_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("CARDIOTUNE_CACHE", str(tmp_path / "c"))
    assert cat.default_cache_dir() == tmp_path / "c"
    monkeypatch.delenv("CARDIOTUNE_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "x"))
    assert cat.default_cache_dir() == tmp_path / "x" / "cardiotune"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert cat.default_cache_dir() == Path.home() / ".cache" / "cardiotune"
