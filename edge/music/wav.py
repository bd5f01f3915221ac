"""16-bit PCM WAV encode / decode with the stdlib ``wave`` module (no soundfile needed)."""
from __future__ import annotations

import io
import wave
from pathlib import Path
from typing import Tuple, Union

import numpy as np

from ...errors import DataError

__all__ = ["encode_wav", "read_wav"]


def encode_wav(signal: np.ndarray, sample_rate: int) -> bytes:
    """Encode a mono float signal in [-1, 1] as the bytes of a 16-bit PCM WAV file."""
    x = np.asarray(signal, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"signal has shape {x.shape}: expected a 1-D mono signal")
    pcm = np.clip(np.round(x * 32767.0), -32768, 32767).astype("<i2")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(int(sample_rate))
        w.writeframes(pcm.tobytes())
    return buf.getvalue()


def read_wav(path: Union[str, Path]) -> Tuple[np.ndarray, int]:
    """Read a 16-bit PCM WAV as float32 of shape (frames, channels) and its sample rate."""
    try:
        with wave.open(str(path), "rb") as w:
            channels, width, rate = w.getnchannels(), w.getsampwidth(), w.getframerate()
            raw = w.readframes(w.getnframes())
    except (wave.Error, EOFError) as exc:
        raise DataError(f"{path}: not a readable WAV file ({exc})") from exc
    if width != 2:
        raise DataError(f"{path}: sample width {8 * width} bit, expected 16-bit PCM")
    pcm = np.frombuffer(raw, dtype="<i2").reshape(-1, channels)
    return pcm.astype(np.float32) / 32768.0, rate
