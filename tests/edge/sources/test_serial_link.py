"""BinaryLink (pure logic): chunk timing when one read brings a backlog of frames."""

from __future__ import annotations

from cardiotune.edge.sources.base import EcgChunk
from cardiotune.edge.sources.serial_link import BinaryLink
from cardiotune.firmware_bridge import protocol as p

FS, N = 250.0, 10  # 10 samples per frame: one frame every 40 ms


def _wire(k):
    return p.encode(p.DataFrame(1, k, k * N, k * 40_000, 250_000, tuple(range(N))))


def test_a_backlog_read_never_times_samples_after_their_arrival():
    link = BinaryLink(scale_uv=1.0, offset=0)
    host0 = 100.0
    chunks = []
    # frame 0 arrives 30 ms late, then frames 1-5 arrive together in one read, 1 ms after
    # frame 5 was complete: the lower latency of the later frames moves the clock fit
    chunks += link.push(_wire(0), host0 + 0.036 + 0.030)
    chunks += link.push(b"".join(_wire(k) for k in range(1, 6)), host0 + 5 * 0.04 + 0.036 + 0.001)
    chunks = [c for c in chunks if isinstance(c, EcgChunk)]
    assert sum(len(c.samples) for c in chunks) == 6 * N
    assert [c.first_index for c in chunks] == sorted(c.first_index for c in chunks)
    for c in chunks:
        assert c.t_first + (len(c.samples) - 1) / c.fs <= c.received + 1e-9, c
    assert link.counters.gaps == 0 and link.counters.samples == 6 * N
