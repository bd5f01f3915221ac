"""Replay inputs: XDF (ours and LabRecorder-style, read by pyxdf), WFDB (real MIT-BIH and
a written record), EDF and CSV - all onto one session clock, ECG in millivolts."""
import struct

import numpy as np
import pytest
from cardiotune.edge.recording.xdf_writer import TAG_CLOCK_OFFSET, StreamSpec, XdfWriter, encode_chunk
from cardiotune.edge.sources.files import AUDIO_RATE, load_recording
from cardiotune.edge.speech.features import resample_to

from cardiotune.errors import DataError


def ecg_wave(fs, seconds, seed=0):
    t = np.arange(int(fs * seconds)) / fs
    return (np.sin(2 * np.pi * 1.2 * t) + 0.01 * np.random.default_rng(seed).normal(size=t.size)).astype(np.float32)


def clock_offsets(w, sid, offset, times):
    for ct in times:
        w._write(encode_chunk(TAG_CLOCK_OFFSET, struct.pack("<Idd", sid, ct, offset)))


def test_our_xdf_with_audio_keeps_the_true_offset_between_streams(tmp_path):
    path = tmp_path / "ours.xdf"
    ecg = ecg_wave(250, 10)
    rng = np.random.default_rng(3)
    mic = (0.1 * rng.normal(size=16000 * 6)).astype(np.float32)
    with XdfWriter(path) as w:
        e = w.add_stream(StreamSpec("cardiotune ECG", "ECG", 1, 250.0, "float32", "d-ecg", ("ECG",), "millivolts"))
        a = w.add_stream(StreamSpec("cardiotune audio", "Audio", 1, 16000.0, "float32", "d-audio", ("mic",)))
        w.add_stream(StreamSpec("cardiotune state", "Markers", 1, 0.0, "string", "d-state"))
        w.push(e, 5000.0 + np.arange(ecg.size) / 250, ecg.reshape(-1, 1))
        w.push(a, 5002.5 + np.arange(mic.size) / 16000, mic.reshape(-1, 1))
    s = load_recording(path)
    assert s.fs == 250.0 and s.t0 == 0.0 and s.audio_t0 == pytest.approx(2.5)
    np.testing.assert_allclose(s.ecg_mv, ecg, atol=1e-6)
    np.testing.assert_allclose(s.audio, mic, atol=1e-6)  # already 16 kHz: untouched


def test_labrecorder_style_xdf_microvolts_exg_stereo_audio_and_clock_offsets(tmp_path):
    path = tmp_path / "lab.xdf"
    fs = 500.0
    ecg_uv = ecg_wave(fs, 8) * 1000.0
    resp = np.zeros_like(ecg_uv)
    sr = 22050
    audio = 0.05 * np.sin(2 * np.pi * 220 * np.arange(sr * 4) / sr)
    with XdfWriter(path) as w:
        e = w.add_stream(StreamSpec("BioAmp", "EXG", 2, fs, "float32", "amp-123", ("Resp", "ECG"), "microvolts"))
        a = w.add_stream(StreamSpec("MyAudio", "Audio", 2, float(sr), "float32", "mic-9", ("L", "R")))
        # each device's clock differs from the recorder's: pyxdf adds these offsets
        clock_offsets(w, e, 10.0, [100.0, 104.0, 108.0])
        clock_offsets(w, a, 11.0, [100.0, 104.0, 108.0])
        w.push(e, 100.0 + np.arange(ecg_uv.size) / fs, np.stack([resp, ecg_uv], axis=1))
        w.push(a, 100.0 + np.arange(audio.size) / sr, np.stack([audio, audio], axis=1))
    s = load_recording(path)
    np.testing.assert_allclose(s.ecg_mv, ecg_uv / 1000.0, rtol=1e-5, atol=1e-5)
    assert s.t0 == 0.0 and s.audio_t0 == pytest.approx(1.0, abs=1e-6)  # audio clock runs 1 s ahead
    assert len(s.audio) == 4 * AUDIO_RATE
    np.testing.assert_allclose(s.audio, resample_to(audio.astype(np.float32), sr, AUDIO_RATE), atol=1e-6)
    picked = load_recording(path, ecg_channel="Resp")
    assert np.all(picked.ecg_mv == 0)


