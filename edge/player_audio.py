"""Where picks are played: a sound card (sounddevice, optional extra ``audio``), a null
output, or stdout. (MPD is in ``player_mpd``.)

``open_output("auto")`` uses the sound card when there is one; with no sounddevice package,
no PortAudio library or no output device it returns a :class:`PrintOutput` whose ``note``
says why, once. ``open_output("sounddevice")`` raises instead. ``open_output("null")`` is
the same mixer as the sound card (decoding, resampling, crossfade, started/ended events)
clocked in real time by a thread instead of a sound card: for machines without one (CI,
the benchmark) - it plays silence to nowhere, and says so.

Outputs report what happened through ``bind(emit)``: ``emit(kind, pick, position_s,
reason="", error=None)`` is called from the audio thread (it must be thread-safe; the
MQTT player hands it to its event loop).
"""
from __future__ import annotations

import importlib.util
import logging
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable, Optional, TextIO, Tuple

import numpy as np

from .._imports import import_optional
from ..errors import CardiotuneError, DataError
from .music.catalog import Catalog, uri_to_path
from .music.wav import read_wav
from .player import Crossfader, Pick, PickTrack

__all__ = ["AudioUnavailable", "PrintOutput", "SounddeviceOutput", "NullOutput", "open_output",
           "resolve_track_path", "decode_audio"]

log = logging.getLogger(__name__)

BACKENDS = ("auto", "sounddevice", "null", "print")
EmitFn = Callable[..., None]


class AudioUnavailable(CardiotuneError):
    """No usable audio output (package, PortAudio library or device missing)."""


def resolve_track_path(track: PickTrack, catalog: Optional[Callable[[], Catalog]] = None) -> Path:
    """The local audio file of a picked track: its ``file://`` URI if that file exists, else
    the same id in the demo catalog (``catalog()`` loads it). Raises DataError naming both."""
    tried = []
    if track.uri.startswith("file://"):
        path = uri_to_path(track.uri)
        if path.is_file():
            return path
        tried.append(f"{path} does not exist")
    else:
        tried.append(f"uri {track.uri!r} is not a file:// URI")
    if catalog is not None:
        cat = catalog()
        if track.id in cat and cat.by_id(track.id).path.is_file():
            return cat.by_id(track.id).path
        tried.append(f"id {track.id!r} is not in the catalog")
    raise DataError(f"cannot find audio for track {track.id!r}: " + "; ".join(tried))


