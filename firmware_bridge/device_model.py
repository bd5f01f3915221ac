"""The reference firmware's behaviour as pure logic: what bytes leave the device as its
clock advances, and what it answers to control frames. The pty simulator drives it.

It mirrors firmware/ad8232_ecg: one ECG channel (stream 1), INFO on stream 0 at boot,
on GET_INFO and every ``info_period_s``; the first DATA frame after START carries SYNC.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Optional, Sequence, Tuple

import numpy as np

from .protocol import (
    AckFrame,
    AckResult,
    ChannelInfo,
    Command,
    ControlFrame,
    DataFrame,
    Decoder,
    Flags,
    InfoFrame,
    Status,
    encode,
)

__all__ = ["SimConfig", "DeviceModel", "DATA_STREAM"]

DATA_STREAM = 1
MODEL = "cardiotune-sim AD8232"
FIRMWARE = (1, 0, 0)


@dataclass
class SimConfig:
    rate_hz: float = 250.0
    samples_per_frame: int = 10
    adc_bits: int = 10
    scale_uv: float = 2.9296875  # 3.3 V / 1024 counts / gain 1100 (AD8232 board on 3.3 V)
    offset: int = 512
    noise_mv: float = 0.0  # extra white noise on top of the synthetic ECG
    seed: int = 0
    lead_off: Sequence[Tuple[float, float]] = ()  # (start s, duration s) in device time
    clock_ppm: float = 0.0  # device crystal error
    info_period_s: float = 5.0
    serial: str = "SIM-0001"
    text: bool = False  # legacy "one number per line" output instead of frames
    autostart: bool = True
    ecg_loop_s: float = 60.0
    replay_mv: Optional[np.ndarray] = field(default=None, repr=False)

    def validate(self) -> None:
        if not 50 <= self.rate_hz <= 4000:
            raise ValueError(f"rate_hz={self.rate_hz!r}: expected 50..4000 Hz")
        if not 1 <= self.samples_per_frame <= 114:
            raise ValueError(f"samples_per_frame={self.samples_per_frame!r}: expected 1..114")
        if not 8 <= self.adc_bits <= 16:
            raise ValueError(f"adc_bits={self.adc_bits!r}: expected 8..16 (int16 samples)")


def _synthetic(cfg: SimConfig) -> np.ndarray:
    from cardiotune.edge.synthetic.ecg import Phase, synthesize_session

    fs = min(max(cfg.rate_hz, 100.0), 1000.0)
    ecg = synthesize_session((Phase("sim", cfg.ecg_loop_s, 0.0, 0.0),), fs=fs, seed=cfg.seed).ecg_mv
    if fs != cfg.rate_hz:  # the generator's range is 100..1000 Hz: resample by index
        idx = np.arange(int(len(ecg) * cfg.rate_hz / fs)) * fs / cfg.rate_hz
        ecg = np.interp(idx, np.arange(len(ecg)), ecg).astype(np.float32)
    return ecg


class DeviceModel:
    def __init__(self, cfg: SimConfig):
        cfg.validate()
        self.cfg = cfg
        ecg = cfg.replay_mv if cfg.replay_mv is not None else _synthetic(cfg)
        rng = np.random.default_rng(cfg.seed + 1)
        mv = np.asarray(ecg, dtype=np.float64)
        if cfg.noise_mv > 0:
            mv = mv + rng.normal(0, cfg.noise_mv, mv.size)
        counts = np.round(mv * 1000.0 / cfg.scale_uv + cfg.offset)
        top = (1 << cfg.adc_bits) - 1
        self._saturated = (counts <= 0) | (counts >= top)
        self._counts = np.clip(counts, 0, top).astype(np.int64)
        self._rx = Decoder()
        self._seq = {0: 0, DATA_STREAM: 0}
        self._sync = {0: True, DATA_STREAM: True}
        self.streaming = False
        self._k = 0  # samples taken since START
        self._t_start = 0.0  # device time of sample 0
        self._next_info = 0.0
        self.samples_sent = 0
        if cfg.autostart:
            self.start(0.0)

    @property
    def info(self) -> InfoFrame:
        c = self.cfg
        return InfoFrame(
            MODEL,
            FIRMWARE,
            c.serial,
            int(round(c.rate_hz * 1000)),
            c.adc_bits,
            (ChannelInfo("ECG", c.scale_uv, c.offset),),
        )

    def start(self, t_dev: float) -> None:
        if not self.streaming:
            self.streaming = True
            self._k = 0
            self._t_start = t_dev
            self._sync[DATA_STREAM] = True

    def _frame(self, stream: int, frame) -> bytes:
        flags = Flags.SYNC if self._sync[stream] else 0
        self._sync[stream] = False
        seq = self._seq[stream]
        self._seq[stream] = (seq + 1) % 65536
        return encode(
            type(frame)(**{**frame.__dict__, "stream": stream, "seq": seq, "flags": flags})
        )

    def _lead_off(self, t_dev: float) -> bool:
        return any(s <= t_dev < s + d for s, d in self.cfg.lead_off)

    def advance(self, t_dev: float) -> bytes:
        """Everything the device sends up to device time ``t_dev`` (seconds since boot)."""
        c = self.cfg
        out: List[bytes] = []
        if t_dev >= self._next_info and not c.text:
            out.append(self._frame(0, self.info))
            self._next_info = t_dev + c.info_period_s
        n = c.samples_per_frame
        while self.streaming and self._t_start + (self._k + n - 1) / c.rate_hz <= t_dev:
            out.append(self._data(self._k, n))
            self._k += n
        return b"".join(out)

    def _data(self, k: int, n: int) -> bytes:
        c = self.cfg
        t0 = self._t_start + k / c.rate_hz
        pos = (self.samples_sent + np.arange(n)) % len(self._counts)
        self.samples_sent += n
        counts = self._counts[pos]
        status = Status.SATURATED if self._saturated[pos].any() else 0
        lead_off = self._lead_off(t0)
        if lead_off:  # AD8232: output swings to the rail, LO+ goes high
            counts = np.full(n, (1 << c.adc_bits) - 1)
            status |= Status.LEAD_OFF_POS | Status.SATURATED
        if c.text:
            if lead_off:
                return b"!\r\n" * n
            return b"".join(b"%d\r\n" % v for v in counts)
        frame = DataFrame(
            DATA_STREAM,
            0,
            k % 2**32,
            int(round(t0 * 1e6)) % 2**32,
            int(round(c.rate_hz * 1000)),
            tuple(int(v) for v in counts),
            status=status,
        )
        return self._frame(DATA_STREAM, frame)

    def receive(self, data: bytes, t_dev: float) -> bytes:
        """Host -> device bytes; returns the device's answers."""
        out: List[bytes] = []
        for item in self._rx.feed(data):
            if not isinstance(item, ControlFrame):
                continue
            result, value = AckResult.OK, 0
            if item.command == Command.START:
                self.start(t_dev)
            elif item.command == Command.STOP:
                self.streaming = False
            elif item.command == Command.GET_INFO:
                out.append(self._frame(0, self.info))
            elif item.command == Command.PING:
                value = item.arg
            elif item.command == Command.SET_RATE:
                result, value = AckResult.BAD_ARGUMENT, int(round(self.cfg.rate_hz * 1000))
            else:
                result = AckResult.UNSUPPORTED
            out.append(self._frame(0, AckFrame(item.command, item.seq, result, value)))
        return b"".join(out)
