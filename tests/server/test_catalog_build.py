"""`catalog build` on real audio files (procedurally rendered WAV + FLAC clips, a garbage
file, a truncated file): scoring in worker processes, the skip report, incremental and
resumable runs, moves and removals, the exported index and its edge loader."""
from __future__ import annotations

import shutil
import sqlite3

import numpy as np
import pytest
from cardiotune.edge.catalog_index import load_catalog_index
from cardiotune.edge.music import synth
from cardiotune.edge.music.wav import encode_wav
from cardiotune.server.catalog.build import build_catalog
from cardiotune.server.catalog.export import export_index

from cardiotune.errors import DataError

pytest.importorskip("librosa")
pytest.importorskip("torch")
sf = pytest.importorskip("soundfile")


def _render(v, a, seconds, seed):
    return synth.render(synth.params_for_va(v, a, seconds), seed)


@pytest.fixture(scope="module")
def music(tmp_path_factory):
    root = tmp_path_factory.mktemp("music")
    (root / "sub").mkdir()
    (root / "calm.wav").write_bytes(encode_wav(_render(0.6, -0.7, 8.0, 1), synth.SAMPLE_RATE))
    (root / "tense.wav").write_bytes(encode_wav(_render(-0.6, 0.8, 7.0, 2), synth.SAMPLE_RATE))
    sf.write(str(root / "sub" / "bright.flac"), _render(0.7, 0.7, 6.0, 3), synth.SAMPLE_RATE)
    (root / "garbage.mp3").write_bytes(np.random.default_rng(0).bytes(4000))
    full = encode_wav(_render(0.0, 0.0, 8.0, 4), synth.SAMPLE_RATE)
    (root / "truncated.wav").write_bytes(full[: len(full) // 4])  # header still says 8 s
    return root


@pytest.mark.slow  # librosa + torch start-up in 2 worker processes and this one: ~30 s unloaded
def test_build_scores_skips_and_is_incremental(music, tmp_path):
    lib = tmp_path / "lib"
    shutil.copytree(music, lib)
    db = tmp_path / "cat.db"
    rep = build_catalog(lib, db, workers=2, progress=False)
    assert (rep.scanned, rep.added, rep.unchanged) == (5, 3, 0)
    reasons = {p.split("/")[-1]: r for p, r in rep.problems}
    assert set(reasons) == {"garbage.mp3", "truncated.wav"}
    assert "not a recognised audio file" in reasons["garbage.mp3"] or "unreadable tags" in reasons["garbage.mp3"]
    assert reasons["truncated.wav"].startswith("truncated: decoded 2.0 s of the 8.0 s")
    con = sqlite3.connect(db)
    rows = con.execute("SELECT path, valence, arousal, valence_sd, arousal_sd, duration_s, length(embedding), "
                       "model FROM tracks ORDER BY path").fetchall()
    assert sorted(r[0].split("/")[-1] for r in rows) == ["bright.flac", "calm.wav", "tense.wav"]
    import torch
    from cardiotune.server.catalog.analyze import default_checkpoints

    d_emb = int(torch.load(str(default_checkpoints()["cmer"]), weights_only=True)["config"]["d_emb"])
    for _p, v, a, vs, as_, dur, emb, model in rows:
        assert -1 <= v <= 1 and -1 <= a <= 1 and vs > 0 and as_ > 0 and dur > 5.5
        assert emb == d_emb * 4 and "music_va:" in model and "cmer:" in model  # float32 CMER embedding
    # dynamic VA: one segment per 5 s; a tail >= 2.5 s is its own segment (8 s -> [0, 5), [5, 8))
    segs = con.execute("SELECT t.path, s.start_s, s.end_s FROM segments s JOIN tracks t ON t.id = s.track_id "
                       "WHERE t.path LIKE '%calm.wav' ORDER BY s.start_s").fetchall()
    assert [(s, round(e, 1)) for _p, s, e in segs] == [(0.0, 5.0), (5.0, 8.0)]
    problems = con.execute("SELECT COUNT(*) FROM problems").fetchone()[0]
    assert problems == 2
    # nothing changed: nothing is scored again
    rep2 = build_catalog(lib, db, workers=0, progress=False)
    assert (rep2.added, rep2.unchanged, len(rep2.problems)) == (0, 3, 2)
    # a move keeps the scores, a deletion removes the row, a changed file is re-scored
    (lib / "calm.wav").rename(lib / "sub" / "calm-moved.wav")
    (lib / "tense.wav").unlink()
    sf.write(str(lib / "sub" / "bright.flac"), _render(0.5, 0.2, 6.0, 9), synth.SAMPLE_RATE)
    rep3 = build_catalog(lib, db, workers=0, progress=False)
    assert (rep3.moved, rep3.removed, rep3.added) == (1, 1, 1)
    assert con.execute("SELECT COUNT(*) FROM tracks").fetchone()[0] == 2
    # resumable: a track whose row never got written (killed mid-run) is the only one scored
    con.execute("DELETE FROM tracks WHERE path LIKE '%calm-moved.wav'")
    con.commit()
    rep4 = build_catalog(lib, db, workers=0, progress=False)
    assert (rep4.added, rep4.unchanged) == (1, 1)
    con.close()

    out = tmp_path / "index.npz"
    meta = export_index(db, out, source="scan")
    idx = load_catalog_index(out)
    assert meta["n_tracks"] == len(idx) == 2 and idx.unknown_duration == 0
    assert {t.title for t in idx.tracks} == {"calm-moved", "bright"}
    assert all(t.path.is_file() for t in idx.tracks)
    assert idx.segments(0).shape[1] == 3 and len(idx.segments(0)) >= 2
    assert meta["models"][0].startswith("st110-librosa-v1+music_va:")


def test_build_refuses_a_missing_folder(tmp_path):
    with pytest.raises(DataError, match="not a directory"):
        build_catalog(tmp_path / "nope", tmp_path / "c.db", progress=False)


@pytest.mark.slow  # a real build process, killed mid-run, then resumed
def test_build_killed_mid_run_resumes_where_it_stopped(music, tmp_path):
    import signal
    import subprocess
    import sys
    import time

    lib = tmp_path / "lib"
    lib.mkdir()
    for name in ("calm.wav", "tense.wav"):
        shutil.copy(music / name, lib / name)
    for i in range(3):  # more work than the first track, so the kill lands mid-run
        (lib / f"more-{i}.wav").write_bytes(encode_wav(_render(0.1 * i, -0.1 * i, 30.0, 10 + i), synth.SAMPLE_RATE))
    db = tmp_path / "cat.db"
    proc = subprocess.Popen([sys.executable, "-m", "cardiotune", "catalog", "build", str(lib), "--db", str(db),
                             "--workers", "0", "--no-progress"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    done = 0
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and proc.poll() is None:
        if db.is_file():
            try:
                with sqlite3.connect(db, timeout=1) as con:
                    done = con.execute("SELECT COUNT(*) FROM tracks").fetchone()[0]
            except sqlite3.OperationalError:  # tables not created yet
                done = 0
            if done >= 1:
                break
        time.sleep(0.05)
    assert proc.poll() is None, proc.stderr.read().decode()[-2000:]  # still working: kill it now
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    proc.stderr.close()
    with sqlite3.connect(db) as con:
        kept = con.execute("SELECT COUNT(*) FROM tracks").fetchone()[0]
    assert 1 <= kept < 5
    rep = build_catalog(lib, db, workers=0, progress=False)
    assert (rep.unchanged, rep.added, len(rep.problems)) == (kept, 5 - kept, 0)
