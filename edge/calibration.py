"""Per-user resting baselines: measured once (``cardiotune calibrate`` or the first
``ecg.calibration_s`` of a run), stored per user, reused on the next run.

The baseline is the median heart rate, RMSSD and SDNN of the valid HRV windows of a
resting period (:class:`~.features.BaselineTracker`); model features are log ratios to it.
Files live in ``<data dir>/users/<user>.json`` where the data dir is
``$CARDIOTUNE_DATA_DIR``, else platformdirs' user data dir for ``cardiotune``
(``~/.local/share/cardiotune`` on Linux). Writes are atomic (temp file + rename).
"""
from __future__ import annotations

import json
import logging
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Union

from cardiotune.errors import DataError

from .ecg.frontend import EcgFrontEnd
from .ecg.hrv import HrvWindower
from .features import Baseline, BaselineTracker
from .timebase import wall_time

__all__ = ["CalibrationStore", "StoredBaseline", "default_data_dir", "baseline_from_session", "CALIBRATION_SCHEMA"]

log = logging.getLogger(__name__)
CALIBRATION_SCHEMA = "cardiotune.calibration/1"
_USER = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def default_data_dir() -> Path:
    env = os.environ.get("CARDIOTUNE_DATA_DIR")
    if env:
        return Path(env).expanduser()
    try:
        import platformdirs
    except ImportError:  # a stripped-down install: the XDG default platformdirs would give on Linux
        return Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share")) / "cardiotune"
    return Path(platformdirs.user_data_dir("cardiotune", appauthor=False))


def validate_user(user: str) -> str:
    if not isinstance(user, str) or not _USER.match(user):
        raise ValueError(f"user {user!r}: expected 1-64 letters, digits, '_' or '-' (it names a file)")
    return user


@dataclass(frozen=True)
class StoredBaseline:
    user: str
    baseline: Baseline
    created: float  # UNIX time
    source: str  # what it was measured from
    duration_s: float


class CalibrationStore:
    def __init__(self, root: Optional[Union[str, Path]] = None):
        self.root = Path(root).expanduser() if root else default_data_dir()

    def path(self, user: str) -> Path:
        return self.root / "users" / f"{validate_user(user)}.json"

    def load(self, user: str) -> Optional[StoredBaseline]:
        path = self.path(user)
        if not path.is_file():
            return None
        try:
            d = json.loads(path.read_text(encoding="utf-8"))
            if d.get("schema") != CALIBRATION_SCHEMA:
                raise ValueError(f"schema {d.get('schema')!r}, expected {CALIBRATION_SCHEMA!r}")
            b = d["baseline"]
            baseline = Baseline(float(b["hr_bpm"]), float(b["rmssd_ms"]), float(b["sdnn_ms"]), int(b["n_windows"]))
            return StoredBaseline(d["user"], baseline, float(d["created"]), str(d["source"]), float(d["duration_s"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise DataError(f"calibration file {path} is damaged ({exc}); delete it or run `cardiotune calibrate` "
                            "again") from None

    def save(self, user: str, baseline: Baseline, source: str, duration_s: float) -> Path:
        path = self.path(user)
        path.parent.mkdir(parents=True, exist_ok=True)
        doc = {"schema": CALIBRATION_SCHEMA, "user": user, "created": round(wall_time(), 3), "source": source,
               "duration_s": duration_s, "baseline": baseline.to_dict()}
        fd, tmp = tempfile.mkstemp(dir=str(path.parent), prefix=".calib-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(doc, fh, indent=2)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        log.info("stored resting baseline of %s in %s", user, path)
        return path


def baseline_from_session(session, duration_s: float = 120.0, window_s: float = 20.0, hop_s: float = 1.0,
                          min_windows: int = 10) -> Baseline:
    """The resting baseline from the first ``duration_s`` of a recorded session."""
    n = min(len(session.ecg_mv), int(round(duration_s * session.fs)))
    if n < window_s * session.fs:
        raise DataError(f"calibration needs at least one {window_s:g} s window; the recording has "
                        f"{len(session.ecg_mv) / session.fs:.1f} s and {duration_s:g} s were asked for")
    frontend = EcgFrontEnd(session.fs)
    windower = HrvWindower(window_s, hop_s)
    tracker = BaselineTracker(duration_s, min_windows=min_windows)
    step = int(session.fs)  # one-second chunks, as a live source would deliver
    for i in range(0, n, step):
        out = frontend.push(session.ecg_mv[i:i + step])
        for w in windower.push(out.beats, out.t_decided, out.quality):
            tracker.update(w)
    baseline = tracker.baseline
    if baseline is None or baseline.n_windows < min_windows:
        got = 0 if baseline is None else baseline.n_windows
        raise DataError(f"calibration found {got} valid HRV windows in {duration_s:g} s (need {min_windows}): "
                        "check the electrodes and sit still")
    return baseline
