"""Frame and event types of the cardiotune serial protocol, version 1 (see PROTOCOL.md).

Frames are what the link carries; events are what the decoder noticed about the byte
stream (errors, sequence gaps). All are plain immutable records.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Tuple

from cardiotune.errors import DataError

__all__ = [
    "PROTOCOL_VERSION",
    "MAX_FRAME",
    "MAX_ENCODED",
    "HEADER_LEN",
    "CRC_LEN",
    "FrameType",
    "SampleFormat",
    "Status",
    "Flags",
    "Command",
    "AckResult",
    "ProtocolError",
    "DataFrame",
    "InfoFrame",
    "ChannelInfo",
    "ControlFrame",
    "AckFrame",
    "LogFrame",
    "CrcError",
    "FramingError",
    "Oversize",
    "UnsupportedFrame",
    "SequenceGap",
    "Duplicate",
    "Reordered",
    "StreamRestart",
]

PROTOCOL_VERSION = 1
HEADER_LEN = 6  # version, type, flags, stream, seq (u16)
CRC_LEN = 4
MAX_FRAME = 254  # unstuffed bytes including the CRC
MAX_ENCODED = 255  # stuffed bytes of one frame, without delimiters
DATA_FIXED_LEN = 16  # status, format, channels, n, rate_mhz, sample_index, t_us
MAX_SAMPLE_BYTES = MAX_FRAME - HEADER_LEN - DATA_FIXED_LEN - CRC_LEN  # 228


class FrameType:
    DATA = 1
    INFO = 2
    CONTROL = 3
    ACK = 4
    LOG = 5


class SampleFormat:
    INT16 = 1
    INT24 = 2
    WIDTH = {1: 2, 2: 3}


class Status:
    """Bits of ``DataFrame.status``."""

    LEAD_OFF_POS = 0x01  # LO+ : the positive (RA) electrode is off
    LEAD_OFF_NEG = 0x02  # LO- : the negative (LA) electrode is off
    LEAD_OFF_REF = 0x04  # the reference / right-leg electrode is off (if sensed)
    SATURATED = 0x08  # at least one sample in this frame hit the ADC rail
    BATTERY_LOW = 0x10
    LEAD_OFF_ANY = LEAD_OFF_POS | LEAD_OFF_NEG | LEAD_OFF_REF


class Flags:
    """Bits of the header ``flags`` byte."""

    SYNC = 0x01  # first frame of this stream since boot/START: sequence restarts here


class Command:
    START = 1
    STOP = 2
    SET_RATE = 3  # arg: u32 rate in mHz
    GET_INFO = 4
    PING = 5  # arg: u32 token, echoed in the ACK


class AckResult:
    OK = 0
    UNSUPPORTED = 1
    BAD_ARGUMENT = 2
    BUSY = 3


class ProtocolError(DataError):
    """The only exception the codec raises: a frame that cannot be encoded, or bad input type."""


@dataclass(frozen=True)
class DataFrame:
    stream: int
    seq: int
    sample_index: int  # u32 index of the first sample (per channel) since START
    t_us: int  # u32 device clock at the first sample, microseconds (wraps)
    rate_mhz: int  # sample rate in millihertz
    samples: Tuple[int, ...]  # interleaved raw ADC counts, channels * n values
    channels: int = 1
    fmt: int = SampleFormat.INT16
    status: int = 0
    flags: int = 0

    @property
    def n(self) -> int:
        return len(self.samples) // self.channels

    @property
    def rate_hz(self) -> float:
        return self.rate_mhz / 1000.0

    @property
    def lead_off(self) -> bool:
        return bool(self.status & Status.LEAD_OFF_ANY)


@dataclass(frozen=True)
class ChannelInfo:
    label: str  # e.g. "ECG", "lead I"
    scale_uv: float  # microvolts at the electrodes per ADC count
    offset: int = 0  # ADC count that corresponds to 0 mV

    def to_mv(self, count: int) -> float:
        return (count - self.offset) * self.scale_uv / 1000.0


@dataclass(frozen=True)
class InfoFrame:
    model: str
    firmware: Tuple[int, int, int]
    serial: str
    rate_mhz: int  # nominal sample rate
    adc_bits: int
    channels: Tuple[ChannelInfo, ...] = field(default_factory=tuple)
    stream: int = 0
    seq: int = 0
    flags: int = 0


@dataclass(frozen=True)
class ControlFrame:
    """Host to device."""

    command: int
    arg: int = 0  # u32
    stream: int = 0
    seq: int = 0
    flags: int = 0


@dataclass(frozen=True)
class AckFrame:
    command: int
    command_seq: int  # seq of the CONTROL frame being answered
    result: int
    value: int = 0  # u32 (PING token, current rate...)
    stream: int = 0
    seq: int = 0
    flags: int = 0


@dataclass(frozen=True)
class LogFrame:
    level: int  # 10 debug, 20 info, 30 warning, 40 error (Python logging levels)
    text: str
    stream: int = 0
    seq: int = 0
    flags: int = 0


# ---- events ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CrcError:
    length: int  # unstuffed bytes of the rejected frame


@dataclass(frozen=True)
class FramingError:
    reason: str
    length: int  # stuffed bytes of the rejected piece


@dataclass(frozen=True)
class Oversize:
    """More than one maximum frame of bytes without a delimiter; discarded."""

    n_bytes: int


@dataclass(frozen=True)
class UnsupportedFrame:
    """A frame with a valid CRC that this implementation does not understand."""

    reason: str
    version: int
    type: int


@dataclass(frozen=True)
class SequenceGap:
    stream: int
    expected: int
    received: int
    missing: int


@dataclass(frozen=True)
class Duplicate:
    stream: int
    seq: int


@dataclass(frozen=True)
class Reordered:
    """A frame that arrived after a later one; it was counted missing and is now found."""

    stream: int
    seq: int


@dataclass(frozen=True)
class StreamRestart:
    stream: int
    seq: int
    reason: str  # "sync flag" or "sequence jumped back"
