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


def test_a_burst_of_frames_in_one_read_is_one_chunk_timed_on_the_final_clock_fit():
    """A backlog lowers the clock fit with every frame; timing each frame on the fit of its
    moment used to cut the read into one chunk per frame (20,000 chunks for a 20,000-frame burst)."""
    link = BinaryLink(scale_uv=1.0, offset=0)
    k_total = 300
    arrival = 100.0 + k_total * 0.04 + 0.002  # all of them read at once, 2 ms after the last was complete
    out = link.push(b"".join(_wire(k) for k in range(k_total)), arrival)
    chunks = [c for c in out if isinstance(c, EcgChunk)]
    assert len(chunks) == 1 and len(chunks[0].samples) == k_total * N
    c = chunks[0]
    assert c.t_first + (len(c.samples) - 1) / c.fs <= arrival + 1e-9  # never timed after its arrival
    # the next read continues the same timeline: no gap, contiguous indices, time moving forward
    nxt = [c2 for c2 in link.push(_wire(k_total), arrival + 0.04) if isinstance(c2, EcgChunk)]
    assert nxt[0].first_index == k_total * N and link.counters.gaps == 0
    assert nxt[0].t_first >= c.t_first + (len(c.samples) - 1) / c.fs


def test_a_device_restart_inside_one_read_keeps_each_side_on_its_own_clock():
    link = BinaryLink(scale_uv=1.0, offset=0)
    before = b"".join(_wire(k) for k in range(5))
    # the device rebooted: SYNC, index and clock from zero again, within the same read
    restarted = p.encode(p.DataFrame(1, 0, 0, 0, 250_000, tuple(range(N)), flags=p.Flags.SYNC))
    out = link.push(before + restarted, 100.0 + 5 * 0.04 + 0.5)
    chunks = [c for c in out if isinstance(c, EcgChunk)]
    gaps = [g for g in out if not isinstance(g, EcgChunk)]
    assert [len(c.samples) for c in chunks] == [5 * N, N] and len(gaps) == 1
    assert link.counters.device_restarts == 1
    for c in chunks:
        assert c.t_first + (len(c.samples) - 1) / c.fs <= c.received + 1e-9
    assert gaps[0].t_start == chunks[0].t_first + 5 * N / FS  # the gap starts where the old clock ended
