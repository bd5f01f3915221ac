"""Load recorded sessions from the formats people have: our ``.npz``, XDF (ours and
LabRecorder's), WFDB, EDF and CSV; optional audio from XDF or a sound file.

Everything is put on one session clock: t = 0 at the first sample of the earliest
selected stream, so ECG and audio from the same XDF file keep their true offset (pyxdf
applies LabRecorder's clock-offset chunks). ECG ends up in millivolts, audio as float
mono resampled to 16 kHz with the same polyphase code the speech features use.

Readers are optional dependencies (``cardiotune[replay]``: pyxdf, wfdb, pyedflib;
``cardiotune[audio]``: soundfile), imported only for the format asked for.
"""
from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np

from cardiotune._imports import import_optional
from cardiotune.errors import DataError

from ..session import RecordedSession, load_session
from ..speech.features import resample_to

__all__ = ["load_recording", "FORMATS", "AUDIO_RATE", "unit_scale_to_mv"]

AUDIO_RATE = 16000
FORMATS = {".npz": "npz", ".xdf": "xdf", ".xdfz": "xdf", ".hea": "wfdb", ".dat": "wfdb", ".edf": "edf",
           ".csv": "csv"}
_UNITS = {"mv": 1.0, "millivolts": 1.0, "millivolt": 1.0, "uv": 1e-3, "µv": 1e-3, "microvolts": 1e-3,
          "microvolt": 1e-3, "v": 1e3, "volts": 1e3, "volt": 1e3}
_ECG_NAMES = ("ecg", "mlii", "ekg", "lead", "ii")
_TIME_NAMES = ("t", "time", "time_s", "timestamp", "timestamps", "seconds")


def unit_scale_to_mv(unit: str, where: str) -> float:
    key = (unit or "").strip().lower()
    if key == "":
        return 1.0  # unlabelled: assume millivolts (what our recorder and most ECG files use)
    if key not in _UNITS:
        raise DataError(f"{where}: ECG unit {unit!r} is not known; expected one of mV, uV, V")
    return _UNITS[key]


def _pick_channel(labels: Sequence[str], wanted: Optional[str], where: str) -> int:
    low = [str(x).strip().lower() for x in labels]
    if wanted is not None:
        if wanted.lower() in low:
            return low.index(wanted.lower())
        raise DataError(f"{where}: no channel {wanted!r}; channels are {list(labels)}")
    for name in _ECG_NAMES:
        for i, lbl in enumerate(low):
            if name in lbl:
                return i
    return 0


def load_recording(path: Union[str, Path], *, ecg_channel: Optional[str] = None,
                   audio_path: Optional[Union[str, Path]] = None, fs: Optional[float] = None) -> RecordedSession:
    """A :class:`RecordedSession` (ECG in mV, optional ``audio`` at 16 kHz) from ``path``.

    ``fs`` is needed only for a CSV without a time column.
    """
    if str(path).startswith("builtin:"):
        session = load_session(path)
    else:
        p = Path(path)
        kind = FORMATS.get(p.suffix.lower())
        if kind is None:
            raise DataError(f"recording {p}: unknown format {p.suffix!r}; expected one of {sorted(FORMATS)}")
        if kind != "wfdb" and not p.is_file():
            raise DataError(f"recording {p} does not exist")
        if kind == "npz":
            session = load_session(p)
        elif kind == "xdf":
            session = _load_xdf(p, ecg_channel)
        elif kind == "wfdb":
            session = _load_wfdb(p, ecg_channel)
        elif kind == "edf":
            session = _load_edf(p, ecg_channel)
        else:
            session = _load_csv(p, ecg_channel, fs)
    if audio_path is not None:
        session.audio, session.audio_t0 = _load_audio_file(Path(audio_path)), 0.0
    return session