def decode_audio(path: Path, samplerate: int) -> np.ndarray:
    """Mono float32 samples of ``path`` at ``samplerate``: WAV with the built-in reader, FLAC,
    OGG and MP3 with soundfile (libsndfile, extra ``audio``); resampled with a polyphase filter."""
    audio = None
    if path.suffix.lower() == ".wav":
        try:
            audio, sr = read_wav(path)
        except DataError:  # 24-bit / float WAV: libsndfile reads those
            if importlib.util.find_spec("soundfile") is None:
                raise
    if audio is None:
        try:
            sf = import_optional("soundfile", "audio", f"decoding {path.suffix} files")
        except OSError as exc:  # the package is there but libsndfile is not
            raise DataError(f"cannot decode {path}: {exc}") from None
        try:
            audio, sr = sf.read(str(path), dtype="float32", always_2d=True)
        except RuntimeError as exc:  # soundfile.LibsndfileError subclasses RuntimeError
            raise DataError(f"cannot decode {path}: {exc}") from None
    mono = audio.mean(axis=1) if audio.shape[1] > 1 else audio[:, 0]
    if sr != samplerate:
        from math import gcd

        from .dsp import resample_poly

        g = gcd(int(sr), int(samplerate))
        mono = resample_poly(mono, samplerate // g, int(sr) // g)
    return np.asarray(mono, dtype=np.float32)


class PrintOutput:
    """Prints what it would play. ``note`` (if any) explains why there is no sound. Reports
    no events (nothing plays)."""

    name = "print"

    def __init__(self, note: Optional[str] = None, stream: Optional[TextIO] = None):
        self.note = note
        self._stream = stream

    def bind(self, emit: EmitFn) -> None:
        pass

    def play(self, pick: Pick) -> None:
        why = "no audio output device" if self.note else "print backend"
        print(f"would play: {pick.describe()} \u2014 {why}", file=self._stream or sys.stdout,
              flush=True)

    def position(self) -> Tuple[Optional[Pick], float]:
        return None, 0.0

    def stop(self) -> None:
        pass

    def close(self) -> None:
        pass


class _MixerOutput:
    """Decode a pick, hand it to the :class:`Crossfader`, turn its events into player events."""

    name = "mixer"

    def __init__(self, samplerate: int, catalog: Optional[Callable[[], Catalog]],
                 stream: Optional[TextIO], fade_s: float = 0.05):
        self._catalog = catalog
        self._out = stream
        self.note: Optional[str] = None
        self.samplerate = int(samplerate)
        self.mixer = Crossfader(fade_frames=int(fade_s * samplerate))
        self._emit: Optional[EmitFn] = None

    def bind(self, emit: EmitFn) -> None:
        self._emit = emit

    def _pump(self) -> None:  # audio thread, after each block
        if self._emit is None:
            self.mixer.drain_events()
            return
        for kind, pick in self.mixer.drain_events():
            if kind == "started":
                self._emit("started", pick, 0.0)
            else:
                self._emit("ended", pick, pick.track.duration_s if pick is not None else 0.0, reason="eof")

    def play(self, pick: Pick) -> None:
        path = resolve_track_path(pick.track, self._catalog)
        mono = decode_audio(path, self.samplerate)
        self.mixer.start(mono, tag=pick)
        print(f"playing: {pick.describe()} \u2014 {path}", file=self._out or sys.stdout, flush=True)

    def position(self) -> Tuple[Optional[Pick], float]:
        tag, frames = self.mixer.position()
        return tag, frames / self.samplerate

    def stop(self) -> None:
        self.mixer.stop()


class SounddeviceOutput(_MixerOutput):
    """Plays on the default output device through one callback stream; a new pick
    cross-fades from the previous one (:class:`Crossfader`). Non-blocking."""

    name = "sounddevice"

    def __init__(self, sd: Any, samplerate: int = 22050,
                 catalog: Optional[Callable[[], Catalog]] = None,
                 stream: Optional[TextIO] = None):
        super().__init__(samplerate, catalog, stream)
        self._sd = sd

        def callback(outdata, frames, time_info, status):  # audio thread
            outdata[:, 0] = self.mixer.render(frames)
            self._pump()

        self._stream = self._sd.OutputStream(samplerate=self.samplerate, channels=1, dtype="float32",
                                             callback=callback)
        self._stream.start()

    def close(self) -> None:
        self.mixer.stop()
        self._stream.stop()
        self._stream.close()


class NullOutput(_MixerOutput):
    """The sound card's mixer, pulled by a thread at real-time pace (deadline-paced blocks of
    ``block`` frames, like a sound card's callback) and discarded: no sound anywhere."""

    name = "null"

    def __init__(self, samplerate: int = 22050, block: int = 512,
                 catalog: Optional[Callable[[], Catalog]] = None, stream: Optional[TextIO] = None):
        super().__init__(samplerate, catalog, stream)
        self.note = "null audio output: picks are decoded and mixed in real time but not heard"
        self.block = int(block)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="null-audio", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        period = self.block / self.samplerate
        deadline = time.monotonic()
        while not self._stop.is_set():
            self.mixer.render(self.block)
            self._pump()
            deadline += period
            delay = deadline - time.monotonic()
            if delay > 0:
                self._stop.wait(delay)
            elif delay < -1.0:  # fell far behind (suspended): resync instead of bursting
                deadline = time.monotonic()

    def close(self) -> None:
        self.mixer.stop()
        self._stop.set()
        self._thread.join(timeout=2.0)


def _sounddevice_or_reason(catalog: Optional[Callable[[], Catalog]]) -> Any:
    try:
        sd = import_optional("sounddevice", "audio", "audio playback")
    except CardiotuneError as exc:
        raise AudioUnavailable(str(exc)) from None
    except OSError as exc:  # the package is there but the PortAudio library is not
        raise AudioUnavailable(f"{exc} (install libportaudio2)") from None
    try:
        sd.query_devices(kind="output")
        return SounddeviceOutput(sd, catalog=catalog)
    except (sd.PortAudioError, ValueError) as exc:
        raise AudioUnavailable(f"no audio output device ({exc})") from None


def open_output(backend: str = "auto",
                catalog: Optional[Callable[[], Catalog]] = None) -> Any:
    """An output with ``play(pick)``, ``close()`` and ``note`` (why it is silent, or None)."""
    if backend not in BACKENDS:
        raise ValueError(f"backend {backend!r}: expected one of {', '.join(BACKENDS)}")
    if backend == "print":
        return PrintOutput()
    if backend == "null":
        return NullOutput(catalog=catalog)
    try:
        return _sounddevice_or_reason(catalog)
    except AudioUnavailable as exc:
        if backend == "sounddevice":
            raise
        return PrintOutput(note=f"no audio output: {exc}; printing what would play")

