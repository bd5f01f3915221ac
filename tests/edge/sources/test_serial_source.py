"""The serial source against the simulator on real ptys: unplug/replug, stalls, damaged
bytes, legacy text. Timings are recorded (see bench/serial_reliability.py for figures);
the assertions are about behaviour, with generous timeouts only to fail instead of hang."""

from __future__ import annotations

import asyncio
import os
import time

import pytest

pytest.importorskip("serial", reason="the serial extra (pyserial) is not installed")

from cardiotune.edge.sources.serial import SerialSource  # noqa: E402
from cardiotune.firmware_bridge.simulator import LinkFaults, PtySimulator, SimConfig  # noqa: E402
from serial_helpers import Collector, assert_contiguous_and_exact  # noqa: E402

CFG = dict(ecg_loop_s=8.0, seed=3)


def _open_fds():
    return len(os.listdir("/proc/self/fd"))


async def _unplug_cycles(link, cycles, down_s=0.05):
    sim_cfg = SimConfig(**CFG)
    detect, resume = [], []
    async with PtySimulator(sim_cfg, link=link) as sim:
        async with SerialSource(link) as src, Collector(src) as col:
            for _ in range(cycles):
                t_data = time.monotonic()
                await col.wait_for(
                    lambda t_data=t_data: any(t > t_data for t, _ in col.items[-3:]), what="data"
                )
                n_disc = src.status.disconnects
                t0 = time.monotonic()
                sim.unplug()
                while src.status.disconnects == n_disc:
                    await asyncio.sleep(0.001)
                    assert time.monotonic() - t0 < 5, "unplug not noticed"
                detect.append(time.monotonic() - t0)
                assert src.status_log[-1][1] == "disconnected"
                # noticed by the failing read, not by the silence watchdog
                assert src.status.last_disconnect in ("end of file", "read error: EIO")
                await asyncio.sleep(down_s)
                t1 = time.monotonic()
                sim.replug()
                n_items = len(col.items)
                await col.wait_for(
                    lambda t1=t1, n_items=n_items: (
                        len(col.items) > n_items and col.items[-1][0] > t1 and col.chunks()
                    ),
                    what="data after replug",
                )
                resume.append(col.items[-1][0] - t1)
            items = [it for _, it in col.items]
    return detect, resume, items, src, sim_cfg


def test_unplug_replug_50_times_no_leaks(tmp_path, record_property):
    fds = _open_fds()

    async def main():
        tasks = len(asyncio.all_tasks())
        out = await _unplug_cycles(str(tmp_path / "ttyECG"), 50)
        assert len(asyncio.all_tasks()) == tasks
        return out

    detect, resume, items, src, cfg = asyncio.run(main())
    assert _open_fds() == fds
    gaps = [it for it in items if not hasattr(it, "samples")]
    assert len(gaps) == 50 and all(g.reason == "disconnected" for g in gaps)
    assert all(g.n_missing > 0 and g.t_end > g.t_start for g in gaps)
    assert src.status.connects == 51 and src.status.disconnects == 50
    from cardiotune.firmware_bridge.device_model import DeviceModel

    counts = DeviceModel(SimConfig(**CFG))._counts
    assert_contiguous_and_exact(items, counts, cfg.scale_uv, cfg.offset)
    record_property("unplug_detect_max_s", max(detect))
    record_property("replug_resume_max_s", max(resume))
    print(
        f"\nunplug->disconnected max {max(detect) * 1e3:.1f} ms; "
        f"replug->data max {max(resume) * 1e3:.1f} ms over 50 cycles"
    )


def test_stall_is_reported_and_recovers(tmp_path):
    async def main():
        async with PtySimulator(SimConfig(**CFG), link=str(tmp_path / "tty")) as sim:
            async with SerialSource(sim.path) as src, Collector(src) as col:
                await col.wait_for(lambda: len(col.chunks()) > 3, what="data")
                sim.model.streaming = False  # firmware hangs: no bytes, port still there
                await col.wait_for(lambda: src.status.stalls > 0, what="stall")
                # the source asked the board to START again; it restarts with SYNC
                await col.wait_for(lambda: col.gaps(), what="gap after restart")
                await col.wait_for(lambda: src.status.state == "streaming", what="streaming")
                return col.gaps(), src

    gaps, src = asyncio.run(main())
    assert src.status.stalls == 1 and src.status.disconnects == 0
    assert gaps[0].reason == "device restarted" and gaps[0].n_missing > 0


