"""Where picks are played: a sound card (sounddevice, optional extra ``audio``) or stdout.

``open_output("auto")`` uses the sound card when there is one; with no sounddevice package,
no PortAudio library or no output device it returns a :class:`PrintOutput` whose ``note``
says why, once. ``open_output("sounddevice")`` raises instead.
"""
from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any, Callable, Optional, TextIO

from .._imports import import_optional
from ..errors import CardiotuneError, DataError
from .music.catalog import Catalog, uri_to_path
from .music.wav import read_wav
from .player import Crossfader, Pick, PickTrack

__all__ = ["AudioUnavailable", "PrintOutput", "SounddeviceOutput", "open_output",
           "resolve_track_path"]

log = logging.getLogger(__name__)

BACKENDS = ("auto", "sounddevice", "print")


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
        tried.append(f"id {track.id!r} is not in the demo catalog")
    raise DataError(f"cannot find audio for track {track.id!r}: " + "; ".join(tried))


class PrintOutput:
    """Prints what it would play. ``note`` (if any) explains why there is no sound."""

    name = "print"

    def __init__(self, note: Optional[str] = None, stream: Optional[TextIO] = None):
        self.note = note
        self._stream = stream

    def play(self, pick: Pick) -> None:
        why = "no audio output device" if self.note else "print backend"
        print(f"would play: {pick.describe()} \u2014 {why}", file=self._stream or sys.stdout,
              flush=True)

    def close(self) -> None:
        pass


class SounddeviceOutput:
    """Plays mono WAVs on the default output device through one callback stream; a new
    pick cross-fades from the previous one (:class:`Crossfader`). Non-blocking."""

    name = "sounddevice"

    def __init__(self, sd: Any, samplerate: int = 22050,
                 catalog: Optional[Callable[[], Catalog]] = None,
                 stream: Optional[TextIO] = None):
        self._sd = sd
        self._catalog = catalog
        self._out = stream
        self.note: Optional[str] = None
        self.samplerate = samplerate
        self.mixer = Crossfader(fade_frames=int(0.05 * samplerate))
        self._stream = self._open(samplerate)

    def _open(self, samplerate: int) -> Any:
        def callback(outdata, frames, time_info, status):  # audio thread
            outdata[:, 0] = self.mixer.render(frames)

        stream = self._sd.OutputStream(samplerate=samplerate, channels=1, dtype="float32",
                                       callback=callback)
        stream.start()
        return stream

    def play(self, pick: Pick) -> None:
        path = resolve_track_path(pick.track, self._catalog)
        audio, sr = read_wav(path)
        mono = audio.mean(axis=1) if audio.shape[1] > 1 else audio[:, 0]
        if sr != self.samplerate:
            log.info("reopening the audio stream at %d Hz for %s", sr, path)
            self._stream.close()
            self.samplerate = sr
            self.mixer = Crossfader(fade_frames=int(0.05 * sr))
            self._stream = self._open(sr)
        self.mixer.start(mono)
        print(f"playing: {pick.describe()} \u2014 {path}", file=self._out or sys.stdout, flush=True)

    def close(self) -> None:
        self.mixer.stop()
        self._stream.stop()
        self._stream.close()


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
    try:
        return _sounddevice_or_reason(catalog)
    except AudioUnavailable as exc:
        if backend == "sounddevice":
            raise
        return PrintOutput(note=f"no audio output: {exc}; printing what would play")

