"""Record a session to XDF: the raw ECG (or a chest strap's RR intervals) plus every
published state and pick (as JSON), all on the source clock, so a recording can be replayed
and audited."""
from __future__ import annotations

import json
import logging
from typing import Any, Dict, Optional

import numpy as np

from ..sources.base import EcgChunk, RrChunk
from .xdf_writer import StreamSpec, XdfWriter

__all__ = ["SessionRecorder"]

log = logging.getLogger(__name__)


class SessionRecorder:
    """Context manager; ``on_chunk`` / ``on_message`` never raise into the pipeline: a
    failing disk puts the recorder in an explicit error state (``error``) and live
    processing continues."""

    def __init__(self, path, device_id: str, fs: float, flush_interval_s: float = 1.0):
        self.path, self.device_id, self.fs = str(path), device_id, fs
        self._writer = XdfWriter(path, flush_interval_s=flush_interval_s)
        self._ids: Dict[str, int] = {}
        self.error: Optional[str] = None

    def __enter__(self) -> SessionRecorder:
        self._writer.__enter__()
        self._ids["ecg"] = self._writer.add_stream(StreamSpec(
            "cardiotune ECG", "ECG", 1, self.fs, "float32", f"{self.device_id}-ecg", ("ECG",), "millivolts"))
        for kind in ("state", "pick"):
            self._ids[kind] = self._writer.add_stream(StreamSpec(
                f"cardiotune {kind}", "Markers", 1, 0.0, "string", f"{self.device_id}-{kind}"))
        return self

    def __exit__(self, *exc) -> None:
        if self.error is None:
            try:
                self._writer.close()
            except OSError as err:
                self._fail(err)
        if self.error is not None:
            self._writer.abandon()  # what is on disk stays readable (`cardiotune recording repair` adds footers)

    def _fail(self, err: OSError) -> None:
        self.error = f"{type(err).__name__}: {err}"
        log.error("recording to %s stopped (%s); live processing continues", self.path, self.error)

    @property
    def state(self) -> str:
        """"recording" or "error" (explicit; reported in the status and metrics messages)."""
        return "recording" if self.error is None else "error"

    def tick(self) -> None:
        """Timer hook: flush buffered samples at least every flush interval."""
        if self.error is not None:
            return
        try:
            self._writer.maybe_flush()
        except OSError as err:
            self._fail(err)

    def on_chunk(self, chunk: EcgChunk) -> None:
        if self.error is not None:
            return
        ts = chunk.t_first + np.arange(len(chunk.samples)) / chunk.fs
        try:
            self._writer.push(self._ids["ecg"], ts, chunk.samples.reshape(-1, 1))
        except OSError as err:
            self._fail(err)

    def on_rr(self, chunk: RrChunk) -> None:
        """RR intervals from a chest strap, each stamped with the beat that ends it (an
        irregular-rate stream, added at the first intervals)."""
        if self.error is not None or not len(chunk.rr_s):
            return
        try:
            if "rr" not in self._ids:
                self._ids["rr"] = self._writer.add_stream(StreamSpec(
                    "cardiotune RR", "RR", 1, 0.0, "double64", f"{self.device_id}-rr", ("RR",), "seconds"))
            self._writer.push(self._ids["rr"], np.asarray(chunk.t_beats, dtype=float),
                              np.asarray(chunk.rr_s, dtype=np.float64).reshape(-1, 1))
        except OSError as err:
            self._fail(err)

    def on_message(self, kind: str, t: float, payload: Dict[str, Any]) -> None:
        if self.error is not None or kind not in self._ids:
            return
        try:
            self._writer.push(self._ids[kind], [t], [json.dumps(payload, separators=(",", ":"))])
        except OSError as err:
            self._fail(err)

    def on_audio(self, chunk) -> None:
        """Raw microphone audio. The runtime calls this only when the user turned
        ``voice.record_audio`` on; by default no audio ever reaches a file."""
        if self.error is not None:
            return
        try:
            if "audio" not in self._ids:
                self._ids["audio"] = self._writer.add_stream(StreamSpec(
                    "cardiotune audio", "Audio", 1, float(chunk.fs), "float32", f"{self.device_id}-audio",
                    ("microphone",), "full scale"))
            ts = chunk.t_first + np.arange(len(chunk.samples)) / chunk.fs
            self._writer.push(self._ids["audio"], ts, np.asarray(chunk.samples, dtype=np.float32).reshape(-1, 1))
        except OSError as err:
            self._fail(err)
