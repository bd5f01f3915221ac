"""Consistent Overhead Byte Stuffing (Cheshire & Baker 1999) for frames of at most 254 bytes.

The encoder never emits a trailing ``0x01`` code after a final 254-byte block (the form
the reference C encoder produces); the decoder accepts both forms.
"""

from __future__ import annotations

from typing import Optional

__all__ = ["cobs_encode", "cobs_decode"]


def cobs_encode(data: bytes) -> bytes:
    """Stuff ``data`` so that the result contains no zero byte."""
    out = bytearray()
    parts = bytes(data).split(b"\x00")
    last = len(parts) - 1
    for k, part in enumerate(parts):
        full_blocks = 0
        while len(part) >= 254:
            out.append(0xFF)
            out += part[:254]
            part = part[254:]
            full_blocks += 1
        if k == last and full_blocks and not part:
            break  # the block ended exactly at the end of the data: no implied zero, no code
        out.append(len(part) + 1)
        out += part
    return bytes(out)


def cobs_decode(data: bytes) -> Optional[bytes]:
    """Unstuff one frame (no delimiters). Returns None when ``data`` is not valid COBS."""
    n = len(data)
    out = bytearray()
    i = 0
    while i < n:
        code = data[i]
        if code == 0:
            return None
        end = i + code
        if end > n:
            return None
        out += data[i + 1 : end]
        i = end
        if code != 0xFF and i < n:
            out.append(0)
    return bytes(out)
