"""End to end through the CLI, each part a real process: ``cardiotune firmware simulate``
on a pty -> ``cardiotune bridge serial-to-lsl`` -> the LSL source in this process."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid

import numpy as np
import pytest

pytest.importorskip("serial", reason="the serial extra (pyserial) is not installed")
try:
    import pylsl  # noqa: F401
except ImportError:
    pytest.skip("the lsl extra (pylsl) is not installed", allow_module_level=True)
except RuntimeError as exc:
    pytest.skip(f"pylsl is installed but liblsl is not loadable: {exc}", allow_module_level=True)

from cardiotune.edge.sources.base import EcgChunk  # noqa: E402
from cardiotune.edge.sources.lsl import LslSource  # noqa: E402
from cardiotune.firmware_bridge.device_model import DeviceModel, SimConfig  # noqa: E402

from cardiotune.cli import main  # noqa: E402

CLI = [sys.executable, "-m", "cardiotune"]


def test_simulate_prints_port_and_bridge_publishes_lsl_with_metadata(tmp_path):
    link = str(tmp_path / "ttyECG")
    sid = f"cardiotune-test-{uuid.uuid4()}"
    sim = subprocess.Popen(
        CLI
        + [
            "firmware",
            "simulate",
            "--link",
            link,
            "--seed",
            "4",
            "--serial",
            "E2E-1",
            "--duration",
            "30",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    bridge = None
    try:
        port = sim.stdout.readline().split(": ", 1)[1].strip()
        assert port.startswith("/dev/pts/")
        assert sim.stdout.readline().strip() == f"link: {link}"
        bridge = subprocess.Popen(
            CLI + ["bridge", "serial-to-lsl", link, "--source-id", sid, "--duration", "30"],
            stdout=subprocess.PIPE,
            text=True,
        )
        line = bridge.stdout.readline()
        assert f"source_id={sid!r}" in line and "E2E-1" in line

        async def read():
            async with LslSource(source_id=sid, type="ECG", stall_s=2.0) as src:
                out = []
                async for it in src:
                    if isinstance(it, EcgChunk):
                        out.append(it)
                    if sum(len(c.samples) for c in out) >= 500:
                        return out, src.info

        chunks, info = asyncio.run(asyncio.wait_for(read(), 30))
    finally:
        for p in (bridge, sim):
            if p is not None:
                p.kill()
                p.wait()
                p.stdout.close()
    ch = info.desc().child("channels").child("channel")
    assert ch.child_value("unit") == "millivolts" and ch.child_value("label") == "ECG"
    acq = info.desc().child("acquisition")
    assert acq.child_value("serial_number") == "E2E-1" and acq.child_value("firmware") == "1.0.0"
    assert info.nominal_srate() == 250.0 and info.type() == "ECG"
    # the values that crossed pty + bridge + LSL are the simulated board's millivolts
    cfg = SimConfig(seed=4, ecg_loop_s=60.0)
    counts = DeviceModel(cfg)._counts
    mv = ((counts - cfg.offset) * cfg.scale_uv / 1000.0).astype(np.float32)
    got = np.concatenate([c.samples for c in chunks])
    start = [k for k in range(len(mv) - 50) if np.array_equal(mv[k : k + 50], got[:50])]
    assert len(start) == 1
    np.testing.assert_array_equal(got, mv[start[0] : start[0] + len(got)])
    assert all(c.received - c.t_first < 1.0 for c in chunks)  # LSL stamps are on this clock


def test_simulate_rejects_bad_arguments(capsys):
    assert main(["firmware", "simulate", "--rate", "5", "--duration", "0"]) == 2
    assert "rate_hz" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["firmware", "simulate", "--lead-off", "x"])
