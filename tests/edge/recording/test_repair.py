"""`cardiotune recording repair`: a real session recording truncated at many byte offsets
is recovered by the repair into a file pyxdf opens, losing at most the cut chunk."""
import asyncio
import json
import subprocess
import sys

import numpy as np
import pytest
from cardiotune.edge.recording.repair import XdfRepairError, repair_bytes, repair_file

pyxdf = pytest.importorskip("pyxdf", reason="pyxdf is in the dev extra")


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    """90 s of the real demo session through the real runtime, recorded with a 1 s flush clock."""
    from cardiotune.edge.estimator import OnnxVaEstimator
    from cardiotune.edge.music.catalog import load_demo_catalog
    from cardiotune.edge.pipeline import Pipeline
    from cardiotune.edge.recording.recorder import SessionRecorder
    from cardiotune.edge.runtime import run_chain
    from cardiotune.edge.session import load_session
    from cardiotune.edge.sources.replay import ReplaySource

    sess = load_session("builtin:demo")
    path = tmp_path_factory.mktemp("rec") / "session.xdf"
    # small flush interval so the file has many chunks (as a long 1x recording would)
    with SessionRecorder(path, "dev", sess.fs, flush_interval_s=0.0) as rec:
        asyncio.run(run_chain(ReplaySource(sess, speed=None, duration_s=90, chunk_s=1.0), Pipeline(
            sess.fs, OnnxVaEstimator(), list(load_demo_catalog())), None, "dev", recorder=rec))
    return path, sess


def _load(path):
    streams, _ = pyxdf.load_xdf(str(path), synchronize_clocks=False, dejitter_timestamps=False)
    return {s["info"]["name"][0]: s for s in streams}


def _ecg_chunk_ends(data):
    """(end offset, ECG samples so far) per chunk: an independent walk of the chunk lengths."""
    pos, total, out = 4, 0, []
    while pos < len(data):
        nb = data[pos]
        length = int.from_bytes(data[pos + 1:pos + 1 + nb], "little")
        body = pos + 1 + nb
        tag = int.from_bytes(data[body:body + 2], "little")
        if tag == 3 and int.from_bytes(data[body + 2:body + 6], "little") == 1:  # Samples of stream 1 (ECG)
            nb2 = data[body + 6]
            total += int.from_bytes(data[body + 7:body + 7 + nb2], "little")
        pos = body + length
        out.append((pos, total))
    return out


def test_truncated_at_many_offsets_repairs_to_a_loadable_file_with_bounded_loss(recording, tmp_path):
    path, sess = recording
    data = path.read_bytes()
    full = _load(path)["cardiotune ECG"]["time_series"][:, 0]
    ends = _ecg_chunk_ends(data)
    rng = np.random.default_rng(0)
    offsets = sorted(set(rng.integers(300, len(data), size=40).tolist()) | {len(data) - 1, len(data) // 2})
    for off in offsets:
        cut = tmp_path / "cut.xdf"
        cut.write_bytes(data[:off])
        fixed_path, report = repair_file(cut)
        ecg = _load(fixed_path)["cardiotune ECG"]  # must not raise
        got = len(ecg["time_stamps"])
        expected = max([n for end, n in ends if end <= off] or [0])
        assert got == expected, (off, got, expected)  # every whole chunk before the cut, nothing else
        if got:  # (older pyxdf gives an empty stream shape (0, 0))
            assert np.array_equal(ecg["time_series"][:, 0], full[:got])
        last_end = max([end for end, _ in ends if end <= off] or [4])
        assert report.kept_bytes == last_end, (off, report.notes)  # only the cut chunk is lost
        assert ecg["footer"]["info"]["sample_count"][0] == str(got)


def test_zero_filled_tail_and_damaged_middle(recording, tmp_path):
    path, _ = recording
    data = bytearray(path.read_bytes())
    full_n = len(_load(path)["cardiotune ECG"]["time_stamps"])
    # power loss on ext4: the file size grew but the last blocks are zeros
    fixed, report = repair_bytes(bytes(data) + b"\0" * 8192)
    assert report.dropped_bytes == 8192
    # scribble over 200 bytes in the middle: the damaged chunk(s) go, the rest is recovered after a boundary
    mid = len(data) // 2
    data[mid:mid + 200] = b"\xff" * 200
    out = tmp_path / "damaged.xdf"
    out.write_bytes(bytes(data))
    fixed_path, report = repair_file(out)
    n = len(_load(fixed_path)["cardiotune ECG"]["time_stamps"])
    assert report.chunks_dropped >= 1 and any("resynchronised" in x for x in report.notes)
    assert full_n - 3 * 250 <= n < full_n


def test_not_xdf_is_a_clear_error(tmp_path):
    with pytest.raises(XdfRepairError, match="not an XDF file"):
        repair_bytes(b"RIFF....")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        repair_file(tmp_path / "missing.xdf")


def test_cli_repair(recording, tmp_path):
    path, _ = recording
    cut = tmp_path / "cut.xdf"
    cut.write_bytes(path.read_bytes()[:-777])
    out = tmp_path / "fixed.xdf"
    res = subprocess.run([sys.executable, "-m", "cardiotune", "recording", "repair", str(cut), "-o", str(out)],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    report = json.loads(res.stdout)
    assert report["output"] == str(out) and report["dropped_bytes"] > 0
    assert "cardiotune ECG" in _load(out)
    bad = subprocess.run([sys.executable, "-m", "cardiotune", "recording", "repair", str(tmp_path / "nope.xdf")],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "does not exist" in bad.stderr
