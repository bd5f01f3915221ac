"""Energy voice-activity detection with an adaptive noise floor and hangover (pure numpy).

Per frame (same framing as the log-mel features) the energy in dB is compared with a
tracked noise floor: the floor follows quiet frames quickly (down) and loud frames only
slowly (up), so speech does not drag it up. A frame is speech when its energy exceeds
``floor + margin_db`` and an absolute minimum; ``hangover_frames`` keeps the decision on
through short pauses between words. Streaming and chunk-invariant by construction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

__all__ = ["VadConfig", "EnergyVad", "speech_frames"]


@dataclass(frozen=True)
class VadConfig:
    sample_rate: int = 16000
    frame: int = 400
    hop: int = 160
    margin_db: float = 12.0  # above the noise floor
    min_db: float = -60.0  # dBFS; quieter frames are never speech
    floor_init_db: float = -70.0
    floor_up_db_per_s: float = 3.0  # how fast the floor may rise during loud stretches
    floor_down: float = 0.3  # fraction of the gap closed per frame when quieter than the floor
    hangover_frames: int = 20  # 200 ms at 10 ms hop

    def __post_init__(self) -> None:
        if self.frame <= 0 or self.hop <= 0 or self.sample_rate <= 0:
            raise ValueError(f"{self!r}: sample_rate, frame and hop must be > 0")


def _frame_db(x: np.ndarray, frame: int, hop: int) -> np.ndarray:
    frames = sliding_window_view(x, frame)[::hop]
    return 10.0 * np.log10(np.mean(frames * frames, axis=1) + 1e-12)


class EnergyVad:
    """``push(chunk) -> bool array``: one speech/non-speech decision per completed frame."""

    def __init__(self, cfg: Optional[VadConfig] = None):
        self.cfg = cfg or VadConfig()
        self._buf = np.zeros(0)
        self.floor_db = self.cfg.floor_init_db
        self._hang = 0

    def push(self, chunk) -> np.ndarray:
        cfg = self.cfg
        self._buf = np.concatenate([self._buf, np.asarray(chunk, dtype=np.float64).reshape(-1)])
        if self._buf.size < cfg.frame:
            return np.zeros(0, dtype=bool)
        db = _frame_db(self._buf, cfg.frame, cfg.hop)
        self._buf = self._buf[db.size * cfg.hop :]
        up = cfg.floor_up_db_per_s * cfg.hop / cfg.sample_rate
        out = np.zeros(db.size, dtype=bool)
        for i, e in enumerate(db):
            if e < self.floor_db:
                self.floor_db += cfg.floor_down * (e - self.floor_db)
            else:
                self.floor_db += min(up, e - self.floor_db)
            active = e > self.floor_db + cfg.margin_db and e > cfg.min_db
            if active:
                self._hang = cfg.hangover_frames
            elif self._hang > 0:
                self._hang -= 1
                active = True
            out[i] = active
        return out


def speech_frames(audio, cfg: Optional[VadConfig] = None) -> np.ndarray:
    """VAD decisions for a whole clip (one per frame, as :class:`EnergyVad`)."""
    return EnergyVad(cfg).push(audio)
