"""What every source yields. Sources are async context managers and async iterators:

    async with SomeSource(...) as src:
        async for item in src:        # EcgChunk | RrChunk | Gap
            ...

Times are seconds on the source clock (device timestamps mapped onto the host's
monotonic clock for live sources; session time for replays). ``received`` is the host
monotonic time at which the chunk entered the process, used only for latency figures.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["EcgChunk", "RrChunk", "AudioChunk", "Gap"]


@dataclass(frozen=True)
class EcgChunk:
    samples: np.ndarray  # float32, millivolts
    fs: float  # nominal sample rate, Hz
    t_first: float  # source time of samples[0], s
    first_index: int  # index of samples[0] in the stream; consecutive chunks are contiguous
    received: float  # host monotonic time the chunk arrived
    lead_off: bool = False  # the device reports an electrode off during this chunk


@dataclass(frozen=True)
class RrChunk:
    """RR intervals published directly by a chest strap (e.g. Polar H10)."""

    rr_s: np.ndarray  # float64 seconds
    t_beats: np.ndarray  # source time of the beat that ends each interval, s
    received: float


@dataclass(frozen=True)
class AudioChunk:
    """Mono microphone audio on the same source clock as the ECG. Never published."""

    samples: np.ndarray  # float32 in [-1, 1]
    fs: float  # Hz (16000 from the microphone source)
    t_first: float  # source time of samples[0], s
    first_index: int
    received: float


@dataclass(frozen=True)
class Gap:
    """Data that should have arrived and did not; never papered over."""

    t_start: float
    t_end: float
    n_missing: int
    reason: str