# ---------------------------------------------------------------------------- XDF
def _xdf_labels(stream) -> Tuple[List[str], List[str]]:
    try:
        chans = stream["info"]["desc"][0]["channels"][0]["channel"]
        labels = [c.get("label", [""])[0] for c in chans]
        units = [c.get("unit", [""])[0] for c in chans]
        return labels, units
    except (KeyError, IndexError, TypeError):
        n = int(stream["info"]["channel_count"][0])
        return [f"ch{i}" for i in range(n)], [""] * n


def _load_xdf(path: Path, ecg_channel: Optional[str]) -> RecordedSession:
    pyxdf = import_optional("pyxdf", "replay", "reading XDF recordings")
    try:
        streams, _ = pyxdf.load_xdf(str(path), synchronize_clocks=True, dejitter_timestamps=False)
    except Exception as exc:  # noqa: BLE001 - pyxdf raises many types for a damaged file; name the file
        raise DataError(f"XDF file {path} could not be read: {type(exc).__name__}: {exc}") from exc

    def info(s, key):
        return str(s["info"].get(key, [""])[0])

    def numeric(s):
        return info(s, "channel_format") != "string" and len(s["time_stamps"]) > 0

    ecg = [s for s in streams if numeric(s) and info(s, "type").lower() in ("ecg", "exg")]
    ecg += [s for s in streams if numeric(s) and "ecg" in info(s, "name").lower() and s not in ecg]
    if not ecg:
        found = [(info(s, "name"), info(s, "type")) for s in streams]
        raise DataError(f"XDF file {path}: no ECG stream (type ECG/EXG or 'ecg' in the name); streams: {found}")
    s = ecg[0]
    labels, units = _xdf_labels(s)
    ch = _pick_channel(labels, ecg_channel, f"XDF file {path}, stream {info(s, 'name')!r}")
    nominal = float(info(s, "nominal_srate") or 0)
    ts = np.asarray(s["time_stamps"], dtype=np.float64)
    fs = nominal if nominal > 0 else float((len(ts) - 1) / (ts[-1] - ts[0]))
    ecg_mv = np.asarray(s["time_series"], dtype=np.float64)[:, ch] * unit_scale_to_mv(
        units[ch] if ch < len(units) else "", f"XDF file {path}")
    audio = [a for a in streams if numeric(a) and info(a, "type").lower() == "audio"]
    origin = float(ts[0])
    session = RecordedSession(ecg_mv=ecg_mv.astype(np.float32), fs=fs, name=str(path))
    if audio:
        a = audio[0]
        ats = np.asarray(a["time_stamps"], dtype=np.float64)
        origin = min(origin, float(ats[0]))
        sr = float(info(a, "nominal_srate") or 0) or float((len(ats) - 1) / (ats[-1] - ats[0]))
        mono = np.asarray(a["time_series"], dtype=np.float64).mean(axis=1)
        session.audio = resample_to(mono, int(round(sr)), AUDIO_RATE)
        session.audio_t0 = float(ats[0]) - origin
    session.t0 = float(ts[0]) - origin
    return session


# ---------------------------------------------------------------------------- WFDB
def _load_wfdb(path: Path, ecg_channel: Optional[str]) -> RecordedSession:
    wfdb = import_optional("wfdb", "replay", "reading WFDB records")
    record_name = str(path.with_suffix(""))
    if not Path(record_name + ".hea").is_file():
        raise DataError(f"WFDB record {record_name}: header {record_name}.hea does not exist")
    try:
        rec = wfdb.rdrecord(record_name)
    except Exception as exc:  # noqa: BLE001 - wfdb raises bare ValueErrors etc.; name the record
        raise DataError(f"WFDB record {record_name} could not be read: {type(exc).__name__}: {exc}") from exc
    ch = _pick_channel(rec.sig_name, ecg_channel, f"WFDB record {record_name}")
    scale = unit_scale_to_mv(rec.units[ch], f"WFDB record {record_name}")
    x = np.asarray(rec.p_signal[:, ch], dtype=np.float64) * scale
    return RecordedSession(ecg_mv=x.astype(np.float32), fs=float(rec.fs), name=str(path))


