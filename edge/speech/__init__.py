"""Speech front-end shared by training and the device: resampling, log-mel features and
voice-activity detection in plain numpy/scipy (never librosa or torch)."""

from __future__ import annotations

from .features import LogMelConfig, hz_to_mel, log_mel, mel_filterbank, mel_to_hz, resample_to
from .vad import EnergyVad, VadConfig, speech_frames

__all__ = [
    "LogMelConfig",
    "log_mel",
    "mel_filterbank",
    "resample_to",
    "hz_to_mel",
    "mel_to_hz",
    "EnergyVad",
    "VadConfig",
    "speech_frames",
]
