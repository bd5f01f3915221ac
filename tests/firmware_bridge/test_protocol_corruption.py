"""100,000 frames through bit errors (1e-5..1e-3), bursts, deletions, truncations and
inserted garbage: zero corrupted frames delivered, every undamaged frame delivered, error
counters equal to an independent count made by splitting the damaged stream on zeros."""

from __future__ import annotations

import random

import numpy as np
from cardiotune.firmware_bridge import protocol as p

N_FRAMES = 100_000
REGIMES = ["ber1e-5", "ber1e-4", "ber1e-3", "burst", "delete", "truncate", "garbage"]


def _frames():
    rng = np.random.default_rng(1)
    samples = rng.integers(200, 800, size=(N_FRAMES, 10))
    return [
        p.DataFrame(
            stream=1,
            seq=i % 65536,
            sample_index=i * 10,
            t_us=(i * 40_000) % 2**32,
            rate_mhz=250000,
            samples=tuple(int(x) for x in samples[i]),
            status=(i // 977) % 2,
        )
        for i in range(N_FRAMES)
    ]


def _damage(wires, seed=7):
    """Returns the damaged stream and the set of damaged frames: those whose stuffed bytes
    no longer appear intact with a zero byte on each side (each frame carries a leading and
    a trailing delimiter, so losing one of them alone does not damage a frame)."""
    rnd = random.Random(seed)
    nrng = np.random.default_rng(seed)
    per = N_FRAMES // len(REGIMES)
    out = bytearray()
    where = {}
    for i, w in enumerate(wires):
        regime = REGIMES[min(i // per, len(REGIMES) - 1)]
        b = bytearray(w)
        if regime.startswith("ber"):
            ber = float(regime[3:])
            k = nrng.binomial(len(b) * 8, ber)
            for bit in rnd.sample(range(len(b) * 8), k):
                b[bit // 8] ^= 1 << (bit % 8)
        elif regime == "burst" and rnd.random() < 0.02:
            start = rnd.randrange(len(b))
            for j in range(start, min(len(b), start + rnd.randint(1, 40))):
                b[j] = rnd.randrange(256)
        elif regime == "delete" and rnd.random() < 0.02:
            del b[rnd.randrange(len(b))]
        elif regime == "truncate" and rnd.random() < 0.02:
            del b[rnd.randrange(len(b)) :]
        elif regime == "garbage" and rnd.random() < 0.01:
            # junk between frames (some of it longer than a maximum frame)
            n, zeros = rnd.choice([(3, 0.03), (30, 0.03), (300, 0.0), (700, 0.0)])
            out += bytes(rnd.randrange(1, 256) if rnd.random() >= zeros else 0 for _ in range(n))
        k = bytes(b).find(w[1:-1])
        if k >= 0:
            where[i] = len(out) + k
        out += b
    out = bytes(out)
    intact = {
        i
        for i, at in where.items()
        if out[at - 1] == 0
        and at + len(wires[i]) - 2 < len(out)
        and out[at + len(wires[i]) - 2] == 0
    }
    return out, set(range(len(wires))) - intact


def _reference_count(stream, good_pieces):
    """Independent accounting: split on zeros; a piece is good iff it is an original frame."""
    good = bad = resyncs = 0
    pending_bad = False
    for piece in stream.split(b"\x00"):
        if not piece:
            continue
        if piece in good_pieces:
            good += 1
            resyncs += pending_bad
            pending_bad = False
        else:
            bad += 1
            pending_bad = True
    return good, bad, resyncs


def test_corruption_100k_frames():
    frames = _frames()
    wires = [p.encode(f) for f in frames]
    stream, damaged = _damage(wires)
    assert 1000 < len(damaged) < 40_000  # the regimes did damage a real share of frames
    dec = p.Decoder()
    rnd = random.Random(3)
    delivered = []
    pos = 0
    while pos < len(stream):
        n = rnd.randint(1, 4096)
        for item in dec.feed(stream[pos : pos + n]):
            if isinstance(item, p.DataFrame):
                delivered.append(item)
        assert dec.buffered <= p.MAX_ENCODED
        pos += n
    # zero corrupted frames delivered, every undamaged frame delivered
    idx = [f.sample_index // 10 for f in delivered]
    assert all(frames[i] == f for i, f in zip(idx, delivered))
    assert set(idx) == set(range(N_FRAMES)) - damaged
    assert len(idx) == len(set(idx))
    # counters equal the independent count
    good, bad, resyncs = _reference_count(stream, {w[1:-1] for w in wires})
    st = dec.stats
    assert (st.frames, st.rejected, st.resyncs) == (good, bad, resyncs)
    assert st.oversize > 0 and st.crc_errors > 0 and st.framing_errors > 0
    first, last = idx[0], idx[-1]
    assert st.lost == (last - first + 1) - len(idx)  # sequence wrapped once: gaps still exact
    assert st.duplicates == st.reordered == st.restarts == 0
    assert st.skipped_at_start == 0
