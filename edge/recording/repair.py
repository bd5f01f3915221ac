"""Recover a truncated or partly damaged XDF file (``cardiotune recording repair``).

A recording cut short - power loss, SIGKILL, full disk - ends in a partial chunk, and
may have a zero-filled tail (delayed allocation on ext4) or a damaged region. The repair
walks the chunks from the start, keeps every chunk that is complete and well formed
(Samples chunks are parsed against their stream header, so a chunk whose bytes were
damaged is dropped rather than mis-read), resynchronises at the next Boundary chunk after
damage, and writes a new file ending with a StreamFooter per stream (first/last
timestamp, sample count). Loss is at most the damaged chunks - for our writer, at most
the last flush interval. Works on LabRecorder files too (same format).

Pure parsing functions over ``bytes``; the file handling is in :func:`repair_file`.
"""
from __future__ import annotations

import os
import struct
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple, Union

from .xdf_writer import (
    BOUNDARY_UUID,
    MAGIC,
    TAG_BOUNDARY,
    TAG_CLOCK_OFFSET,
    TAG_FILE_HEADER,
    TAG_SAMPLES,
    TAG_STREAM_FOOTER,
    TAG_STREAM_HEADER,
    encode_chunk,
)

__all__ = ["RepairReport", "repair_bytes", "repair_file", "XdfRepairError"]

_VALUE_SIZE = {"int8": 1, "int16": 2, "int32": 4, "int64": 8, "float32": 4, "double64": 8}
_KNOWN_TAGS = {TAG_FILE_HEADER, TAG_STREAM_HEADER, TAG_SAMPLES, TAG_CLOCK_OFFSET, TAG_BOUNDARY, TAG_STREAM_FOOTER}
_MAX_CHUNK = 1 << 31  # a longer "length" is damage, not data


class XdfRepairError(ValueError):
    """The input is not an XDF file at all (no magic) - nothing to recover."""


@dataclass
class _Stream:
    fmt: str
    channels: int
    first_t: Optional[float] = None
    last_t: Optional[float] = None
    count: int = 0
    footer: bool = False


@dataclass
class RepairReport:
    input_bytes: int
    kept_bytes: int
    chunks_kept: int
    chunks_dropped: int
    streams: Dict[int, Dict[str, object]] = field(default_factory=dict)
    notes: List[str] = field(default_factory=list)

    @property
    def dropped_bytes(self) -> int:
        return self.input_bytes - self.kept_bytes


def _read_varlen(buf: bytes, pos: int) -> Optional[Tuple[int, int]]:
    """(value, new position) of an XDF variable-length integer, None if truncated/invalid."""
    if pos >= len(buf):
        return None
    nb = buf[pos]
    if nb not in (1, 4, 8) or pos + 1 + nb > len(buf):
        return None
    value = int.from_bytes(buf[pos + 1:pos + 1 + nb], "little")
    return value, pos + 1 + nb


def _parse_samples(content: bytes, streams: Dict[int, _Stream]) -> Optional[Tuple[int, int, List[float]]]:
    """(stream id, n samples, timestamps present) if the Samples chunk is well formed."""
    if len(content) < 4:
        return None
    sid = struct.unpack_from("<I", content, 0)[0]
    st = streams.get(sid)
    if st is None:
        return None
    got = _read_varlen(content, 4)
    if got is None:
        return None
    n, pos = got
    stamps: List[float] = []
    for _ in range(n):
        if pos >= len(content):
            return None
        flag = content[pos]
        pos += 1
        if flag == 8:
            if pos + 8 > len(content):
                return None
            stamps.append(struct.unpack_from("<d", content, pos)[0])
            pos += 8
        elif flag != 0:
            return None
        if st.fmt == "string":
            for _ in range(st.channels):
                got = _read_varlen(content, pos)
                if got is None or got[1] + got[0] > len(content):
                    return None
                pos = got[1] + got[0]
        else:
            pos += _VALUE_SIZE[st.fmt] * st.channels
            if pos > len(content):
                return None
    if pos != len(content):
        return None
    return sid, n, stamps


def _stream_header(content: bytes) -> Optional[Tuple[int, _Stream]]:
    if len(content) < 4:
        return None
    sid = struct.unpack_from("<I", content, 0)[0]
    try:
        root = ET.fromstring(content[4:].decode("utf-8"))
        fmt = (root.findtext("channel_format") or "").strip()
        channels = int((root.findtext("channel_count") or "").strip())
    except (ET.ParseError, UnicodeDecodeError, ValueError):
        return None
    if (fmt not in _VALUE_SIZE and fmt != "string") or channels < 1:
        return None
    return sid, _Stream(fmt, channels)


