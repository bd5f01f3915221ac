"""A streaming XDF writer (the LSL ecosystem's format: pyxdf, MNE, LabRecorder users open it).

PyPI has no Python XDF writer, hence this one (format: the XDF 1.0 specification,
https://github.com/sccn/xdf/wiki/Specifications). Crash safety by construction: samples
are buffered per stream for at most ``flush_interval_s`` and each chunk goes to the file
in ONE unbuffered ``os.write`` call, so a SIGKILL at any moment leaves only whole chunks
(the kernel keeps completed writes) and loses at most the last interval's samples. Only
the stream footers are missing after a crash; pyxdf reads such files.

Numeric streams (float32/float64/int16/int32) and string streams (JSON events) are
supported. Pure encoding functions are separate from the file handling.
"""
from __future__ import annotations

import os
import struct
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple
from xml.sax.saxutils import escape

import numpy as np

__all__ = ["XdfWriter", "StreamSpec", "encode_chunk", "encode_samples"]

MAGIC = b"XDF:"
TAG_FILE_HEADER, TAG_STREAM_HEADER, TAG_SAMPLES, TAG_CLOCK_OFFSET, TAG_BOUNDARY, TAG_STREAM_FOOTER = 1, 2, 3, 4, 5, 6
BOUNDARY_UUID = bytes([0x43, 0xA5, 0x46, 0xDC, 0xCB, 0xF5, 0x41, 0x0F,
                       0xB3, 0x0E, 0xD5, 0x46, 0x73, 0x83, 0xCB, 0xE4])
_FORMATS = {"float32": "<f4", "double64": "<f8", "int16": "<i2", "int32": "<i4", "int64": "<i8"}


def _varlen(n: int) -> bytes:
    if n < 256:
        return b"\x01" + struct.pack("<B", n)
    if n < 2**32:
        return b"\x04" + struct.pack("<I", n)
    return b"\x08" + struct.pack("<Q", n)


def encode_chunk(tag: int, content: bytes) -> bytes:
    """[NumLengthBytes][Length][Tag][Content], Length counting the 2 tag bytes."""
    return _varlen(len(content) + 2) + struct.pack("<H", tag) + content


def encode_samples(stream_id: int, fmt: str, timestamps: Sequence[float], values) -> bytes:
    """A Samples chunk; every sample carries its timestamp (8-byte double)."""
    n = len(timestamps)
    parts = [struct.pack("<I", stream_id), _varlen(n)]
    ts = np.asarray(timestamps, dtype="<f8")
    if fmt == "string":
        for t, s in zip(ts, values):
            raw = s.encode("utf-8") if isinstance(s, str) else bytes(s)
            parts.append(b"\x08" + t.tobytes() + _varlen(len(raw)) + raw)
    else:
        arr = np.asarray(values, dtype=_FORMATS[fmt]).reshape(n, -1)
        # interleave per sample: [8][timestamp][channel values]
        rec = np.empty(n, dtype=[("k", "u1"), ("t", "<f8"), ("v", _FORMATS[fmt], (arr.shape[1],))])
        rec["k"], rec["t"], rec["v"] = 8, ts, arr
        parts.append(rec.tobytes())
    return encode_chunk(TAG_SAMPLES, b"".join(parts))


@dataclass
class StreamSpec:
    name: str
    type: str
    channel_count: int
    nominal_srate: float  # 0 = irregular (events)
    channel_format: str  # float32 | double64 | int16 | int32 | int64 | string
    source_id: str = ""
    channel_labels: Tuple[str, ...] = ()
    unit: str = ""

    def header_xml(self) -> str:
        chans = "".join(
            f"<channel><label>{escape(lbl)}</label><unit>{escape(self.unit)}</unit><type>{escape(self.type)}</type>"
            "</channel>" for lbl in self.channel_labels)
        return (f'<?xml version="1.0"?><info><name>{escape(self.name)}</name><type>{escape(self.type)}</type>'
                f"<channel_count>{self.channel_count}</channel_count><nominal_srate>{self.nominal_srate}"
                f"</nominal_srate><channel_format>{self.channel_format}</channel_format>"
                f"<source_id>{escape(self.source_id)}</source_id>"
                f"<desc><channels>{chans}</channels></desc></info>")


