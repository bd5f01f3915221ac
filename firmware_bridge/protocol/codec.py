"""Sans-IO codec: ``encode(frame) -> bytes`` and ``Decoder.feed(bytes) -> [frame | event]``.

The decoder never raises on input bytes (garbage is reported as events and counted), keeps
at most one maximum frame (``MAX_ENCODED`` bytes) between calls, and never allocates from
a length field: frames are delimited by zero bytes (COBS), and every length inside a frame
is checked against the bytes actually present.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

from .cobs import cobs_decode, cobs_encode
from .frames import (
    CRC_LEN,
    DATA_FIXED_LEN,
    HEADER_LEN,
    MAX_ENCODED,
    MAX_FRAME,
    MAX_SAMPLE_BYTES,
    PROTOCOL_VERSION,
    AckFrame,
    ChannelInfo,
    ControlFrame,
    CrcError,
    DataFrame,
    Flags,
    FrameType,
    FramingError,
    InfoFrame,
    LogFrame,
    Oversize,
    ProtocolError,
    SampleFormat,
    UnsupportedFrame,
)
from .sequence import SequenceTracker

__all__ = ["encode", "encode_body", "decode_body", "Decoder", "DecoderStats", "MAX_STRING"]

MAX_STRING = 64
_HEADER = struct.Struct("<BBBBH")
_DATA = struct.Struct("<BBBBIII")
_INFO = struct.Struct("<BBHIB")
_CONTROL = struct.Struct("<BI")
_ACK = struct.Struct("<BHBI")
_CHANNEL = struct.Struct("<fi")
_CRC = struct.Struct("<I")
_I16: Dict[int, struct.Struct] = {}
_RANGES = {
    SampleFormat.INT16: (-(1 << 15), (1 << 15) - 1),
    SampleFormat.INT24: (-(1 << 23), (1 << 23) - 1),
}


def _check(name: str, value: object, lo: int, hi: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
        raise ProtocolError(f"{name}={value!r}: expected an integer in [{lo}, {hi}]")


def _str(name: str, text: str) -> bytes:
    if not isinstance(text, str):
        raise ProtocolError(f"{name}={text!r}: expected a str")
    raw = text.encode("utf-8")
    if len(raw) > MAX_STRING:
        raise ProtocolError(f"{name} is {len(raw)} bytes of UTF-8: expected at most {MAX_STRING}")
    return bytes([len(raw)]) + raw


def _header(ftype: int, frame) -> bytes:
    _check("stream", frame.stream, 0, 255)
    _check("seq", frame.seq, 0, 0xFFFF)
    _check("flags", frame.flags, 0, 255)
    return _HEADER.pack(PROTOCOL_VERSION, ftype, frame.flags, frame.stream, frame.seq)


def _samples(f: DataFrame) -> bytes:
    if f.fmt not in SampleFormat.WIDTH:
        raise ProtocolError(
            f"fmt={f.fmt!r}: expected {SampleFormat.INT16} (int16) or {SampleFormat.INT24} (int24)"
        )
    lo, hi = _RANGES[f.fmt]
    for i, v in enumerate(f.samples):
        _check(f"samples[{i}]", v, lo, hi)
    if f.fmt == SampleFormat.INT16:
        return struct.pack(f"<{len(f.samples)}h", *f.samples)
    return b"".join((v & 0xFFFFFF).to_bytes(3, "little") for v in f.samples)


def encode_body(frame) -> bytes:
    """The unstuffed frame bytes (header + payload + CRC-32)."""
    if isinstance(frame, DataFrame):
        _check("channels", frame.channels, 1, 8)
        if not frame.samples or len(frame.samples) % frame.channels:
            raise ProtocolError(
                f"{len(frame.samples)} samples for {frame.channels} channels: "
                "expected a positive multiple"
            )
        for name in ("rate_mhz", "sample_index", "t_us"):
            _check(name, getattr(frame, name), 0, 0xFFFFFFFF)
        _check("status", frame.status, 0, 255)
        raw = _samples(frame)
        if len(raw) > MAX_SAMPLE_BYTES:
            raise ProtocolError(
                f"{len(raw)} sample bytes in one frame: expected at most {MAX_SAMPLE_BYTES}"
            )
        payload = (
            _DATA.pack(
                frame.status,
                frame.fmt,
                frame.channels,
                frame.n,
                frame.rate_mhz,
                frame.sample_index,
                frame.t_us,
            )
            + raw
        )
        ftype = FrameType.DATA
    elif isinstance(frame, InfoFrame):
        if len(frame.firmware) != 3:
            raise ProtocolError(f"firmware={frame.firmware!r}: expected (major, minor, patch)")
        _check("firmware major", frame.firmware[0], 0, 255)
        _check("firmware minor", frame.firmware[1], 0, 255)
        _check("firmware patch", frame.firmware[2], 0, 0xFFFF)
        _check("rate_mhz", frame.rate_mhz, 0, 0xFFFFFFFF)
        _check("adc_bits", frame.adc_bits, 1, 32)
        _check("number of channels", len(frame.channels), 0, 8)
        parts = [
            _INFO.pack(*frame.firmware, frame.rate_mhz, frame.adc_bits),
            _str("model", frame.model),
            _str("serial", frame.serial),
            bytes([len(frame.channels)]),
        ]
        for k, ch in enumerate(frame.channels):
            _check(f"channels[{k}].offset", ch.offset, -(1 << 31), (1 << 31) - 1)
            parts.append(
                _CHANNEL.pack(float(ch.scale_uv), ch.offset)
                + _str(f"channels[{k}].label", ch.label)
            )
        payload = b"".join(parts)
        ftype = FrameType.INFO
    elif isinstance(frame, ControlFrame):
        _check("command", frame.command, 0, 255)
        _check("arg", frame.arg, 0, 0xFFFFFFFF)
        payload, ftype = _CONTROL.pack(frame.command, frame.arg), FrameType.CONTROL
    elif isinstance(frame, AckFrame):
        _check("command", frame.command, 0, 255)
        _check("command_seq", frame.command_seq, 0, 0xFFFF)
        _check("result", frame.result, 0, 255)
        _check("value", frame.value, 0, 0xFFFFFFFF)
        payload = _ACK.pack(frame.command, frame.command_seq, frame.result, frame.value)
        ftype = FrameType.ACK
    elif isinstance(frame, LogFrame):
        _check("level", frame.level, 0, 255)
        text = frame.text.encode("utf-8") if isinstance(frame.text, str) else None
        if text is None or len(text) > MAX_FRAME - HEADER_LEN - CRC_LEN - 1:
            raise ProtocolError(
                f"log text {frame.text!r}: expected a str of at most 243 UTF-8 bytes"
            )
        payload, ftype = bytes([frame.level]) + text, FrameType.LOG
    else:
        raise ProtocolError(
            f"cannot encode {type(frame).__name__}: expected one of the frame types"
        )
    body = _header(ftype, frame) + payload
    if len(body) + CRC_LEN > MAX_FRAME:
        raise ProtocolError(f"frame of {len(body) + CRC_LEN} bytes: expected at most {MAX_FRAME}")
    return body + _CRC.pack(zlib.crc32(body))


def encode(frame) -> bytes:
    """Wire bytes of one frame: ``0x00 COBS(body) 0x00``."""
    return b"\x00" + cobs_encode(encode_body(frame)) + b"\x00"


# ---- decoding ---------------------------------------------------------------------------


def _read_str(body: bytes, off: int, end: int) -> Tuple[str, int]:
    if off >= end:
        raise ValueError("string length byte missing")
    n = body[off]
    if off + 1 + n > end:
        raise ValueError(f"string of {n} bytes runs past the end of the frame")
    return body[off + 1 : off + 1 + n].decode("utf-8", errors="replace"), off + 1 + n


def _parse_data(body: bytes, flags: int, stream: int, seq: int):
    end = len(body) - CRC_LEN
    if end < HEADER_LEN + DATA_FIXED_LEN:
        return UnsupportedFrame(
            f"DATA frame of {len(body)} bytes is shorter than its fixed fields", 1, 1
        )
    status, fmt, channels, n, rate, index, t_us = _DATA.unpack_from(body, HEADER_LEN)
    width = SampleFormat.WIDTH.get(fmt)
    if width is None or channels == 0:
        return UnsupportedFrame(f"DATA sample format {fmt} with {channels} channels", 1, 1)
    count = channels * n
    off = HEADER_LEN + DATA_FIXED_LEN
    if off + count * width != end or count == 0:
        return UnsupportedFrame(
            f"DATA frame has {end - off} sample bytes, header says {count} x {width}", 1, 1
        )
    if width == 2:
        st = _I16.get(count)
        if st is None:
            st = _I16.setdefault(count, struct.Struct(f"<{count}h"))
        samples = st.unpack_from(body, off)
    else:
        samples = tuple(
            int.from_bytes(body[i : i + 3], "little", signed=True) for i in range(off, end, 3)
        )
    return DataFrame(stream, seq, index, t_us, rate, samples, channels, fmt, status, flags)


def _parse_info(body: bytes, flags: int, stream: int, seq: int):
    end = len(body) - CRC_LEN
    try:
        if end < HEADER_LEN + _INFO.size:
            raise ValueError("INFO shorter than its fixed fields")
        major, minor, patch, rate, bits = _INFO.unpack_from(body, HEADER_LEN)
        off = HEADER_LEN + _INFO.size
        model, off = _read_str(body, off, end)
        serial, off = _read_str(body, off, end)
        if off >= end:
            raise ValueError("channel count missing")
        nch, off = body[off], off + 1
        chans = []
        for _ in range(nch):
            if off + _CHANNEL.size > end:
                raise ValueError("channel record runs past the end of the frame")
            scale, offset = _CHANNEL.unpack_from(body, off)
            label, off = _read_str(body, off + _CHANNEL.size, end)
            chans.append(ChannelInfo(label, scale, offset))
        if off != end:
            raise ValueError(f"{end - off} unexpected trailing bytes")
    except ValueError as exc:
        return UnsupportedFrame(f"malformed INFO frame: {exc}", 1, 2)
    return InfoFrame(
        model, (major, minor, patch), serial, rate, bits, tuple(chans), stream, seq, flags
    )


def decode_body(body: bytes):
    """Parse an unstuffed frame whose CRC is valid: a frame or an ``UnsupportedFrame``."""
    version, ftype, flags, stream, seq = _HEADER.unpack_from(body)
    if version != PROTOCOL_VERSION:
        return UnsupportedFrame(
            f"protocol version {version}, expected {PROTOCOL_VERSION}", version, ftype
        )
    end = len(body) - CRC_LEN
    if ftype == FrameType.DATA:
        return _parse_data(body, flags, stream, seq)
    if ftype == FrameType.INFO:
        return _parse_info(body, flags, stream, seq)
    if ftype == FrameType.CONTROL and end - HEADER_LEN == _CONTROL.size:
        return ControlFrame(*_CONTROL.unpack_from(body, HEADER_LEN), stream, seq, flags)
    if ftype == FrameType.ACK and end - HEADER_LEN == _ACK.size:
        return AckFrame(*_ACK.unpack_from(body, HEADER_LEN), stream, seq, flags)
    if ftype == FrameType.LOG and end > HEADER_LEN:
        text = body[HEADER_LEN + 1 : end].decode("utf-8", errors="replace")
        return LogFrame(body[HEADER_LEN], text, stream, seq, flags)
    return UnsupportedFrame(
        f"frame type {ftype} with {end - HEADER_LEN} payload bytes", version, ftype
    )


@dataclass
class DecoderStats:
    bytes_in: int = 0
    frames: int = 0  # delivered frames
    crc_errors: int = 0
    framing_errors: int = 0
    oversize: int = 0
    unsupported: int = 0
    discarded_bytes: int = 0  # bytes of rejected pieces (delimiters not counted)
    skipped_at_start: int = 0  # a partial frame before the first delimiter (joined mid-stream)
    resyncs: int = 0  # good frames that followed rejected bytes
    gaps: int = 0
    lost: int = 0
    duplicates: int = 0
    reordered: int = 0
    restarts: int = 0

    @property
    def rejected(self) -> int:
        return self.crc_errors + self.framing_errors + self.oversize


class Decoder:
    """Feed bytes as they arrive; get frames and events back in stream order."""

    def __init__(self, track_sequence: bool = True):
        self.stats = DecoderStats()
        self._buf = b""
        self._discarding = 0  # >0: inside an oversize piece, this many bytes so far
        self._started = False  # a delimiter has been seen
        self._bad = False  # rejected bytes since the last good frame
        self._track = track_sequence
        self._trackers: Dict[int, SequenceTracker] = {}

    @property
    def buffered(self) -> int:
        return len(self._buf)

    def tracker(self, stream: int) -> Optional[SequenceTracker]:
        return self._trackers.get(stream)

    def feed(self, data: bytes) -> List[object]:
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise ProtocolError(f"feed() got {type(data).__name__}: expected bytes")
        out: List[object] = []
        if not data:
            return out
        data = bytes(data)
        self.stats.bytes_in += len(data)
        parts = data.split(b"\x00")
        tail = parts.pop()
        if parts:
            first = parts[0]
            if self._discarding:
                self._reject_oversize(self._discarding + len(first), out)
                self._discarding = 0
            else:
                first = self._buf + first
                if first:
                    self._piece(first, out, leading=not self._started)
            self._started = True
            for p in parts[1:]:
                if p:
                    self._piece(p, out, leading=False)
            self._buf = b""
        elif self._discarding:
            self._discarding += len(tail)
            return out
        else:
            tail = self._buf + tail
        if len(tail) > MAX_ENCODED:
            self._discarding, self._buf = len(tail), b""
        else:
            self._buf = tail
        return out

    def _reject_oversize(self, n: int, out: List[object]) -> None:
        if not self._started:
            self.stats.skipped_at_start += n
            return
        self.stats.oversize += 1
        self.stats.discarded_bytes += n
        self._bad = True
        out.append(Oversize(n))

    def _piece(self, p: bytes, out: List[object], leading: bool) -> None:
        st = self.stats
        if len(p) > MAX_ENCODED:
            if leading:
                st.skipped_at_start += len(p)
            else:
                self._reject_oversize(len(p), out)
            return
        body = cobs_decode(p)
        if body is None or len(body) < HEADER_LEN + CRC_LEN:
            err: object = FramingError(
                "invalid COBS" if body is None else "shorter than a header", len(p)
            )
        elif _CRC.unpack_from(body, len(body) - CRC_LEN)[0] != zlib.crc32(
            memoryview(body)[:-CRC_LEN]
        ):
            err = CrcError(len(body))
        else:
            if self._bad:
                st.resyncs += 1
                self._bad = False
            self._deliver(body, out)
            return
        if leading:  # the tail of a frame whose start we never saw: not an error
            st.skipped_at_start += len(p)
            return
        if isinstance(err, CrcError):
            st.crc_errors += 1
        else:
            st.framing_errors += 1
        st.discarded_bytes += len(p)
        self._bad = True
        out.append(err)

    def _deliver(self, body: bytes, out: List[object]) -> None:
        frame = decode_body(body)
        st = self.stats
        if isinstance(frame, UnsupportedFrame):
            st.unsupported += 1
            out.append(frame)
            return
        if self._track:
            tr = self._trackers.get(frame.stream)
            if tr is None:
                tr = self._trackers[frame.stream] = SequenceTracker(frame.stream)
            n_events = len(out)
            keep = tr.push(frame.seq, bool(frame.flags & Flags.SYNC), out)
            if len(out) != n_events:  # something happened: refresh the totals
                trs = self._trackers.values()
                st.gaps = sum(t.gaps for t in trs)
                st.lost = sum(t.lost for t in trs)
                st.duplicates = sum(t.duplicates for t in trs)
                st.reordered = sum(t.reordered for t in trs)
                st.restarts = sum(t.restarts for t in trs)
            if not keep:
                return
        st.frames += 1
        out.append(frame)
