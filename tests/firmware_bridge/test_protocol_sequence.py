"""Sequence accounting across the 16-bit wrap: drops, duplicates and reorders exactly."""

from __future__ import annotations

import random

from cardiotune.firmware_bridge import protocol as p
from hypothesis import given, settings
from hypothesis import strategies as st


def _run(seqs, start_sync=False):
    tr = p.SequenceTracker(1)
    events, delivered = [], []
    for k, s in enumerate(seqs):
        if tr.push(s, start_sync and k == 0, events):
            delivered.append(s)
    return tr, events, delivered


def test_no_false_gaps_across_three_wraps():
    seqs = [i % 65536 for i in range(3 * 65536 + 1234)]
    tr, events, delivered = _run(seqs)
    assert events == [] and tr.lost == tr.gaps == 0 and len(delivered) == len(seqs)


def _inject(n, seed, start=65000):
    """Stream of n frames starting near the wrap with drops, duplicates, adjacent swaps."""
    rnd = random.Random(seed)
    out, i = [start % 65536, (start + 1) % 65536], 2  # a clean start: a drop must be seen
    drops = dups = swaps = 0
    while i < n:
        u = rnd.random()
        s = (start + i) % 65536
        if u < 0.02 and i + 1 < n:
            drops += 1
            i += 1
            out.append((start + i) % 65536)
        elif u < 0.04:
            dups += 1
            out += [s, s]
        elif u < 0.06 and i + 1 < n:
            swaps += 1
            out += [(s + 1) % 65536, s]
            i += 1
        else:
            out.append(s)
        i += 1
        # keep faults separated so that each is one unambiguous event
        if i < n:
            out += [(start + i + j) % 65536 for j in range(min(3, n - i))]
            i += 3
    return out, drops, dups, swaps


@settings(max_examples=200, deadline=None)
@given(st.integers(10, 3000), st.integers(0, 2**32), st.integers(0, 65535))
def test_injected_faults_reported_exactly(n, seed, start):
    seqs, drops, dups, swaps = _inject(n, seed, start)
    tr, events, delivered = _run(seqs)
    assert tr.lost == drops
    assert tr.duplicates == dups
    assert tr.reordered == swaps
    assert tr.gaps == drops + swaps  # a swap shows a 1-frame gap, then the late frame cancels it
    assert sum(isinstance(e, p.Duplicate) for e in events) == dups
    assert sorted(set(delivered)) == sorted(set(seqs)) and len(delivered) == len(set(seqs))


def test_gap_events_name_the_missing_range_over_the_wrap():
    tr, events, _ = _run([65533, 65534, 2, 3])
    assert events == [p.SequenceGap(1, 65535, 2, 3)]
    assert tr.lost == 3


def test_restart_by_sync_flag_and_by_large_backward_jump():
    tr = p.SequenceTracker(0)
    ev = []
    for s in (100, 101, 102):
        tr.push(s, False, ev)
    assert tr.push(0, True, ev) and ev[-1] == p.StreamRestart(0, 0, "sync flag")
    for s in range(1, 2000):
        tr.push(s, False, ev)
    assert tr.push(5, False, ev) and ev[-1].reason == "sequence jumped back"
    assert tr.lost == 0 and tr.restarts == 2


def test_late_frame_from_before_tracking_started_is_not_counted_found():
    tr, events, _ = _run([10, 11, 9])
    assert isinstance(events[-1], p.Reordered) and tr.lost == 0


def test_decoder_end_to_end_counts_per_stream():
    dec = p.Decoder()
    wire = b""
    for s in [0, 1, 3, 3, 2, 4]:
        wire += p.encode(p.DataFrame(1, s, s, 0, 250000, (s,)))
        wire += p.encode(p.LogFrame(20, "x", stream=0, seq=s))  # stream 0 is in order... twice 3
    out = dec.feed(wire)
    st_ = dec.stats
    assert st_.lost == 0 and st_.reordered == 2 and st_.duplicates == 2 and st_.gaps == 2
    assert sum(isinstance(x, p.DataFrame) for x in out) == 5