# ---------------------------------------------------------------------------- EDF
def _load_edf(path: Path, ecg_channel: Optional[str]) -> RecordedSession:
    pyedflib = import_optional("pyedflib", "replay", "reading EDF recordings")
    try:
        reader = pyedflib.EdfReader(str(path))
    except OSError as exc:
        raise DataError(f"EDF file {path} could not be read: {exc}") from exc
    try:
        labels = reader.getSignalLabels()
        ch = _pick_channel(labels, ecg_channel, f"EDF file {path}")
        fs = float(reader.getSampleFrequency(ch))
        scale = unit_scale_to_mv(reader.getPhysicalDimension(ch), f"EDF file {path}, signal {labels[ch]!r}")
        x = np.asarray(reader.readSignal(ch), dtype=np.float64) * scale
    finally:
        reader.close()
    return RecordedSession(ecg_mv=x.astype(np.float32), fs=fs, name=str(path))


# ---------------------------------------------------------------------------- CSV
def _load_csv(path: Path, ecg_channel: Optional[str], fs: Optional[float]) -> RecordedSession:
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    if len(rows) < 3:
        raise DataError(f"CSV file {path}: expected a header row and at least two data rows")
    header = [h.strip() for h in rows[0]]
    try:
        data = np.array([[float(x) for x in r] for r in rows[1:] if r], dtype=np.float64)
    except ValueError as exc:
        raise DataError(f"CSV file {path}: non-numeric value ({exc}); expected a header row then numbers") from None
    if data.ndim != 2 or data.shape[1] != len(header):
        raise DataError(f"CSV file {path}: rows do not all have the {len(header)} columns of the header")
    low = [h.lower() for h in header]
    t_col = next((i for i, h in enumerate(low) if h in _TIME_NAMES), None)
    cols = [h for i, h in enumerate(header) if i != t_col]
    ch = header.index(cols[_pick_channel(cols, ecg_channel, f"CSV file {path}")])
    unit = ""
    for u in ("mv", "uv", "v"):  # e.g. "ecg_uv" or "ECG (mV)"
        if low[ch].rstrip(")").endswith(u) and low[ch] not in ("ecg",):
            unit = u
            break
    x = data[:, ch] * unit_scale_to_mv(unit, f"CSV file {path}")
    if t_col is not None:
        t = data[:, t_col]
        dt = np.diff(t)
        if not (dt > 0).all():
            raise DataError(f"CSV file {path}: column {header[t_col]!r} must increase strictly")
        if dt.max() > 1.5 * dt.min() + 1e-6:
            raise DataError(f"CSV file {path}: samples are not evenly spaced (intervals {dt.min():.6g}-"
                            f"{dt.max():.6g} s); expected a regularly sampled ECG")
        est = (len(t) - 1) / float(t[-1] - t[0])  # robust to the rounding of each printed time
        if fs is not None and abs(est - fs) > 0.01 * fs:
            raise DataError(f"CSV file {path}: time column says {est:.3f} Hz but fs={fs:g} was given")
        fs = est
    elif fs is None:
        raise DataError(f"CSV file {path}: no time column ({', '.join(_TIME_NAMES)}); give the sample rate (fs)")
    if not (fs > 0 and math.isfinite(fs)):
        raise DataError(f"CSV file {path}: sample rate {fs!r} is not a positive number")
    return RecordedSession(ecg_mv=x.astype(np.float32), fs=float(fs), name=str(path))


# ---------------------------------------------------------------------------- audio
def _load_audio_file(path: Path) -> np.ndarray:
    sf = import_optional("soundfile", "audio", "reading audio files")
    try:
        audio, sr = sf.read(str(path), dtype="float64", always_2d=True)
    except RuntimeError as exc:  # soundfile's error for unreadable files
        raise DataError(f"audio file {path} could not be read: {exc}") from exc
    # float64 kept: the same numbers the training features are computed from
    return resample_to(audio.mean(axis=1), int(sr), AUDIO_RATE)