@dataclass
class _Buffer:
    spec: StreamSpec
    timestamps: List[float] = field(default_factory=list)
    values: List = field(default_factory=list)
    count: int = 0
    first_t: Optional[float] = None
    last_t: Optional[float] = None


class XdfWriter:
    """``with XdfWriter(path) as w: sid = w.add_stream(spec); w.push(sid, ts, values)``.

    ``clock`` is read only to decide when to flush (an injectable monotonic clock).
    """

    def __init__(self, path, flush_interval_s: float = 1.0, clock=None):
        import time

        self.path = str(path)
        self.flush_interval_s = flush_interval_s
        self._clock = clock or time.monotonic
        self._fd: Optional[int] = None
        self._streams: Dict[int, _Buffer] = {}
        self._last_flush = 0.0
        self.bytes_written = 0

    def __enter__(self) -> XdfWriter:
        self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        self._write(MAGIC + encode_chunk(TAG_FILE_HEADER, b'<?xml version="1.0"?><info><version>1.0</version></info>'))
        self._last_flush = self._clock()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _write(self, data: bytes) -> None:
        if self._fd is None:
            raise ValueError(f"XDF file {self.path} is not open")
        view = memoryview(data)
        while view:  # a regular file takes it in one go; loop for correctness anyway
            n = os.write(self._fd, view)
            view = view[n:]
        self.bytes_written += len(data)

    def add_stream(self, spec: StreamSpec) -> int:
        if spec.channel_format not in _FORMATS and spec.channel_format != "string":
            raise ValueError(f"channel_format {spec.channel_format!r}: expected one of "
                             f"{sorted(_FORMATS) + ['string']}")
        sid = len(self._streams) + 1
        self._streams[sid] = _Buffer(spec)
        self._write(encode_chunk(TAG_STREAM_HEADER, struct.pack("<I", sid) + spec.header_xml().encode("utf-8")))
        return sid

    def push(self, stream_id: int, timestamps: Sequence[float], values) -> None:
        buf = self._streams[stream_id]
        ts = list(timestamps)
        if not ts:
            return
        buf.timestamps.extend(ts)
        if buf.spec.channel_format == "string":
            buf.values.extend(values)
        else:
            buf.values.append(np.asarray(values).reshape(len(ts), buf.spec.channel_count))
        buf.first_t = ts[0] if buf.first_t is None else buf.first_t
        buf.last_t = ts[-1]
        buf.count += len(ts)
        if self._clock() - self._last_flush >= self.flush_interval_s:
            self.flush()

    def maybe_flush(self) -> bool:
        """Flush if the last flush is ``flush_interval_s`` old (called by a timer, so buffered
        samples reach the file within the interval even when no new sample arrives)."""
        if self._fd is not None and self._clock() - self._last_flush >= self.flush_interval_s:
            self.flush()
            return True
        return False

    def flush(self) -> None:
        for sid, buf in self._streams.items():
            if not buf.timestamps:
                continue
            vals = buf.values if buf.spec.channel_format == "string" else np.concatenate(buf.values)
            self._write(encode_samples(sid, buf.spec.channel_format, buf.timestamps, vals))
            buf.timestamps, buf.values = [], []
        self._write(encode_chunk(TAG_BOUNDARY, BOUNDARY_UUID))
        self._last_flush = self._clock()

    def abandon(self) -> None:
        """Close the file without writing more (after a write error: the disk is full)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def close(self) -> None:
        if self._fd is None:
            return
        self.flush()
        for sid, buf in self._streams.items():
            footer = ('<?xml version="1.0"?><info>'
                      f"<first_timestamp>{buf.first_t if buf.first_t is not None else 0}</first_timestamp>"
                      f"<last_timestamp>{buf.last_t if buf.last_t is not None else 0}</last_timestamp>"
                      f"<sample_count>{buf.count}</sample_count></info>")
            self._write(encode_chunk(TAG_STREAM_FOOTER, struct.pack("<I", sid) + footer.encode("utf-8")))
        os.close(self._fd)
        self._fd = None
