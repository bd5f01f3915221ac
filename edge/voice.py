"""Voice valence/arousal from microphone audio: VAD + log-mel + the speech model, streaming.

Audio chunks (16 kHz mono) go through the same numpy log-mel code as training
(:class:`~.speech.features.StreamingLogMel`) and the energy VAD with the same framing.
Every ``hop_s`` the last ``clip_s`` seconds of frames (the model's training clip length)
form one analysis window; the model runs only when at least ``min_speech_frac`` of its
frames are speech. Each window yields a :class:`~.fusion.ModalityEstimate` with the
source-clock span of the audio it came from. Audio itself goes nowhere else: this class
keeps only log-mel frames, never publishes or stores samples.
"""
from __future__ import annotations

import math
from typing import List, Optional

import numpy as np

from cardiotune.errors import DataError

from .ecg.hrv import NOT_AVAILABLE, QUESTIONABLE, VALID
from .fusion import ModalityEstimate
from .sources.base import AudioChunk
from .speech.features import StreamingLogMel
from .speech.vad import EnergyVad, VadConfig

__all__ = ["VoiceAnalyzer"]


class VoiceAnalyzer:
    """``push(AudioChunk) -> [ModalityEstimate]``; ``estimator`` is an OnnxSpeechEstimator."""

    def __init__(self, estimator, hop_s: float = 1.0, min_speech_frac: float = 0.5,
                 valid_speech_frac: float = 0.8, vad: Optional[VadConfig] = None):
        if not 0 < min_speech_frac <= valid_speech_frac <= 1:
            raise ValueError(f"min_speech_frac={min_speech_frac!r}, valid_speech_frac={valid_speech_frac!r}: "
                             "expected 0 < min <= valid <= 1")
        self.estimator = estimator
        self.cfg = estimator.feature
        self.vad_cfg = vad or VadConfig(sample_rate=self.cfg.sample_rate, frame=self.cfg.n_fft, hop=self.cfg.hop)
        if (self.vad_cfg.frame, self.vad_cfg.hop, self.vad_cfg.sample_rate) != (
                self.cfg.n_fft, self.cfg.hop, self.cfg.sample_rate):
            raise ValueError("the VAD must use the log-mel framing (frame = n_fft, same hop and sample rate)")
        self.win = estimator.n_frames
        self.hop_frames = max(int(round(hop_s * self.cfg.sample_rate / self.cfg.hop)), 1)
        self.min_speech_frac, self.valid_speech_frac = min_speech_frac, valid_speech_frac
        self.windows = self.inferences = 0
        self._reset(None)

    def _reset(self, t0: Optional[float]) -> None:
        self._mel = StreamingLogMel(self.cfg)
        self._vad = EnergyVad(self.vad_cfg)
        self._t0 = t0
        self._n_samples = 0  # samples pushed since t0
        self._n_frames = 0  # frames produced since t0
        self._buf = np.zeros((0, self.cfg.n_mels), dtype=np.float32)
        self._flags = np.zeros(0, dtype=bool)
        self._pending: List[np.ndarray] = []  # audio not yet framed (less than what the next window needs)
        self._n_pending = 0

    def push(self, chunk: AudioChunk) -> List[ModalityEstimate]:
        sr = self.cfg.sample_rate
        if abs(chunk.fs - sr) > 1e-6 * sr:
            raise DataError(f"audio chunk at {chunk.fs:g} Hz: the speech model expects {sr} Hz "
                            "(the microphone source records at 16 kHz; replays are resampled at load)")
        if self._t0 is None:
            self._reset(chunk.t_first)
        elif abs(chunk.t_first - (self._t0 + self._n_samples / sr)) > 1.5 / sr:
            self._reset(chunk.t_first)  # a gap or a restart: frames must not straddle it
        x = np.asarray(chunk.samples, dtype=np.float64).reshape(-1)
        self._n_samples += x.size
        # Frame in blocks: nothing is decided before the next window's last frame is
        # complete, so holding audio until then costs no latency and saves per-chunk work
        # (streaming log-mel and VAD give the same frames for any chunking).
        self._pending.append(x)
        self._n_pending += x.size
        k_next = self.win - 1 if self._n_frames < self.win else (
            self._n_frames + (self.hop_frames - (self._n_frames - self.win + 1) % self.hop_frames) % self.hop_frames)
        if self._n_samples < k_next * self.cfg.hop + self.cfg.n_fft:
            return []
        x = np.concatenate(self._pending) if len(self._pending) > 1 else self._pending[0]
        self._pending, self._n_pending = [], 0
        frames, flags = self._mel.push(x), self._vad.push(x)
        if len(frames) != len(flags):  # same framing by construction; a mismatch is a bug
            raise RuntimeError(f"log-mel gave {len(frames)} frames but the VAD {len(flags)}")
        start = self._n_frames - len(self._buf)  # global index of self._buf[0]
        buf = np.concatenate([self._buf, frames])
        vad = np.concatenate([self._flags, flags])
        out = []
        for k in range(self._n_frames, self._n_frames + len(frames)):
            if k + 1 >= self.win and (k + 1 - self.win) % self.hop_frames == 0:
                lo = k + 1 - self.win - start
                out.append(self._analyse(buf[lo:lo + self.win], vad[lo:lo + self.win], k))
        self._n_frames += len(frames)
        self._buf, self._flags = buf[-self.win:], vad[-self.win:]
        return out

    def _analyse(self, frames: np.ndarray, flags: np.ndarray, last: int) -> ModalityEstimate:
        self.windows += 1
        cfg = self.cfg
        t_start = self._t0 + (last + 1 - self.win) * cfg.hop / cfg.sample_rate
        t_end = self._t0 + (last * cfg.hop + cfg.n_fft) / cfg.sample_rate
        frac = float(flags.mean())
        if frac < self.min_speech_frac:
            return ModalityEstimate("voice", math.nan, math.nan, math.nan, math.nan, NOT_AVAILABLE, t_start, t_end,
                                    f"speech in {frac:.0%} of the window (< {self.min_speech_frac:.0%})")
        self.inferences += 1
        e = self.estimator.estimate(frames)
        status = VALID if frac >= self.valid_speech_frac else QUESTIONABLE
        reason = "" if status == VALID else f"speech in {frac:.0%} of the window"
        return ModalityEstimate("voice", e.valence, e.arousal, e.valence_var, e.arousal_var, status, t_start, t_end,
                                reason)