def test_xdf_without_ecg_names_the_streams(tmp_path):
    path = tmp_path / "none.xdf"
    with XdfWriter(path) as w:
        s = w.add_stream(StreamSpec("Pupil", "Gaze", 1, 100.0, "float32", "g"))
        w.push(s, np.arange(10) / 100.0, np.zeros((10, 1)))
    with pytest.raises(DataError, match="no ECG stream.*Pupil"):
        load_recording(path)


def test_real_mitdb_record_matches_wfdb(data_dir):
    wfdb = pytest.importorskip("wfdb")
    rec_path = data_dir / "ecg" / "mitdb" / "101"
    s = load_recording(str(rec_path) + ".hea")
    ref = wfdb.rdrecord(str(rec_path))
    assert s.fs == 360.0 and ref.sig_name[0] == "MLII"
    np.testing.assert_allclose(s.ecg_mv, ref.p_signal[:, 0], atol=1e-6)


def test_written_wfdb_record_in_microvolts_picks_the_ecg_channel(tmp_path):
    wfdb = pytest.importorskip("wfdb")
    ecg_uv = ecg_wave(200, 5).astype(np.float64) * 1000
    sig = np.stack([np.zeros_like(ecg_uv), ecg_uv], axis=1)
    wfdb.wrsamp("rec", fs=200, units=["mV", "uV"], sig_name=["resp", "ECG I"], p_signal=sig, fmt=["16", "16"],
                adc_gain=[100.0, 10.0], baseline=[0, 0], write_dir=str(tmp_path))
    s = load_recording(tmp_path / "rec.dat")
    assert s.fs == 200.0
    np.testing.assert_allclose(s.ecg_mv, ecg_uv / 1000, atol=1e-3)


def test_edf(tmp_path):
    pyedflib = pytest.importorskip("pyedflib")
    path = tmp_path / "rec.edf"
    fs = 256
    ecg_uv = ecg_wave(fs, 10).astype(np.float64) * 1000
    w = pyedflib.EdfWriter(str(path), 2, file_type=pyedflib.FILETYPE_EDFPLUS)
    w.setSignalHeaders([
        {"label": "Resp", "dimension": "uV", "sample_frequency": fs, "physical_max": 5000, "physical_min": -5000,
         "digital_max": 32767, "digital_min": -32768},
        {"label": "ECG", "dimension": "uV", "sample_frequency": fs, "physical_max": 5000, "physical_min": -5000,
         "digital_max": 32767, "digital_min": -32768},
    ])
    w.writeSamples([np.zeros_like(ecg_uv), ecg_uv])
    w.close()
    s = load_recording(path)
    assert s.fs == fs
    np.testing.assert_allclose(s.ecg_mv, ecg_uv / 1000, atol=2e-3)  # 16-bit resolution over +-5 mV


def test_csv_with_time_column_and_unit_in_the_name(tmp_path):
    path = tmp_path / "rec.csv"
    fs = 128.0
    ecg = ecg_wave(fs, 4)
    t = np.arange(ecg.size) / fs
    rows = ["time,ecg_uv"] + [f"{a:.6f},{b * 1000:.3f}" for a, b in zip(t, ecg)]
    path.write_text("\n".join(rows) + "\n")
    s = load_recording(path)
    assert s.fs == pytest.approx(fs)
    np.testing.assert_allclose(s.ecg_mv, ecg, atol=1e-5)


def test_csv_without_time_needs_fs_and_bad_values_are_named(tmp_path):
    path = tmp_path / "bare.csv"
    path.write_text("ECG\n0.1\n0.2\n0.3\n")
    with pytest.raises(DataError, match="no time column"):
        load_recording(path)
    assert load_recording(path, fs=100.0).fs == 100.0
    bad = tmp_path / "bad.csv"
    bad.write_text("t,ecg\n0,1\n0.01,x\n0.02,3\n")
    with pytest.raises(DataError, match="non-numeric"):
        load_recording(bad)


def test_unknown_format_and_missing_file_are_named(tmp_path):
    with pytest.raises(DataError, match="unknown format '.mp4'"):
        load_recording(tmp_path / "x.mp4")
    with pytest.raises(DataError, match="does not exist"):
        load_recording(tmp_path / "x.edf")
