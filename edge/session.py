"""Recorded sessions in the bundled format: one ``.npz`` with the ECG and, when known,
ground-truth valence/arousal. (XDF recording and replay of XDF/WFDB/EDF/CSV come with
the edge-runtime work; this is the minimal format the demo ships.)
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Union

import numpy as np

from cardiotune.errors import DataError

__all__ = ["RecordedSession", "load_session", "save_session", "BUILTIN_DEMO", "resolve_session_path"]

DATA_DIR = Path(__file__).resolve().parent / "data"
BUILTIN_DEMO = "builtin:demo"
_UV_PER_LSB = 1.0  # ECG stored as int16 microvolts: ±32 mV range, 1 µV resolution


@dataclass
class RecordedSession:
    ecg_mv: np.ndarray
    fs: float
    va_times: Optional[np.ndarray] = None
    valence: Optional[np.ndarray] = None
    arousal: Optional[np.ndarray] = None
    phase_names: Optional[np.ndarray] = None
    phase_starts: Optional[np.ndarray] = None
    name: str = ""
    # replays of other formats (sources/files.py): all on one session clock, t = 0 at the
    # first sample of the earliest stream
    t0: float = 0.0  # session time of ecg_mv[0]
    audio: Optional[np.ndarray] = None  # mono at 16 kHz, never published
    audio_t0: float = 0.0  # session time of audio[0]
    lead_off: Optional[np.ndarray] = None  # bool per ECG sample: electrode off

    @property
    def duration_s(self) -> float:
        return len(self.ecg_mv) / self.fs

    @property
    def has_truth(self) -> bool:
        return self.va_times is not None

    def truth_at(self, t0: float, t1: float):
        """Mean true (valence, arousal) over [t0, t1), or None without ground truth."""
        if not self.has_truth:
            return None
        sel = (self.va_times >= t0) & (self.va_times < t1)
        if not sel.any():
            return None
        return float(self.valence[sel].mean()), float(self.arousal[sel].mean())

    def phase_at(self, t: float) -> str:
        if self.phase_names is None or self.phase_starts is None:
            return ""
        k = int(np.searchsorted(self.phase_starts, t, side="right")) - 1
        return str(self.phase_names[max(k, 0)])


def resolve_session_path(path: Union[str, Path]) -> Path:
    if str(path) == BUILTIN_DEMO:
        return DATA_DIR / "demo_session.npz"
    return Path(path)


def save_session(path: Path, session: RecordedSession) -> None:
    ecg_uv = np.clip(np.round(np.asarray(session.ecg_mv) * 1000.0 / _UV_PER_LSB), -32768, 32767)
    arrays = {"ecg_uv": ecg_uv.astype(np.int16), "fs": np.float64(session.fs)}
    if session.has_truth:
        arrays.update(va_times=session.va_times.astype(np.float32), valence=session.valence.astype(np.float32),
                      arousal=session.arousal.astype(np.float32))
    if session.phase_names is not None:
        arrays.update(phase_names=np.asarray(session.phase_names, dtype=str),
                      phase_starts=np.asarray(session.phase_starts, dtype=np.float64))
    np.savez_compressed(path, **arrays)


def load_session(path: Union[str, Path]) -> RecordedSession:
    """Load a session file; raises DataError naming the file and the missing key."""
    real = resolve_session_path(path)
    try:
        with np.load(real, allow_pickle=False) as z:
            missing = [k for k in ("ecg_uv", "fs") if k not in z.files]
            if missing:
                raise DataError(f"session file {real}: missing array(s) {missing}; expected 'ecg_uv' and 'fs'")
            get = lambda k: z[k] if k in z.files else None  # noqa: E731
            return RecordedSession(
                ecg_mv=z["ecg_uv"].astype(np.float32) * (_UV_PER_LSB / 1000.0), fs=float(z["fs"]),
                va_times=get("va_times"), valence=get("valence"), arousal=get("arousal"),
                phase_names=get("phase_names"), phase_starts=get("phase_starts"), name=str(path),
            )
    except FileNotFoundError:
        raise DataError(f"session file {real} does not exist") from None
    except (OSError, ValueError) as exc:
        if isinstance(exc, DataError):
            raise
        raise DataError(f"session file {real} is not a readable .npz session: {exc}") from None
