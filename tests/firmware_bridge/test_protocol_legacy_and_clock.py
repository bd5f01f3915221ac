"""Legacy text decoding with rate estimation, and device->host clock mapping with drift."""

from __future__ import annotations

import random

import pytest
from cardiotune.firmware_bridge import protocol as p


def _stream(fs, seconds, seed=0, lead_off=()):
    """(bytes read, host time of the read) as a USB-serial driver would deliver them."""
    rnd = random.Random(seed)
    lines = [
        b"!\r\n" if any(a <= k < b for a, b in lead_off) else b"%d\r\n" % (500 + k % 300)
        for k in range(int(fs * seconds))
    ]
    reads, k, t = [], 0, 0.0
    while k < len(lines):
        t += rnd.uniform(0.002, 0.02)
        n_avail = int(t * fs) - k  # samples taken by time t
        if n_avail <= 0:
            continue
        data = b"".join(lines[k : k + n_avail])
        cut = rnd.randrange(len(data) + 1)  # reads split lines anywhere
        reads += [(data[:cut], t), (data[cut:], t + 0.0005)]
        k += n_avail
    return reads


def test_legacy_rate_estimation_and_values():
    dec = p.LegacyTextDecoder(fs_hint=100.0)
    chunks = []
    for data, t in _stream(250.0, 12.0, lead_off=[(1000, 1010)]):
        chunks += dec.feed(data, t)
    assert dec.fs == pytest.approx(250.0, rel=0.005)
    values = [v for c in chunks for v in c.values]
    assert len(values) == 3000 and values.count(None) == 10
    assert values[:3] == [500, 501, 502]
    idx = 0
    for c in chunks:
        assert c.first_index == idx
        idx += len(c.values)
    # sample times: never after arrival, and within a read period of the truth
    last = chunks[-1]
    t_true = (last.first_index + len(last.values)) / 250.0
    assert abs(last.t_first + (len(last.values)) / last.fs - t_true) < 0.03


def test_legacy_garbage_and_overlong_lines_are_counted():
    dec = p.LegacyTextDecoder()
    out = dec.feed(b"12\nabc\n" + b"9" * 100 + b"\n13\r\n", 1.0)
    assert [v for c in out for v in c.values] == [12, 13]
    assert dec.stats.bad_lines == 2
    with pytest.raises(ValueError, match="fs_hint"):
        p.LegacyTextDecoder(fs_hint=0)


@pytest.mark.parametrize("ppm", [-200.0, 0.0, 150.0])
def test_clock_mapper_tracks_offset_and_drift(ppm):
    rnd = random.Random(1)
    m = p.ClockMapper()
    offset = 1234.5
    errs = []
    for k in range(25 * 120):  # 2 minutes of 25 frames/s
        t_dev = k * 0.04
        t_true_host = offset + t_dev * (1 + ppm * 1e-6)
        latency = 0.0005 + rnd.expovariate(1 / 0.003)  # USB + scheduler, never negative
        m.observe(t_dev, t_true_host + latency)
        if k > 25 * 20:
            errs.append(m.to_host(t_dev) - t_true_host)
    assert m.drift_ppm == pytest.approx(ppm, abs=20)
    assert max(abs(e) for e in errs) < 0.002  # within 2 ms of the true sampling time
    with pytest.raises(ValueError, match="observe"):
        p.ClockMapper().to_host(0.0)


@pytest.mark.parametrize("ppm", [-300.0, 300.0])
def test_clock_mapper_never_maps_a_frame_after_its_arrival(ppm):
    """After observing a frame, its mapped time is never later than its arrival: also when
    the latency drops mid-block (a backlog drained, a quieter USB) and under drift."""
    rnd = random.Random(2)
    m = p.ClockMapper()
    for k in range(25 * 60):
        t_dev = k * 0.04
        # 20 s of a congested link (5-15 ms), then a quiet one (0.3-1 ms)
        latency = rnd.uniform(0.005, 0.015) if k < 25 * 20 else rnd.uniform(0.0003, 0.001)
        t_host = 50.0 + t_dev * (1 + ppm * 1e-6) + latency
        m.observe(t_dev, t_host)
        assert m.to_host(t_dev) <= t_host + 1e-9, k


def test_clock_mapper_is_not_fooled_by_a_backlog_read_all_at_once():
    """12 s of frames buffered while nobody read, then read in one go: their offsets fall with
    device time at a slope of -1. That is not drift; the fit must stay near 0 ppm and map the
    backlog to when it was sampled, not all to the moment of the read."""
    m = p.ClockMapper()
    offset, read_at = 500.0, 500.0 + 12.0 + 0.001
    for k in range(300):  # one frame every 40 ms, all arriving with the same read
        m.observe(k * 0.04, read_at)
    for k in range(300, 300 + 25 * 30):  # then 30 s of prompt frames
        m.observe(k * 0.04, offset + k * 0.04 + 0.001)
    assert abs(m.drift_ppm) < 100
    assert m.to_host(0.0) == pytest.approx(offset, abs=0.005)
    assert m.to_host(40.0) == pytest.approx(offset + 40.0, abs=0.005)
