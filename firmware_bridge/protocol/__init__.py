"""The cardiotune serial protocol, sans-IO (standard library only). See ../PROTOCOL.md.

>>> from cardiotune.firmware_bridge.protocol import Decoder, DataFrame, encode
>>> wire = encode(DataFrame(stream=1, seq=0, sample_index=0, t_us=0, rate_mhz=250000,
...                         samples=(1, 2, 3)))
>>> [type(x).__name__ for x in Decoder().feed(wire)]
['DataFrame']
"""

from __future__ import annotations

from .clock import ClockMapper
from .cobs import cobs_decode, cobs_encode
from .codec import Decoder, DecoderStats, decode_body, encode, encode_body
from .frames import *  # noqa: F403
from .frames import __all__ as _frames_all
from .legacy import LegacyChunk, LegacyTextDecoder
from .sequence import SequenceTracker

__all__ = [
    "ClockMapper",
    "cobs_decode",
    "cobs_encode",
    "Decoder",
    "DecoderStats",
    "decode_body",
    "encode",
    "encode_body",
    "LegacyChunk",
    "LegacyTextDecoder",
    "SequenceTracker",
    *_frames_all,
]