def repair_bytes(data: bytes) -> Tuple[bytes, RepairReport]:
    """Return (repaired file bytes, report)."""
    if not data.startswith(MAGIC):
        raise XdfRepairError(f"not an XDF file: starts with {data[:4]!r}, expected {MAGIC!r}")
    out = [MAGIC]
    kept = len(MAGIC)
    streams: Dict[int, _Stream] = {}
    report = RepairReport(len(data), 0, 0, 0)
    pos = len(MAGIC)
    while pos < len(data):
        start = pos
        got = _read_varlen(data, pos)
        ok = False
        if got is not None and 2 <= got[0] <= _MAX_CHUNK and got[1] + got[0] <= len(data):
            length, body = got
            tag = struct.unpack_from("<H", data, body)[0]
            content = data[body + 2:body + length]
            end = body + length
            ok = tag in _KNOWN_TAGS
            if tag == TAG_STREAM_HEADER:
                parsed = _stream_header(content)
                ok = parsed is not None
                if parsed is not None:
                    streams.setdefault(parsed[0], parsed[1])
            elif tag == TAG_SAMPLES:
                parsed_s = _parse_samples(content, streams)
                ok = parsed_s is not None
                if parsed_s is not None:
                    sid, n, stamps = parsed_s
                    st = streams[sid]
                    st.count += n
                    if stamps:
                        st.first_t = stamps[0] if st.first_t is None else st.first_t
                        st.last_t = stamps[-1]
            elif tag == TAG_STREAM_FOOTER:
                sid = struct.unpack_from("<I", content, 0)[0] if len(content) >= 4 else -1
                ok = sid in streams
                if ok:
                    streams[sid].footer = True
            elif tag == TAG_BOUNDARY:
                ok = content == BOUNDARY_UUID
        if ok:
            out.append(data[start:end])
            kept += end - start
            report.chunks_kept += 1
            pos = end
            continue
        # damage: drop it and resynchronise after the next Boundary chunk's UUID, if any
        report.chunks_dropped += 1
        nxt = data.find(BOUNDARY_UUID, start + 1)
        if nxt < 0:
            report.notes.append(f"dropped {len(data) - start} byte(s) from offset {start} (truncated or damaged tail)")
            break
        report.notes.append(f"dropped damaged bytes {start}-{nxt + len(BOUNDARY_UUID)}; resynchronised at a boundary")
        pos = nxt + len(BOUNDARY_UUID)
    for sid, st in sorted(streams.items()):
        if not st.footer:
            footer = ('<?xml version="1.0"?><info>'
                      f"<first_timestamp>{st.first_t if st.first_t is not None else 0}</first_timestamp>"
                      f"<last_timestamp>{st.last_t if st.last_t is not None else 0}</last_timestamp>"
                      f"<sample_count>{st.count}</sample_count></info>")
            out.append(encode_chunk(TAG_STREAM_FOOTER, struct.pack("<I", sid) + footer.encode("utf-8")))
        report.streams[sid] = {"format": st.fmt, "channels": st.channels, "samples": st.count,
                               "first_t": st.first_t, "last_t": st.last_t, "had_footer": st.footer}
    report.kept_bytes = kept
    return b"".join(out), report


def repair_file(src: Union[str, Path], dst: Optional[Union[str, Path]] = None) -> Tuple[Path, RepairReport]:
    """Repair ``src`` into ``dst`` (default ``<name>.repaired.xdf`` next to it); never edits ``src``.
    The result is written to a temporary name and renamed, so a crash never leaves half a file."""
    src = Path(src)
    if not src.is_file():
        raise FileNotFoundError(f"XDF file {str(src)!r} does not exist")
    dst = Path(dst) if dst is not None else src.with_name(src.stem + ".repaired.xdf")
    if dst.resolve() == src.resolve():
        raise ValueError(f"output {str(dst)!r} is the input; choose another path (the original is kept)")
    fixed, report = repair_bytes(src.read_bytes())
    tmp = dst.with_name(dst.name + ".tmp")
    with open(tmp, "wb") as fh:
        fh.write(fixed)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, dst)
    return dst, report