def test_damaged_bytes_become_exact_gaps(tmp_path):
    async def main():
        faults = LinkFaults(drop_byte_rate=2e-4, corrupt_byte_rate=5e-4)
        cfg = SimConfig(**CFG)
        async with PtySimulator(cfg, link=str(tmp_path / "tty"), faults=faults) as sim:
            async with SerialSource(sim.path) as src, Collector(src) as col:
                await col.wait_for(
                    lambda: sum(len(c.samples) for c in col.chunks()) > 1500,
                    timeout=20,
                    what="6 s of data",
                )
                return [it for _, it in col.items], src, sim

    items, src, sim = asyncio.run(main())
    gaps = [it for it in items if not hasattr(it, "samples")]
    assert sim.stats.bytes_lost + sim.stats.bytes_corrupted > 0
    assert gaps and all(g.reason == "frames lost on the link" for g in gaps)
    st = src.link.decoder.stats
    # every lost DATA frame (stream 1) is exactly 10 missing samples
    assert st.rejected > 0 and src.link.decoder.tracker(1).lost * 10 == sum(
        g.n_missing for g in gaps
    )
    cfg = SimConfig(**CFG)
    assert_contiguous_and_exact(items, sim.model._counts, cfg.scale_uv, cfg.offset)


def test_lead_off_episode_and_clock_drift(tmp_path):
    async def main():
        cfg = SimConfig(lead_off=[(0.6, 0.4)], clock_ppm=300.0, **CFG)
        async with PtySimulator(cfg, link=str(tmp_path / "tty")) as sim:
            async with SerialSource(sim.path) as src, Collector(src) as col:
                await col.wait_for(
                    lambda: sum(len(c.samples) for c in col.chunks()) > 400, what="1.6 s of data"
                )
                return col.chunks(), src

    chunks, src = asyncio.run(main())
    off = [c for c in chunks if c.lead_off]
    assert off and sum(len(c.samples) for c in off) == 100  # 0.4 s at 250 Hz, frame-aligned
    for c in chunks:  # mapped sample times never lie after the chunk arrived
        assert c.t_first + (len(c.samples) - 1) / c.fs <= c.received + 1e-3


def test_legacy_text_board(tmp_path):
    async def main():
        cfg = SimConfig(text=True, lead_off=[(0.4, 0.2)], **CFG)
        async with PtySimulator(cfg, link=str(tmp_path / "tty")) as sim:
            async with SerialSource(sim.path, protocol="text") as src, Collector(src) as col:
                await col.wait_for(
                    lambda: sum(len(c.samples) for c in col.chunks()) > 300, what="text data"
                )
                return col.chunks(), sim

    chunks, sim = asyncio.run(main())
    assert any(c.lead_off for c in chunks) and any(not c.lead_off for c in chunks)
    idx = 0
    for c in chunks:
        assert c.first_index == idx
        idx += len(c.samples)


def test_port_that_never_appears_keeps_retrying_and_closes_cleanly(tmp_path):
    async def main():
        async with SerialSource(str(tmp_path / "missing"), backoff_s=(0.01, 0.05)) as src:
            await asyncio.sleep(0.3)
            return src.status

    status = asyncio.run(main())
    assert status.state == "closed" and status.connects == 0


def test_bad_protocol_name():
    with pytest.raises(ValueError, match="'binary' or 'text'"):
        SerialSource("/dev/null", protocol="json")


def test_a_bug_in_the_reader_surfaces_in_the_consumer(tmp_path):
    async def main():
        async with PtySimulator(SimConfig(**CFG), link=str(tmp_path / "tty")) as sim:
            async with SerialSource(sim.path) as src:

                def broken(data, t):
                    raise RuntimeError("parser bug")

                src.link.push = broken
                async for _ in src:
                    pass

    with pytest.raises(RuntimeError, match="parser bug"):
        asyncio.run(asyncio.wait_for(main(), 10))
