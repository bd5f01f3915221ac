"""`cardiotune catalog import / export / show` as a user runs them (subprocess), and the
exported index loading on the edge side."""
from __future__ import annotations

import json
import subprocess
import sys

from cardiotune.edge.catalog_index import load_catalog_index


def _cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "cardiotune", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=300)


def test_import_export_show(tmp_path):
    (tmp_path / "a.flac").write_bytes(b"x")
    (tmp_path / "mine.csv").write_text("id,uri,valence,arousal,title\nt1,a.flac,0.2,0.4,Mine\nt2,,0.1,0.1,\n")
    db = tmp_path / "c.db"
    r = _cli("catalog", "import", "csv", str(tmp_path / "mine.csv"), "--db", str(db), "--report",
             str(tmp_path / "rep.json"))
    assert r.returncode == 0, r.stderr
    assert "imported 1 csv rows" in r.stdout and "mine.csv:3: uri is missing" in r.stdout
    assert json.loads((tmp_path / "rep.json").read_text())["problems"][0]["reason"] == "uri is missing"
    r = _cli("catalog", "export", "--db", str(db), "--out", str(tmp_path / "i.npz"), "--playable-only")
    assert r.returncode == 0, r.stderr
    idx = load_catalog_index(tmp_path / "i.npz")
    assert [(t.id, t.title, t.path.name) for t in idx.tracks] == [("t1", "Mine", "a.flac")]
    r = _cli("catalog", "show", "--db", str(db), "--html", str(tmp_path / "c.html"))
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout[: r.stdout.rindex("}") + 1])["tracks"] == 1
    r = _cli("catalog", "import", "csv", str(tmp_path / "mine.csv"), "--db", str(db), "--scale", "x")
    assert r.returncode == 2 and "--scale" in r.stderr
    r = _cli("catalog", "export", "--db", str(tmp_path / "none.db"), "--out", str(tmp_path / "x.npz"))
    assert r.returncode == 2 and "file not found" in r.stderr
