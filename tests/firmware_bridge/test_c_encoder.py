"""The portable C codec (firmware_bridge/firmware/ad8232_ecg/src/ctp.c), compiled with the
host gcc, against the Python codec on the shared table of vectors, byte for byte."""

from __future__ import annotations

import random
import shutil
import subprocess
from pathlib import Path

import pytest
from cardiotune.firmware_bridge import protocol as p
from fb_vectors import c_line, load_vectors

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "firmware_bridge" / "firmware" / "ad8232_ecg" / "src"
HARNESS = Path(__file__).with_name("c") / "harness.c"


@pytest.fixture(scope="module")
def harness(tmp_path_factory):
    cc = shutil.which("gcc") or shutil.which("cc")
    if cc is None:
        pytest.skip("no C compiler (gcc/cc) on PATH: the C encoder cannot be checked here")
    exe = tmp_path_factory.mktemp("c") / "harness"
    subprocess.run(
        [
            cc,
            "-std=c99",
            "-O2",
            "-Wall",
            "-Wextra",
            "-Wconversion",
            "-Werror",
            f"-I{SRC}",
            str(HARNESS),
            str(SRC / "ctp.c"),
            "-o",
            str(exe),
        ],
        check=True,
    )
    return exe


def _run(exe, lines):
    res = subprocess.run(
        [str(exe)], input="\n".join(lines) + "\n", capture_output=True, text=True, check=True
    )
    return res.stdout.split("\n")[:-1]


def test_c_encoder_matches_vector_table(harness):
    vectors = load_vectors()
    out = _run(harness, [c_line(v["frame"]) for v in vectors])
    assert len(out) == len(vectors)
    for v, got in zip(vectors, out):
        assert got == v["wire"], v["name"]


def test_c_encoder_matches_python_on_random_frames(harness):
    rnd = random.Random(5)
    frames = []
    for seq in range(500):
        ch, fmt = rnd.randint(1, 3), rnd.choice([1, 2])
        n = rnd.randint(1, 228 // (ch * (fmt + 1)))
        lim = 1 << (15 if fmt == 1 else 23)
        # many zero and 0xFF bytes exercise the stuffing
        samples = [rnd.choice([0, -1, 1, 255, rnd.randrange(-lim, lim)]) for _ in range(ch * n)]
        frames.append(
            dict(
                type="data",
                stream=rnd.randrange(256),
                seq=seq * 131 % 65536,
                flags=rnd.randrange(2),
                status=rnd.randrange(32),
                fmt=fmt,
                channels=ch,
                samples=samples,
                rate_mhz=rnd.choice([250000, 0, 2**32 - 1]),
                sample_index=rnd.randrange(2**32),
                t_us=rnd.randrange(2**32),
            )
        )
    out = _run(harness, [c_line(f) for f in frames])
    from fb_vectors import frame_from_dict

    assert out == [p.encode(frame_from_dict(f)).hex() for f in frames]


def test_c_encoder_refuses_oversize_frames(harness):
    too_many = dict(
        type="data", stream=1, seq=0, rate_mhz=1, sample_index=0, t_us=0, samples=list(range(115))
    )
    assert _run(harness, [c_line(too_many)]) == ["ERROR"]


def test_c_decoder_agrees_with_python_decoder(harness):
    rnd = random.Random(9)
    wire = b"junk before the first delimiter"
    for seq in range(200):
        frame = p.ControlFrame(rnd.randint(1, 5), rnd.randrange(2**32), seq=seq)
        w = bytearray(p.encode(frame))
        if rnd.random() < 0.2:
            w[rnd.randrange(len(w))] ^= 1 << rnd.randrange(8)
        if rnd.random() < 0.05:
            w += bytes(rnd.randrange(1, 256) for _ in range(300))  # longer than a frame
        wire += bytes(w)
    out = _run(harness, ["X " + wire.hex()])
    bodies = [bytes.fromhex(line[2:]) for line in out if line.startswith("F ")]
    dec = p.Decoder()
    frames = [x for x in dec.feed(wire) if isinstance(x, p.ControlFrame)]
    assert [p.encode_body(f) for f in frames] == bodies
    stats = out[-1].split()
    assert int(stats[1]) == len(frames)
    # C counts the leading partial frame as an error; Python counts it as skipped_at_start
    assert int(stats[2]) + int(stats[3]) + int(stats[4]) == dec.stats.rejected + 1
