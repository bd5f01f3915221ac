"""The reference firmware's board-independent logic (ecg_device.c + ctp.c) compiled with the
host gcc and driven like the ISR and main loop would; its output read by the Python codec.
Plus: the whole firmware (with the ATmega328P hardware layer) builds with avr-gcc."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from cardiotune.firmware_bridge import protocol as p

ROOT = Path(__file__).resolve().parents[2]
FW = ROOT / "firmware_bridge" / "firmware" / "ad8232_ecg"
SRC = FW / "src"


@pytest.fixture(scope="module")
def device(tmp_path_factory):
    cc = shutil.which("gcc") or shutil.which("cc")
    if cc is None:
        pytest.skip("no C compiler (gcc/cc) on PATH")
    exe = tmp_path_factory.mktemp("fw") / "device"
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
            str(Path(__file__).with_name("c") / "device_harness.c"),
            str(SRC / "ecg_device.c"),
            str(SRC / "ctp.c"),
            "-o",
            str(exe),
        ],
        check=True,
    )

    def run(lines):
        res = subprocess.run(
            [str(exe)], input="\n".join(lines) + "\n", capture_output=True, text=True, check=True
        )
        out = res.stdout.split("\n")[:-1]
        frames = [p.Decoder().feed(bytes.fromhex(x))[0] for x in out[:-1] if x != "-"]
        return frames, int(out[-1].split()[1])

    return run


def test_info_then_frames_with_lead_off_saturation_and_sync(device):
    cmds = ["P", "START"]
    for k in range(25):
        lo = p.Status.LEAD_OFF_POS if 12 <= k <= 14 else 0
        raw = 1023 if k == 18 else 300 + k
        cmds += [f"S {raw} {lo}", "P"]
    frames, overruns = device(cmds)
    info, d1, d2 = frames
    assert isinstance(info, p.InfoFrame) and info.model == "AD8232-Uno" and info.adc_bits == 10
    assert info.channels[0].offset == 338 and info.channels[0].scale_uv == pytest.approx(
        4.43892, rel=1e-5
    )
    assert d1.flags & p.Flags.SYNC and not d2.flags & p.Flags.SYNC
    assert (d1.sample_index, d2.sample_index, d1.seq, d2.seq) == (0, 10, 0, 1)
    assert d1.samples == tuple(range(300, 310)) and d1.status == 0
    assert d2.status == p.Status.LEAD_OFF_POS | p.Status.SATURATED
    assert (d1.t_us, d2.t_us, d2.rate_mhz) == (0, 40000, 250000)
    assert overruns == 0


def test_overrun_gives_an_exact_index_jump(device):
    # the main loop stalls for 80 samples: the 64-slot ring keeps 63, the ISR counts the rest
    cmds = ["START"] + [f"S {k % 1000} 0" for k in range(80)] + ["P"] * 10
    cmds += [f"S {k % 1000} 0" for k in range(80, 100)] + ["P"] * 5
    frames, overruns = device(cmds)
    data = [f for f in frames if isinstance(f, p.DataFrame)]
    assert overruns == 80 - 63
    got = {f.sample_index + i: v for f in data for i, v in enumerate(f.samples)}
    assert all(got[k] == k % 1000 for k in got)  # every delivered sample sits at its true index
    assert sorted(got) == list(range(63)) + list(range(80, 100))
    assert data[6].n == 3 and data[6].sample_index == 60  # a short frame ends at the jump


def test_control_frames_are_answered(device):
    ping = p.encode(p.ControlFrame(p.Command.PING, 0xC0FFEE, seq=7)).hex()
    bad_rate = p.encode(p.ControlFrame(p.Command.SET_RATE, 333333, seq=8)).hex()
    rate = p.encode(p.ControlFrame(p.Command.SET_RATE, 500000, seq=9)).hex()
    frames, _ = device(
        ["P", f"R {ping}", "P", f"R {bad_rate}", "P", f"R {rate}", "P", "P", "R 00ff13370000", "P"]
    )
    acks = [f for f in frames if isinstance(f, p.AckFrame)]
    assert [(a.command, a.command_seq, a.result, a.value) for a in acks] == [
        (p.Command.PING, 7, p.AckResult.OK, 0xC0FFEE),
        (p.Command.SET_RATE, 8, p.AckResult.BAD_ARGUMENT, 250000),
        (p.Command.SET_RATE, 9, p.AckResult.OK, 500000),
    ]
    assert isinstance(frames[-1], p.InfoFrame) and frames[-1].rate_mhz == 500000
    assert [a.seq for a in acks] == [1, 2, 3]  # stream 0 counter shared with INFO


def test_firmware_builds_for_atmega328p(tmp_path):
    if shutil.which("avr-gcc") is None:
        pytest.skip(
            "avr-gcc not installed (Debian: apt-get install gcc-avr avr-libc): "
            "the ATmega328P build of the firmware is not checked here"
        )
    subprocess.run(
        ["make", "-s", "-C", str(FW / "baremetal"), f"OUT={tmp_path}"],
        check=True,
        capture_output=True,
    )
    size = (
        subprocess.run(
            ["avr-size", str(tmp_path / "ad8232_ecg.elf")],
            capture_output=True,
            text=True,
            check=True,
        )
        .stdout.split("\n")[1]
        .split()
    )
    text, data, bss = (int(x) for x in size[:3])
    assert text + data < 32 * 1024 - 512  # flash, leaving the Optiboot bootloader its 512 B
    assert data + bss < 2048 - 512  # RAM, leaving at least 512 B for the stack
    # each translation unit the sketch uses compiles on its own for the target
    for src in ("ctp.c", "ecg_device.c", "ad8232_avr.c"):
        subprocess.run(
            [
                "avr-gcc",
                "-mmcu=atmega328p",
                "-DF_CPU=16000000UL",
                "-Os",
                "-std=c99",
                "-Wall",
                "-Wextra",
                "-Werror",
                "-c",
                str(SRC / src),
                "-o",
                str(tmp_path / (src + ".o")),
            ],
            check=True,
        )
