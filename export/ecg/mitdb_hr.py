"""Heart rate through the real front-end vs the MIT-BIH annotation-derived rate.

For each record: the first lead (MLII) is pushed through ``EcgFrontEnd`` in 1 s chunks and
the beats through ``HrvWindower(window_s, hop_s=window_s)``; the reference is the *same*
windower fed with the annotated beats (AAMI beat symbols), so both sides use identical
windows and RR-cleaning rules and the difference isolates beat detection. Windows where
either side is not available are excluded and counted (coverage).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Dict, List

import numpy as np

from ..._imports import import_optional
from ...edge.ecg.frontend import Beat, EcgFrontEnd
from ...edge.ecg.hrv import NOT_AVAILABLE, HrvWindower
from ...errors import DataError

__all__ = ["AAMI_BEATS", "DS1_RECORDS", "record_hr_errors", "evaluate_mitdb_hr"]

AAMI_BEATS = frozenset("NLReJAaJSVEF/fQ")
DS1_RECORDS = (
    "101",
    "106",
    "108",
    "109",
    "112",
    "114",
    "115",
    "116",
    "118",
    "119",
    "122",
    "124",
    "201",
    "203",
    "205",
    "207",
    "208",
    "209",
    "215",
    "220",
    "223",
    "230",
)


def _windows_from_beats(times: np.ndarray, t_last: float, window_s: float):
    hw = HrvWindower(window_s, window_s, 0.0)
    beats = [Beat(float(t), int(round(t)), 1.0) for t in times]
    return hw.push(beats, t_last)


def record_hr_errors(mitdb_dir, record: str, window_s: float = 30.0) -> Dict:
    wfdb = import_optional("wfdb", "dev", "reading MIT-BIH (WFDB) records")
    base = Path(mitdb_dir) / record
    for ext in (".hea", ".dat", ".atr"):
        if not base.with_suffix(ext).is_file():
            raise DataError(f"MIT-BIH record {record}: expected the file {base.with_suffix(ext)}")
    rec = wfdb.rdrecord(str(base), channels=[0])
    ann = wfdb.rdann(str(base), "atr")
    fs = float(rec.fs)
    sig = rec.p_signal[:, 0]
    ok = np.array([s in AAMI_BEATS for s in ann.symbol])
    ref_t = ann.sample[ok] / fs
    fe, hw = EcgFrontEnd(fs, 0.0), HrvWindower(window_s, window_s, 0.0)
    det = []
    step = int(fs)
    for i in range(0, sig.size, step):
        out = fe.push(sig[i : i + step])
        det += hw.push(out.beats, out.t_decided)
    ref = _windows_from_beats(ref_t, sig.size / fs, window_s)
    ref_by_end = {round(w.t_end, 6): w for w in ref}
    errs, n_total = [], 0
    for w in det:
        r = ref_by_end.get(round(w.t_end, 6))
        if r is None:
            continue
        n_total += 1
        if w.quality == NOT_AVAILABLE or r.quality == NOT_AVAILABLE or not math.isfinite(w.hr_bpm):
            continue
        errs.append(w.hr_bpm - r.hr_bpm)
    e = np.abs(np.array(errs))
    return {
        "record": record,
        "n_windows": n_total,
        "n_compared": int(e.size),
        "coverage": float(e.size / n_total) if n_total else 0.0,
        "mae_bpm": float(e.mean()) if e.size else math.nan,
        "median_abs_err_bpm": float(np.median(e)) if e.size else math.nan,
        "max_abs_err_bpm": float(e.max()) if e.size else math.nan,
        "within_1bpm_fraction": float(np.mean(e <= 1.0)) if e.size else math.nan,
        "ref_mean_hr_bpm": float(np.mean([w.hr_bpm for w in ref if w.quality != NOT_AVAILABLE])),
    }


def evaluate_mitdb_hr(
    mitdb_dir, records=DS1_RECORDS, window_s: float = 30.0, progress: bool = True
) -> Dict:
    from tqdm import tqdm

    rows: List[Dict] = [
        record_hr_errors(mitdb_dir, r, window_s)
        for r in tqdm(records, desc="MIT-BIH HR", disable=not progress, leave=False)
    ]
    maes = np.array([r["mae_bpm"] for r in rows])
    return {
        "window_s": window_s,
        "records": rows,
        "median_record_mae_bpm": float(np.nanmedian(maes)),
        "mean_record_mae_bpm": float(np.nanmean(maes)),
        "records_within_1bpm": int(np.sum(maes <= 1.0)),
        "n_records": len(rows),
        "reference": "HrvWindower on annotated AAMI beats (same windows and RR cleaning)",
    }
