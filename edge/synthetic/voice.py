"""A speech-like test signal: voiced syllables (~3 per second) with pauses, 16 kHz mono.

Energy and pauses like running speech, so the VAD passes most of it and the speech model
runs at its normal rate; benchmarks use it where no recording is given (the cost of the
voice chain does not depend on what is said).
"""

from __future__ import annotations

import numpy as np

__all__ = ["voiced_signal"]


def voiced_signal(seconds: float, sr: int = 16000) -> np.ndarray:
    """``seconds`` of a 140 Hz voice, 5 Hz vibrato, gated at ~3 syllables/s (float32).

    Built one second at a time: whole-signal float64 temporaries peaked at ~40x the result's
    size (75 MB for two minutes), which is what a memory benchmark must not measure."""
    out = np.empty(int(seconds * sr), dtype=np.float32)
    for start in range(0, out.size, sr):
        t = np.arange(start, min(start + sr, out.size)) / sr
        gate = np.sin(2 * np.pi * 3 * t) > -0.3
        out[start : start + t.size] = gate * 0.1 * np.sin(2 * np.pi * 140 * t) * (1 + 0.3 * np.sin(2 * np.pi * 5 * t))
    return out
