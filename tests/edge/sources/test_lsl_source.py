"""The LSL source against real outlets in subprocesses on loopback (LSLAPICFG keeps
discovery on this machine, see conftest.py)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid

import numpy as np
import pytest

try:
    import pylsl  # noqa: F401
except ImportError:
    pytest.skip("the lsl extra (pylsl) is not installed", allow_module_level=True)
except RuntimeError as exc:  # pylsl < 1.17 without a liblsl binary (see conftest.py)
    pytest.skip(f"pylsl is installed but liblsl is not loadable: {exc}", allow_module_level=True)

from cardiotune.edge.sources.base import EcgChunk, Gap, RrChunk  # noqa: E402
from cardiotune.edge.sources.lsl import LslSource, build_predicate  # noqa: E402
from serial_helpers import Collector  # noqa: E402

OUTLET = os.path.join(os.path.dirname(__file__), "lsl_outlet.py")


def _outlet(source_id, kind="ecg"):
    p = subprocess.Popen(
        [sys.executable, OUTLET, source_id, kind], stdout=subprocess.PIPE, text=True
    )
    assert p.stdout.readline().strip() == "ready"
    return p


def _kill(p):
    p.kill()
    p.wait()
    p.stdout.close()


def test_predicate():
    assert build_predicate(type="ECG") == "(type='ECG')"
    assert (
        build_predicate("x", "rr", "id")
        == "name='x' and (type='RR' or type='IBI') and source_id='id'"
    )
    with pytest.raises(ValueError, match="no selector"):
        build_predicate(None, None, None)


def test_outlet_restart_same_source_id_resumes_with_recorded_gap():
    sid = f"cardiotune-test-{uuid.uuid4()}"

    async def main():
        p = _outlet(sid)
        try:
            async with LslSource(type="ECG", source_id=sid, stall_s=0.3) as src, Collector(
                src
            ) as col:
                await col.wait_for(
                    lambda: sum(len(c.samples) for c in col.chunks()) > 250,
                    timeout=15,
                    what="1 s of LSL data",
                )
                _kill(p)
                t_kill = time.monotonic()
                await asyncio.sleep(0.8)
                p = _outlet(sid)
                t_back = time.monotonic()
                await col.wait_for(
                    lambda: col.gaps() and col.items[-1][0] > t_back + 0.5,
                    timeout=15,
                    what="data after the outlet restarted",
                )
                return [it for _, it in col.items], src, t_kill, t_back
        finally:
            _kill(p)

    items, src, t_kill, t_back = asyncio.run(main())
    gaps = [it for it in items if isinstance(it, Gap)]
    assert len(gaps) == 1 and gaps[0].reason == "outlet lost"
    g = gaps[0]
    # the gap spans the outage: starts before the kill, ends after the new outlet's start
    assert g.t_start <= t_kill + 0.05 and g.t_end >= t_back - 0.3
    assert g.n_missing == pytest.approx((g.t_end - g.t_start) * 250, abs=2)
    assert src.status.connects == 2 and src.status.losses == 1
    chunks = [it for it in items if isinstance(it, EcgChunk)]
    # microvolts converted to millivolts; the sample-index channel proves no loss within a run
    before = np.concatenate([c.samples for c in chunks if c.t_first < g.t_start])
    after = np.concatenate([c.samples for c in chunks if c.t_first >= g.t_end])
    for run in (before, after):
        np.testing.assert_allclose(np.diff(run), 1e-3, atol=1e-6)
    # after a reconnect the samples the new outlet sent meanwhile are kept: the first of
    # them sits right at the gap's end, from the restarted outlet's own start (index < 2 s)
    first_after = next(c for c in chunks if c.t_first >= g.t_end)
    assert first_after.t_first == g.t_end and first_after.samples[0] < 0.5
    idx = chunks[0].first_index
    for it in items:
        if isinstance(it, EcgChunk):
            assert it.first_index == idx
            idx += len(it.samples)
        else:
            idx += it.n_missing
    print(
        f"\nLSL outage {t_back - t_kill:.2f} s recorded as gap {g.t_end - g.t_start:.2f} s "
        f"({g.n_missing} samples)"
    )


def test_backlog_is_flushed_and_rr_stream_in_seconds():
    sid = f"cardiotune-test-{uuid.uuid4()}"

    async def main():
        p = _outlet(sid, "rr")
        try:
            await asyncio.sleep(1.0)  # the outlet builds up history the inlet must not replay
            t_open = time.monotonic()
            async with LslSource(type="RR", source_id=sid, stall_s=2.0) as src, Collector(
                src
            ) as col:
                await col.wait_for(lambda: len(col.items) >= 3, timeout=15, what="RR data")
                return [it for _, it in col.items], t_open
        finally:
            _kill(p)

    items, t_open = asyncio.run(main())
    rr = [it for it in items if isinstance(it, RrChunk)]
    assert rr and all(0.79 <= v <= 0.81 for c in rr for v in c.rr_s)
    assert all(c.t_beats[0] >= t_open - 0.2 for c in rr)
