"""Sequence accounting for one stream: 16-bit counters that wrap, with exact reporting of
gaps, duplicates and reordered frames. Pure logic."""

from __future__ import annotations

from typing import List

from .frames import Duplicate, Reordered, SequenceGap, StreamRestart

__all__ = ["SequenceTracker", "SEQ_MOD", "REORDER_WINDOW"]

SEQ_MOD = 1 << 16
HALF = SEQ_MOD // 2
REORDER_WINDOW = 256  # a frame at most this far behind the newest is late, not a restart


class SequenceTracker:
    """Feed each frame's ``seq``; learn whether to deliver it and what happened.

    Forward jumps of less than half the counter space are gaps; frames up to
    ``REORDER_WINDOW`` behind the newest are duplicates (already seen) or reordered
    (not seen: the gap that counted them is reduced); anything further back is a restart.
    """

    __slots__ = (
        "stream",
        "_hi",
        "_mask",
        "_span",
        "lost",
        "gaps",
        "duplicates",
        "reordered",
        "restarts",
    )

    def __init__(self, stream: int):
        self.stream = stream
        self._hi = -1  # newest seq seen (16-bit), -1 before the first frame
        self._mask = 0  # bit k set: seq (hi - k) was seen
        self._span = 0  # how many seqs behind hi have been accounted for since the reset
        self.lost = 0  # net frames missing (gaps minus late arrivals)
        self.gaps = 0
        self.duplicates = 0
        self.reordered = 0
        self.restarts = 0

    def reset(self, seq: int) -> None:
        self._hi, self._mask, self._span = seq, 1, 0

    def push(self, seq: int, sync: bool, events: List[object]) -> bool:
        """Account for ``seq``; append events; return True when the frame should be delivered."""
        if self._hi < 0 or sync:
            if self._hi >= 0:
                self.restarts += 1
                events.append(StreamRestart(self.stream, seq, "sync flag"))
            self.reset(seq)
            return True
        d = (seq - self._hi) % SEQ_MOD
        if 0 < d < HALF:
            missing = d - 1
            if missing:
                self.gaps += 1
                self.lost += missing
                events.append(SequenceGap(self.stream, (self._hi + 1) % SEQ_MOD, seq, missing))
            self._mask = ((self._mask << d) | 1) & ((1 << REORDER_WINDOW) - 1)
            self._hi = seq
            self._span = min(self._span + d, REORDER_WINDOW)
            return True
        back = (self._hi - seq) % SEQ_MOD
        if back < REORDER_WINDOW:
            bit = 1 << back
            if self._mask & bit:
                self.duplicates += 1
                events.append(Duplicate(self.stream, seq))
                return False
            self._mask |= bit
            self.reordered += 1
            if back <= self._span:  # it was counted missing by a gap; before the reset it was not
                self.lost -= 1
            events.append(Reordered(self.stream, seq))
            return True
        self.restarts += 1
        events.append(StreamRestart(self.stream, seq, "sequence jumped back"))
        self.reset(seq)
        return True
