"""Outputs: resolving a pick's audio, the print fallback, and the sound-card output driven
through a stand-in for the sounddevice module (there is no sound card on CI)."""
from __future__ import annotations

import io

import numpy as np
import pytest
from cardiotune.edge import player_audio
from cardiotune.edge.music import synth
from cardiotune.edge.music.catalog import Catalog, Track
from cardiotune.edge.music.wav import encode_wav
from cardiotune.edge.player import PickTrack, parse_pick

from cardiotune.errors import DataError


def _track(uri, id="proc-001"):
    return PickTrack(id, "T", 0.1, 0.2, uri, 20.0)


@pytest.fixture
def wav(tmp_path):
    x = 0.5 * np.sin(2 * np.pi * 440 * np.arange(2000) / synth.SAMPLE_RATE)
    path = tmp_path / "clip.wav"
    path.write_bytes(encode_wav(x, synth.SAMPLE_RATE))
    return path


def test_resolve_prefers_the_uri_then_the_catalog(wav, tmp_path):
    assert player_audio.resolve_track_path(_track(wav.as_uri())) == wav
    cat = Catalog([Track("proc-001", "T", 0.1, 0.2, 20.0, wav.as_uri())])
    missing = (tmp_path / "gone.wav").as_uri()
    assert player_audio.resolve_track_path(_track(missing), lambda: cat) == wav
    assert player_audio.resolve_track_path(_track("spotify:track:1"), lambda: cat) == wav
    with pytest.raises(DataError, match="gone.wav does not exist; id 'proc-999' is not in"):
        player_audio.resolve_track_path(_track(missing, id="proc-999"), lambda: cat)


def _pick(uri):
    return parse_pick(
        '{"schema": "cardiotune.pick/1", "device": "d", "seq": 0, "ts": 1, "ttl_s": 5,'
        ' "pick_id": "x", "track": {"id": "proc-001", "title": "Calm One", "valence": -0.25,'
        f' "arousal": 0.5, "uri": "{uri}", "duration_s": 20}}}}')


def test_print_output_says_what_it_would_play():
    out = io.StringIO()
    player_audio.PrintOutput(note="no device", stream=out).play(_pick("file:///x.wav"))
    assert out.getvalue() == "would play: Calm One (V=-0.25, A=+0.50) \u2014 no audio output device\n"


class FakeSd:
    """Stands in for the sounddevice module: records the stream and its callback."""

    class PortAudioError(Exception):
        pass

    def __init__(self, has_device=True):
        self.has_device = has_device
        self.streams = []

    def query_devices(self, kind=None):
        if not self.has_device:
            raise self.PortAudioError("Error querying device -1")
        return {"name": "fake", "max_output_channels": 2}

    def OutputStream(self, samplerate, channels, dtype, callback):  # noqa: N802 (sd's name)
        sd = self

        class Stream:
            def __init__(self):
                self.samplerate, self.callback, self.state = samplerate, callback, "new"
                sd.streams.append(self)

            def start(self):
                self.state = "started"

            def stop(self):
                self.state = "stopped"

            def close(self):
                self.state = "closed"

        return Stream()


def test_auto_falls_back_to_print_without_a_device(monkeypatch):
    monkeypatch.setattr(player_audio, "import_optional", lambda *a: FakeSd(has_device=False))
    out = player_audio.open_output("auto")
    assert isinstance(out, player_audio.PrintOutput)
    assert "no audio output device (Error querying device -1)" in out.note
    with pytest.raises(player_audio.AudioUnavailable, match="no audio output device"):
        player_audio.open_output("sounddevice")
    with pytest.raises(ValueError, match="expected one of auto, sounddevice, null, print"):
        player_audio.open_output("alsa")


def test_sounddevice_output_streams_the_wav(monkeypatch, wav, capsys):
    fake = FakeSd()
    monkeypatch.setattr(player_audio, "import_optional", lambda *a: fake)
    out = player_audio.open_output("auto")
    assert out.name == "sounddevice" and fake.streams[0].state == "started"
    out.play(_pick(wav.as_uri()))
    assert "playing: Calm One" in capsys.readouterr().out
    buf = np.zeros((2500, 1), dtype=np.float32)
    fake.streams[0].callback(buf, 2500, None, None)
    expected = np.round(0.5 * np.sin(2 * np.pi * 440 * np.arange(2000) / 22050) * 32767) / 32768
    np.testing.assert_allclose(buf[:2000, 0], expected, atol=1e-6)
    assert not buf[2000:].any()
    out.close()
    assert fake.streams[0].state == "closed"


def test_decode_audio_reads_flac_and_resamples(tmp_path):
    sf = pytest.importorskip("soundfile", reason="FLAC/OGG/MP3 decoding is the 'audio' extra")
    t = np.arange(44100) / 44100
    stereo = np.stack([np.sin(2 * np.pi * 441 * t), np.sin(2 * np.pi * 441 * t)], axis=1) * 0.5
    sf.write(str(tmp_path / "a.flac"), stereo, 44100)
    mono = player_audio.decode_audio(tmp_path / "a.flac", 22050)
    assert mono.dtype == np.float32 and len(mono) == 22050
    ref = 0.5 * np.sin(2 * np.pi * 441 * np.arange(22050) / 22050)
    np.testing.assert_allclose(mono[200:-200], ref[200:-200], atol=2e-3)  # filter edges aside
    (tmp_path / "bad.ogg").write_bytes(b"OggS" + bytes(100))
    with pytest.raises(DataError, match="cannot decode .*bad.ogg"):
        player_audio.decode_audio(tmp_path / "bad.ogg", 22050)
