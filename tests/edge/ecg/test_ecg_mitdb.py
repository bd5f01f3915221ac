"""A few minutes of two real MIT-BIH records (full numbers: ``cardiotune eval rpeaks``)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from cardiotune.edge.ecg import EcgFrontEnd, detect_beats
from cardiotune.edge.ecg.scoring import match_beats

DATA = os.environ.get("CARDIOTUNE_DATA")
MITDB = Path(DATA) / "ecg" / "mitdb" if DATA else None
pytestmark = pytest.mark.skipif(
    MITDB is None or not (MITDB / "101.hea").exists(),
    reason="needs MIT-BIH records: set CARDIOTUNE_DATA to the shared data folder (ecg/mitdb)",
)
wfdb = pytest.importorskip("wfdb", reason="wfdb is in the dev extra")


def load(name, minutes=3.0):
    from cardiotune.commands.eval_rpeaks import load_record

    return load_record(MITDB, name, minutes)


@pytest.mark.parametrize("name", ["101", "119"])
def test_real_records_detected_at_the_apex(name):
    x, fs, ref, vf = load(name)
    det = detect_beats(x, fs)
    s = match_beats(ref / fs, det / fs, 0.15, vf)
    assert s.f1 >= 0.99, s.as_dict()
    assert s.timing_ms()["median_abs"] <= 10.0


def test_real_record_streams_like_batch():
    x, fs, _, _ = load("119", 2.0)
    fe = EcgFrontEnd(fs)
    chunk = int(0.04 * fs)
    stream = [b.sample for i in range(0, x.size, chunk) for b in fe.push(x[i : i + chunk]).beats]
    batch = detect_beats(x, fs)
    assert stream == batch[: len(stream)].tolist() and len(batch) - len(stream) <= 1


def test_eval_command_writes_json(tmp_path, capsys):
    from cardiotune.cli import main

    out = tmp_path / "r.json"
    rc = main(
        [
            "eval",
            "rpeaks",
            "--db",
            str(MITDB),
            "--records",
            "101",
            "--minutes",
            "1",
            "--snr",
            "12",
            "--hrv",
            "--json",
            str(out),
        ]
    )
    assert rc == 0
    r = json.loads(out.read_text())
    assert r["clean"]["gross"]["cardiotune"]["f1"] > 0.98
    assert set(r["noise"]) == {"12"} and r["clean"]["stream_equals_batch"] is True
    h = r["clean"]["hrv_windows"]
    assert h["windows"] >= 5 and h["valid"] + h["questionable"] + h["not_available"] == 1.0
    text = capsys.readouterr().out
    assert "gross:" in text and "CPU seconds per ECG-hour" in text and "added noise" in text
    assert "HRV windows" in text


def test_compare_without_the_bench_extra_names_it(monkeypatch, capsys):
    from cardiotune.cli import main

    monkeypatch.setitem(sys.modules, "neurokit2", None)  # import fails as if not installed
    rc = main(
        ["eval", "rpeaks", "--db", str(MITDB), "--records", "101", "--minutes", "0.5", "--compare"]
    )
    assert rc == 2
    assert "pip install 'cardiotune[bench]'" in capsys.readouterr().err


def test_missing_db_is_a_clear_error(tmp_path, capsys):
    from cardiotune.cli import main

    assert main(["eval", "rpeaks", "--db", str(tmp_path / "nope")]) == 2
    assert "not a directory" in capsys.readouterr().err
