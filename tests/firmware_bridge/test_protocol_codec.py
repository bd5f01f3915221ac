"""Codec: one table of (frame, bytes) cases fed whole, byte by byte, with garbage; fuzzing."""

from __future__ import annotations

import struct

import pytest
from cardiotune.firmware_bridge import protocol as p
from fb_vectors import frame_from_dict, load_vectors
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

VECTORS = load_vectors()
IDS = [v["name"] for v in VECTORS]


@pytest.mark.parametrize("vec", VECTORS, ids=IDS)
def test_encode_matches_table(vec):
    assert p.encode(frame_from_dict(vec["frame"])).hex() == vec["wire"]


@pytest.mark.parametrize("vec", VECTORS, ids=IDS)
@pytest.mark.parametrize("how", ["whole", "byte_by_byte", "trailing_garbage", "leading_garbage"])
def test_decode_table(vec, how):
    wire = bytes.fromhex(vec["wire"])
    want = frame_from_dict(vec["frame"])
    dec = p.Decoder()
    out = []
    if how == "whole":
        out += dec.feed(wire)
    elif how == "byte_by_byte":
        for b in wire:
            out += dec.feed(bytes([b]))
    elif how == "trailing_garbage":
        out += dec.feed(wire + b"\x13\x37garbage")
        assert dec.buffered == 9  # an incomplete frame is kept, never an error
        out += dec.feed(b"\x00")
    else:
        out += dec.feed(b"\xff\x01partial frame of a stream we joined late" + wire)
        assert dec.stats.skipped_at_start > 0
    if isinstance(want, p.InfoFrame):  # float32 scale: compare after the f32 round trip
        assert p.encode(out[0]) == wire
    else:
        assert out[0] == want
    errors = out[1:]
    if how == "trailing_garbage":
        assert [type(e) for e in errors] == [p.FramingError]
        assert dec.stats.framing_errors + dec.stats.crc_errors == 1
    else:
        assert errors == []
    assert dec.stats.frames == 1


def test_cobs_known_vectors():
    # from Cheshire & Baker's examples
    cases = [
        (b"\x00", b"\x01\x01"),
        (b"\x00\x00", b"\x01\x01\x01"),
        (b"\x11\x22\x00\x33", b"\x03\x11\x22\x02\x33"),
        (b"\x11\x22\x33\x44", b"\x05\x11\x22\x33\x44"),
        (b"\x11\x00\x00\x00", b"\x02\x11\x01\x01\x01"),
        (bytes(range(1, 255)), b"\xff" + bytes(range(1, 255))),
        (bytes(range(0, 255)), b"\x01\xff" + bytes(range(1, 255))),
    ]
    for raw, enc in cases:
        assert p.cobs_encode(raw) == enc
        assert p.cobs_decode(enc) == raw
    # a decoder accepts the trailing 0x01 some encoders add after a final full block
    assert p.cobs_decode(b"\xff" + bytes(range(1, 255)) + b"\x01") == bytes(range(1, 255))
    assert p.cobs_decode(b"\x05\x11") is None


@settings(max_examples=2000, deadline=None)
@given(st.binary(max_size=254))
def test_cobs_round_trip(raw):
    enc = p.cobs_encode(raw)
    assert b"\x00" not in enc and len(enc) <= len(raw) + 1 + len(raw) // 254
    assert p.cobs_decode(enc) == raw


def _ints(raw: bytes, fmt: int):
    if fmt == 1:
        return struct.unpack("<114h", raw)
    return tuple(int.from_bytes(raw[i : i + 3], "little", signed=True) for i in range(0, 228, 3))


data_frames = st.builds(
    lambda ch, n, fmt, raw, **kw: p.DataFrame(
        samples=_ints(raw, fmt)[: ch * n], channels=ch, fmt=fmt, **kw
    ),
    ch=st.integers(1, 4),
    n=st.integers(1, 19),
    fmt=st.sampled_from([1, 2]),
    raw=st.binary(min_size=228, max_size=228),
    stream=st.integers(0, 255),
    seq=st.integers(0, 65535),
    sample_index=st.integers(0, 2**32 - 1),
    t_us=st.integers(0, 2**32 - 1),
    rate_mhz=st.integers(0, 2**32 - 1),
    status=st.integers(0, 255),
    flags=st.integers(0, 255),
)


