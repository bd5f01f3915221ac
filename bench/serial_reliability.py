"""Link reliability figures, measured (the tests check behaviour; this prints the times).

    python bench/serial_reliability.py [--cycles 50] [--out bench/results/serial_reliability.json]

- unplug/replug of the simulator's pty, N times: time from unplug to the serial source
  reporting "disconnected", and from replug to the first EcgChunk; fds/tasks before/after.
- firmware hang (no bytes, port still open): time to "stalled" and to data again.
- LSL: outlet killed and restarted with the same source_id: time from the new outlet to
  data in the LSL source, and the recorded gap.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
from cardiotune.edge.sources.base import EcgChunk, Gap
from cardiotune.edge.sources.serial import SerialSource
from cardiotune.firmware_bridge.simulator import PtySimulator, SimConfig

if "LSLAPICFG" not in os.environ:  # keep LSL discovery on this machine
    _cfg = Path(tempfile.mkdtemp()) / "lsl_api.cfg"
    _cfg.write_text(
        "[ports]\nIPv6 = disable\n[multicast]\nResolveScope = machine\n"
        "[lab]\nKnownPeers = {127.0.0.1}\n"
    )
    os.environ["LSLAPICFG"] = str(_cfg)


async def _wait(pred, timeout=10.0):
    t0 = time.monotonic()
    while not pred():
        if time.monotonic() - t0 > timeout:
            raise TimeoutError("condition not reached")
        await asyncio.sleep(0.0005)
    return time.monotonic()


async def serial_figures(cycles: int) -> dict:
    fds0, tasks0 = len(os.listdir("/proc/self/fd")), len(asyncio.all_tasks())
    detect, resume = [], []
    items = []
    link = os.path.join(tempfile.mkdtemp(), "ttyECG")
    async with PtySimulator(SimConfig(ecg_loop_s=8.0), link=link) as sim:
        async with SerialSource(link) as src:

            async def consume():
                async for it in src:
                    items.append((time.monotonic(), it))

            task = asyncio.ensure_future(consume())
            await _wait(lambda: len(items) > 3)
            for _ in range(cycles):
                n = src.status.disconnects
                t0 = time.monotonic()
                sim.unplug()
                detect.append(await _wait(lambda n=n: src.status.disconnects > n) - t0)
                await asyncio.sleep(0.05)
                t1 = time.monotonic()
                sim.replug()
                k = len(items)
                t = await _wait(lambda k=k: any(isinstance(it, EcgChunk) for _, it in items[k:]))
                resume.append(t - t1)
                await asyncio.sleep(0.1)
            # firmware hang
            stalls = src.status.stalls
            t0 = time.monotonic()
            sim.model.streaming = False
            t_stall = await _wait(lambda: src.status.stalls > stalls) - t0
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass
    gaps = [it for _, it in items if isinstance(it, Gap)]
    return {
        "cycles": cycles,
        "unplug_to_disconnected_ms": _stats(detect),
        "replug_to_data_ms": _stats(resume),
        "hang_to_stalled_ms": t_stall * 1e3,
        "gaps": len(gaps),
        "fds_leaked": len(os.listdir("/proc/self/fd")) - fds0,
        "tasks_leaked": len(asyncio.all_tasks()) - tasks0,
    }


async def lsl_figures() -> dict:
    from cardiotune.edge.sources.lsl import LslSource

    outlet = Path(__file__).resolve().parents[1] / "tests" / "edge" / "sources" / "lsl_outlet.py"
    sid = f"bench-{uuid.uuid4()}"

    def start():
        p = subprocess.Popen([sys.executable, str(outlet), sid], stdout=subprocess.PIPE, text=True)
        p.stdout.readline()
        return p

    items = []
    p = start()
    try:
        async with LslSource(source_id=sid, stall_s=0.3) as src:

            async def consume():
                async for it in src:
                    items.append((time.monotonic(), it))

            task = asyncio.ensure_future(consume())
            await _wait(lambda: len(items) > 5, 15)
            p.kill()
            p.wait()
            t_kill = time.monotonic()
            await asyncio.sleep(0.5)
            p = start()
            t_back = time.monotonic()
            t_data = await _wait(lambda: any(isinstance(it, Gap) for _, it in items), 15)
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass
    finally:
        p.kill()
        p.wait()
    gap = next(it for _, it in items if isinstance(it, Gap))
    return {
        "outage_s": t_back - t_kill,
        "restart_to_data_s": t_data - t_back,
        "gap_s": gap.t_end - gap.t_start,
        "gap_samples": gap.n_missing,
        "gap_reason": gap.reason,
    }


def _stats(xs) -> dict:
    a = np.array(xs) * 1e3
    return {
        "median": float(np.median(a)),
        "p99": float(np.percentile(a, 99)),
        "max": float(a.max()),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cycles", type=int, default=50)
    ap.add_argument("--out", default="bench/results/serial_reliability.json")
    a = ap.parse_args()
    res = {"serial": asyncio.run(serial_figures(a.cycles))}
    s = res["serial"]
    print(
        f"unplug -> disconnected: median {s['unplug_to_disconnected_ms']['median']:.1f} ms, "
        f"max {s['unplug_to_disconnected_ms']['max']:.1f} ms over {a.cycles} cycles"
    )
    print(
        f"replug -> data:         median {s['replug_to_data_ms']['median']:.1f} ms, "
        f"max {s['replug_to_data_ms']['max']:.1f} ms"
    )
    print(
        f"firmware hang -> stalled: {s['hang_to_stalled_ms']:.1f} ms; gaps {s['gaps']}; "
        f"leaked fds {s['fds_leaked']}, tasks {s['tasks_leaked']}"
    )
    try:
        res["lsl"] = asyncio.run(lsl_figures())
        lsl = res["lsl"]
        print(
            f"LSL outlet restart: outage {lsl['outage_s']:.2f} s, new outlet -> data "
            f"{lsl['restart_to_data_s']:.2f} s, gap recorded {lsl['gap_s']:.2f} s "
            f"({lsl['gap_samples']} samples, {lsl['gap_reason']!r})"
        )
    except ImportError as exc:
        print(f"LSL figures skipped: {exc}")
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(res, indent=1))
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
