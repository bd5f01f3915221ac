"""Replay a recorded session as a live source, paced against deadlines.

Chunk k is released at ``start + t_end(k) / speed`` on an injectable clock (never a fixed
sleep, so pacing does not drift); ``speed=None`` releases chunks as fast as the consumer
takes them. Output is identical whatever the speed: only the timing differs.

A session with audio (XDF with an audio stream, or a sound file given alongside) yields
:class:`AudioChunk` too, interleaved with the ECG by end time on the same clock and
paced against the same deadlines; a session with a lead-off mask sets ``lead_off`` on
the ECG chunks it covers.
"""
from __future__ import annotations

import asyncio
import heapq
import time
from typing import AsyncIterator, Iterator, Optional, Tuple, Union

import numpy as np

from ..session import RecordedSession
from ..timebase import MonotonicClock
from .base import AudioChunk, EcgChunk

__all__ = ["ReplaySource"]

AUDIO_FS = 16000  # audio in sessions is stored at the speech model's rate
MAX_SPEED_YIELD_S = 0.002  # speed=None: hand the event loop over at least this often


class ReplaySource:
    def __init__(self, session: RecordedSession, speed: Optional[float] = 1.0, chunk_s: float = 0.04,
                 duration_s: Optional[float] = None, clock=None, audio: bool = True):
        if speed is not None and not speed > 0:
            raise ValueError(f"speed={speed!r}: expected a number > 0, or None for as fast as possible")
        if not chunk_s > 0:
            raise ValueError(f"chunk_s={chunk_s!r}: expected a number > 0")
        self.session, self.speed = session, speed
        self.chunk = max(int(round(chunk_s * session.fs)), 1)
        n = len(session.ecg_mv)
        self.n_samples = n if duration_s is None else min(n, int(round(duration_s * session.fs)))
        self.clock = clock or MonotonicClock()
        self.position_s = 0.0
        self.started_at: Optional[float] = None  # clock time of session time 0 (live inputs align to it)
        self.audio = getattr(session, "audio", None) if audio else None
        self.audio_chunk = max(int(round(chunk_s * AUDIO_FS)), 1)

    async def __aenter__(self) -> ReplaySource:
        return self

    async def __aexit__(self, *exc) -> None:
        return None

    def __aiter__(self) -> AsyncIterator[Union[EcgChunk, AudioChunk]]:
        return self._chunks()

    def _schedule(self) -> Iterator[Tuple[float, int, int, int]]:
        """(session time at the chunk's end, 0 = ECG / 1 = audio, first, end) by end time."""
        fs, t0 = self.session.fs, float(getattr(self.session, "t0", 0.0))
        ecg = ((t0 + min(i + self.chunk, self.n_samples) / fs, 0, i, min(i + self.chunk, self.n_samples))
               for i in range(0, self.n_samples, self.chunk))
        if self.audio is None:
            return ecg
        a0 = float(getattr(self.session, "audio_t0", 0.0))
        n_audio = min(len(self.audio), max(int((t0 + self.n_samples / fs - a0) * AUDIO_FS), 0))
        audio = ((a0 + min(k + self.audio_chunk, n_audio) / AUDIO_FS, 1, k, min(k + self.audio_chunk, n_audio))
                 for k in range(0, n_audio, self.audio_chunk))
        return heapq.merge(ecg, audio)

    async def _chunks(self) -> AsyncIterator[Union[EcgChunk, AudioChunk]]:
        fs = self.session.fs
        t0 = float(getattr(self.session, "t0", 0.0))
        a0 = float(getattr(self.session, "audio_t0", 0.0))
        lead_off = getattr(self.session, "lead_off", None)
        start = self.started_at = self.clock.now()
        ecg = self.session.ecg_mv
        yielded = time.monotonic()
        for t_end, kind, i, j in self._schedule():
            if self.speed is not None:
                await self.clock.sleep_until(start + t_end / self.speed)
            elif time.monotonic() - yielded >= MAX_SPEED_YIELD_S:
                # let the publisher and UI run; not per chunk: a loop pass per 40 ms chunk was a
                # quarter of the CPU of a max-speed replay (a bounded queue downstream yields too)
                await asyncio.sleep(0)
                yielded = time.monotonic()
            if kind == 1:
                yield AudioChunk(np.asarray(self.audio[i:j]), float(AUDIO_FS), a0 + i / AUDIO_FS, i,
                                 time.monotonic())
                continue
            self.position_s = j / fs
            off = bool(lead_off[i:j].any()) if lead_off is not None else False
            yield EcgChunk(np.asarray(ecg[i:j], dtype=np.float32), fs, t0 + i / fs, i, time.monotonic(), off)