@settings(max_examples=1000, deadline=None)
@given(data_frames)
def test_data_frame_round_trip(frame):
    out = p.Decoder(track_sequence=False).feed(p.encode(frame))
    assert out == [frame]


@settings(max_examples=10_000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.binary(max_size=300), max_size=6), st.booleans())
def test_fuzz_never_raises_never_grows(chunks, with_frames):
    """Arbitrary bytes (optionally around valid frames): no exception, bounded buffer."""
    dec = p.Decoder()
    good = p.encode(p.DataFrame(1, 5, 0, 0, 250000, (1, 2, 3)))
    for c in chunks:
        dec.feed(c + good if with_frames else c)
        assert dec.buffered <= p.MAX_ENCODED
    st_ = dec.stats
    assert st_.frames >= 0 and st_.rejected >= 0


def test_hostile_input_is_bounded():
    dec = p.Decoder()
    dec.feed(b"\x00")
    for _ in range(20):  # 20 MB without a delimiter: one oversize piece, nothing retained
        dec.feed(b"\xfe" * 1_000_000)
        assert dec.buffered == 0
    out = dec.feed(b"\x00" + p.encode(p.DataFrame(1, 0, 0, 0, 250000, (7,))))
    assert [type(x) for x in out] == [p.Oversize, p.DataFrame]
    assert out[0].n_bytes == 20_000_000
    assert dec.stats.oversize == 1 and dec.stats.resyncs == 1


def test_malformed_but_crc_valid_frames_are_reported_not_delivered():
    import struct
    import zlib

    def wire(body):
        body += struct.pack("<I", zlib.crc32(body))
        return b"\x00" + p.cobs_encode(body) + b"\x00"

    dec = p.Decoder()
    # DATA header claiming 100 samples with only 2 present: a hostile length field
    hostile = (
        struct.pack("<BBBBH", 1, 1, 0, 1, 0)
        + struct.pack("<BBBBIII", 0, 1, 1, 100, 250000, 0, 0)
        + b"\x01\x00\x02\x00"
    )
    info_bad = (
        struct.pack("<BBBBH", 1, 2, 0, 0, 0)
        + struct.pack("<BBHIB", 1, 0, 0, 250000, 10)
        + b"\xf0abc"
    )
    out = dec.feed(
        wire(hostile)
        + wire(info_bad)
        + wire(struct.pack("<BBBBH", 2, 1, 0, 1, 0))
        + wire(struct.pack("<BBBBH", 1, 9, 0, 1, 0))
    )
    assert [type(x) for x in out] == [p.UnsupportedFrame] * 4
    assert "100 x 2" in out[0].reason and "string" in out[1].reason and "version 2" in out[2].reason
    assert dec.stats.unsupported == 4 and dec.stats.frames == 0


@pytest.mark.parametrize(
    "bad, field",
    [
        (dict(samples=(1 << 15,)), "samples[0]"),
        (dict(samples=tuple(range(115))), "sample bytes"),
        (dict(seq=70000), "seq"),
        (dict(channels=2, samples=(1, 2, 3)), "multiple"),
        (dict(fmt=7), "fmt"),
    ],
)
def test_encode_errors_name_the_field(bad, field):
    kw = dict(stream=1, seq=0, sample_index=0, t_us=0, rate_mhz=250000, samples=(1, 2))
    kw.update(bad)
    with pytest.raises(p.ProtocolError, match=field.replace("[", r"\[").replace("]", r"\]")):
        p.encode(p.DataFrame(**kw))
    with pytest.raises(p.ProtocolError, match="bytes"):
        p.Decoder().feed("text")
