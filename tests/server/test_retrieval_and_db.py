"""Retrieval (exact vs HNSW behind one interface), schema migrations, `catalog show`."""
from __future__ import annotations

import sqlite3

import numpy as np
import pytest
from cardiotune.server.catalog.db import MIGRATIONS, SCHEMA_VERSION, open_db
from cardiotune.server.catalog.imports import import_annotations
from cardiotune.server.catalog.show import catalog_stats, load_points, plot_png, write_html
from cardiotune.server.retrieval import ExactIndex, HnswIndex, make_index, recall_at_k

from cardiotune.errors import DataError


def test_exact_index_matches_a_full_sort():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2000, 8)).astype(np.float32)
    idx = ExactIndex(x)
    for q in rng.normal(size=(5, 8)):
        ids, d = idx.search(q, 10)
        full = ((x - q) ** 2).sum(1)
        np.testing.assert_array_equal(ids, np.argsort(full, kind="stable")[:10])
        np.testing.assert_allclose(d, np.sort(full)[:10], rtol=1e-4, atol=1e-4)
    assert len(idx.search(x[0], 5000)[0]) == 2000  # k > n: everything, sorted
    with pytest.raises(ValueError, match="query of dimension 3: expected 8"):
        idx.search(np.zeros(3), 10)


def test_hnsw_recall_against_exact():
    pytest.importorskip("usearch")
    rng = np.random.default_rng(2)
    centers = rng.normal(size=(50, 8))
    x = (centers[rng.integers(0, 50, 20000)] + 0.3 * rng.normal(size=(20000, 8))).astype(np.float32)
    exact, ann = ExactIndex(x), HnswIndex(x, threads=1)
    qs = rng.normal(size=(100, 8)).astype(np.float32)
    truth = np.stack([exact.search(q, 10)[0] for q in qs])
    got = np.stack([ann.search(q, 10)[0] for q in qs])
    assert recall_at_k(truth, got) >= 0.95
    assert isinstance(make_index(x[:100]), ExactIndex) and isinstance(make_index(x, "hnsw"), HnswIndex)
    with pytest.raises(ValueError, match="expected auto, exact or hnsw"):
        make_index(x, "faiss")


def test_old_schema_is_migrated_and_newer_refused(tmp_path):
    path = tmp_path / "old.db"
    con = sqlite3.connect(path)
    MIGRATIONS[0](con)  # a catalog written by schema 1
    con.execute("PRAGMA user_version = 1")
    con.commit()
    con.close()
    db = open_db(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 2
    db.execute("INSERT INTO meta VALUES ('k', 'v')")  # the v2 table exists
    db.close()
    con = sqlite3.connect(path)
    con.execute("PRAGMA user_version = 99")
    con.commit()
    con.close()
    with pytest.raises(DataError, match="catalog schema 99 is newer than this cardiotune understands"):
        open_db(path)
    (tmp_path / "junk.db").write_bytes(b"not sqlite at all" * 100)
    with pytest.raises(DataError, match="not a catalog database"):
        open_db(tmp_path / "junk.db")


def test_show_writes_png_and_self_contained_html(tmp_path):
    pytest.importorskip("matplotlib")
    (tmp_path / "a.csv").write_text("id,uri,valence,arousal,title,artist\n"
                                    "a,u:1,0.5,0.5,Happy <b>,X\nb,u:2,-0.5,-0.2,Sad,Y\nc,u:3,0.1,-0.9,Calm,\n")
    db = tmp_path / "c.db"
    import_annotations(db, "csv", tmp_path / "a.csv")
    stats = catalog_stats(db)
    assert stats["tracks"] == 3 and stats["by_source"]["import:csv"]["quadrants"] == {
        "V+A+": 1, "V-A+": 0, "V-A-": 1, "V+A-": 1}
    pts = load_points(db)
    png = plot_png(pts, tmp_path / "c.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000
    page = write_html(pts, tmp_path / "c.html", stats=stats).read_text()
    assert page.count("<circle") == 3 and "Happy &lt;b&gt;" in page and "<svg" in page
    assert "src=" not in page and "http://" not in page.replace("http://www.w3.org/2000/svg", "")


def test_fallback_scorer_without_checkpoints(tmp_path):
    from cardiotune.server.catalog.analyze import Scorer
    from cardiotune.server.catalog.st110_stats import MEAN, STD

    s = Scorer(tmp_path / "none.pt", tmp_path / "none.pt")
    assert s.version == "st110-librosa-v1+va:feature-fallback+emb:zfeatures"
    loud = np.array(MEAN) + np.array(STD) * np.r_[3.0, 3.0, np.zeros(23)]  # loud and bright
    mean, sd = s.va(np.stack([np.array(MEAN), loud]))
    assert mean[0].tolist() == [0.0, 0.0] and mean[1, 1] > 0.9 and mean[1, 0] == 0.0
    assert sd.tolist() == [[1.0, 0.5], [1.0, 0.5]]
    np.testing.assert_allclose(s.embed(np.array(MEAN)), np.zeros((1, 25)), atol=1e-5)
