"""``cardiotune eval rpeaks --db DIR``: score the streaming R-peak detector on WFDB records.

Per record and gross: sensitivity, positive predictivity, F1 (AAMI beat types,
+-150 ms), timing error (mean +- sd, median |e|, ms), CPU seconds per ECG-hour for the
batch API and for the streaming API at ``--chunk-ms`` chunks. ``--compare`` runs
NeuroKit2 and sleepecg on the same records in the same process; ``--snr`` repeats the
accuracy run with seeded noise added (see ``cardiotune.edge.ecg.noise``).
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from pathlib import Path
from typing import Callable, Dict, List

import numpy as np

from ..errors import DataError

log = logging.getLogger(__name__)


def register(sub):
    p = sub.add_parser(
        "rpeaks", help="R-peak detection accuracy and speed on WFDB records (e.g. MIT-BIH)"
    )
    p.add_argument(
        "--db", default=None, help="WFDB directory (default: $CARDIOTUNE_DATA/ecg/mitdb)"
    )
    p.add_argument(
        "--records", nargs="*", default=None, help="record names (default: every .hea in --db)"
    )
    p.add_argument(
        "--minutes", type=float, default=None, help="use only the first N minutes of each record"
    )
    p.add_argument(
        "--chunk-ms", type=float, default=40.0, help="chunk length for the streaming run (ms)"
    )
    p.add_argument("--tolerance-ms", type=float, default=150.0)
    p.add_argument(
        "--compare", action="store_true", help="also run NeuroKit2 and sleepecg (extra: bench)"
    )
    p.add_argument(
        "--snr",
        type=float,
        nargs="*",
        default=None,
        metavar="DB",
        help="also score with added noise at these SNRs (e.g. 24 12 6 0)",
    )
    p.add_argument("--noise-seed", type=int, default=0)
    p.add_argument(
        "--noise-kind",
        nargs="*",
        default=None,
        metavar="KIND",
        help="add only these kinds (bw em ma pl; equal power) instead of the NST-like mix",
    )
    p.add_argument("--json", default=None, help="write every number to this JSON file")
    p.add_argument(
        "--hrv",
        action="store_true",
        help="also score 30 s HRV windows (quality labels, HR/RMSSD error) per condition",
    )
    p.add_argument(
        "--include-vf",
        action="store_true",
        help="also score inside ventricular flutter/fibrillation episodes ([ to ]), which "
        "EC57/bxb exclude from QRS statistics (default: excluded, as in bxb)",
    )
    p.set_defaults(func=run)


# ------------------------------------------------------------------ data loading
def _db_dir(arg) -> Path:
    if arg:
        d = Path(arg)
    else:
        root = os.environ.get("CARDIOTUNE_DATA")
        if not root:
            raise DataError(
                "--db not given and CARDIOTUNE_DATA is unset: expected a WFDB directory"
            )
        d = Path(root) / "ecg" / "mitdb"
    if not d.is_dir():
        raise DataError(f"--db {d}: not a directory (expected WFDB .hea/.dat/.atr files)")
    return d


def load_record(db: Path, name: str, minutes=None):
    """First channel (physical units), fs, AAMI reference beat samples, VF/flutter episodes (s)."""
    from .._imports import import_optional
    from ..edge.ecg.scoring import AAMI_BEAT_SYMBOLS

    wfdb = import_optional("wfdb", "dev", "reading WFDB records")
    sampto = None
    if minutes:
        fs = wfdb.rdheader(str(db / name)).fs
        sampto = int(minutes * 60 * fs)
    rec = wfdb.rdrecord(str(db / name), channels=[0], sampto=sampto)
    ann = wfdb.rdann(str(db / name), "atr", sampto=sampto)
    ref = np.array(
        [s for s, sym in zip(ann.sample, ann.symbol) if sym in AAMI_BEAT_SYMBOLS], dtype=np.int64
    )
    fs = float(rec.fs)
    vf, start = [], None
    for s, sym in zip(ann.sample, ann.symbol):
        if sym == "[":
            start = s
        elif sym == "]" and start is not None:
            vf.append((start / fs, s / fs))
            start = None
    if start is not None:
        vf.append((start / fs, rec.p_signal.shape[0] / fs))
    return rec.p_signal[:, 0].astype(np.float64), fs, ref, vf


# -------------------------------------------------------------------- detectors
def _ours_batch(x, fs):
    from ..edge.ecg.frontend import detect_beats

    return detect_beats(x, fs)


def _ours_stream(x, fs, chunk):
    from ..edge.ecg.frontend import EcgFrontEnd

    fe = EcgFrontEnd(fs, quality=False)
    settled = int(2 * fe.LEARN_S * fs)  # the first beats wait for threshold learning
    out, delays = [], []
    for i in range(0, x.size, chunk):
        res = fe.push(x[i : i + chunk])
        for b in res.beats:
            out.append(b.sample)
            if b.sample > settled:
                delays.append((res.n_samples - b.sample) / fs)
    return np.asarray(out, dtype=np.int64), np.asarray(delays)


def _neurokit(x, fs):
    nk = _opt("neurokit2")
    clean = nk.ecg_clean(x, sampling_rate=int(fs))
    _, info = nk.ecg_peaks(clean, sampling_rate=int(fs))
    return np.asarray(info["ECG_R_Peaks"], dtype=np.int64)


def _sleepecg(x, fs):
    return np.asarray(_opt("sleepecg").detect_heartbeats(x, fs), dtype=np.int64)


def _opt(module):
    from .._imports import import_optional

    return import_optional(module, "bench", f"eval rpeaks --compare ({module})")


def _cpu(fn: Callable, *a):
    t = time.process_time()
    r = fn(*a)
    return r, time.process_time() - t


# ---------------------------------------------------------------------- running
def evaluate(
    db: Path,
    records: List[str],
    minutes=None,
    chunk_ms=40.0,
    tol_ms=150.0,
    compare=False,
    snrs=None,
    noise_seed=0,
    exclude_vf=True,
    hrv=False,
    noise_kinds=None,
) -> dict:
    from ..edge.ecg.noise import NOISE_KINDS, add_noise

    bad = sorted(set(noise_kinds or ()) - set(NOISE_KINDS))
    if bad:
        raise DataError(f"--noise-kind {' '.join(bad)}: expected some of {' '.join(NOISE_KINDS)}")
    kinds = {k: 1.0 for k in noise_kinds} if noise_kinds else None
    from ..edge.ecg.scoring import gross, match_beats

    dets: Dict[str, Callable] = {"cardiotune": _ours_batch}
    if compare:
        _opt("neurokit2"), _opt("sleepecg")  # fail fast, naming the extra
        dets.update({"neurokit2": _neurokit, "sleepecg": _sleepecg})
    tqdm = _tqdm()
    result: dict = {
        "records": records,
        "tolerance_ms": tol_ms,
        "chunk_ms": chunk_ms,
        "exclude_vf": exclude_vf,
        "clean": {},
        "noise": {},
        "noise_kinds": sorted(kinds) if kinds else "mix",
    }
    scores: Dict[str, list] = {k: [] for k in dets}
    cpu: Dict[str, float] = {k: 0.0 for k in list(dets) + ["cardiotune-stream"]}
    hours = 0.0
    per_record = []
    max_delay, stream_equal = 0.0, True
    hrv_acc = _new_acc()
    for name in tqdm(records, desc="eval rpeaks (clean)", unit="rec"):
        x, fs, ref, vf = load_record(db, name, minutes)
        excl = vf if exclude_vf else []
        hours += x.size / fs / 3600.0
        row = {
            "record": name,
            "fs": fs,
            "beats": int(ref.size),
            "excluded_vf_s": sum(b - a for a, b in excl),
        }
        for k, fn in dets.items():
            det, sec = _cpu(fn, x, fs)
            cpu[k] += sec
            s = match_beats(ref / fs, det / fs, tol_ms / 1000.0, excl)
            scores[k].append(s)
            row[k] = s.as_dict()
            if k == "cardiotune":
                batch = det
        chunk = max(int(round(chunk_ms / 1000.0 * fs)), 1)
        (stream, delays), sec = _cpu(_ours_stream, x, fs, chunk)
        cpu["cardiotune-stream"] += sec
        stream_equal &= bool(np.array_equal(stream, batch[: stream.size]))
        if delays.size:
            max_delay = max(max_delay, float(delays.max()))
        if hrv:
            _hrv_check(x, fs, ref, excl, hrv_acc)
        per_record.append(row)
    result["clean"] = {
        "per_record": per_record,
        "gross": {k: gross(v).as_dict() for k, v in scores.items()},
        "cpu_s": cpu,
        "cpu_s_per_ecg_hour": {k: v / hours for k, v in cpu.items()},
        "ecg_hours": hours,
        "stream_max_delay_s": max_delay,
        "stream_equals_batch": stream_equal,
    }
    if hrv:
        result["clean"]["hrv_windows"] = _hrv_summary(hrv_acc)
    for snr in snrs or []:
        nscores: Dict[str, list] = {k: [] for k in dets}
        hrv_acc = _new_acc()
        for name in tqdm(records, desc=f"eval rpeaks ({snr:g} dB)", unit="rec"):
            x, fs, ref, vf = load_record(db, name, minutes)
            excl = vf if exclude_vf else []
            seed = noise_seed * 100003 + int(name) if name.isdigit() else noise_seed
            noisy = add_noise(x, fs, snr, ref, kinds=kinds, seed=seed, mains_hz=60.0)
            for k, fn in dets.items():
                nscores[k].append(match_beats(ref / fs, fn(noisy, fs) / fs, tol_ms / 1000.0, excl))
            if hrv:
                _hrv_check(noisy, fs, ref, excl, hrv_acc)
        result["noise"][f"{snr:g}"] = {k: gross(v).as_dict() for k, v in nscores.items()}
        if hrv:
            result["noise"][f"{snr:g}"]["hrv_windows"] = _hrv_summary(hrv_acc)
    return result


def _hrv_check(x, fs, ref, excl, acc):
    """Our streaming HRV windows (30 s, hop 5 s) vs the same windows from the annotations."""
    from ..edge.ecg.batch import analyze, reference_windows

    ours = analyze(x, fs, 30.0, 5.0).windows
    refw = reference_windows(ref / fs, x.size / fs, 30.0, 5.0)
    for o, r in zip(ours, refw):
        if r.quality == "not-available" or any(a < o.t_end and b > o.t_start for a, b in excl):
            continue
        acc["windows"] += 1
        acc[o.quality] += 1
        if o.quality == "valid":
            acc["d_hr"].append(abs(o.hr_bpm - r.hr_bpm))
            acc["d_rmssd"].append(abs(o.rmssd_ms - r.rmssd_ms))
        elif o.quality == "questionable":
            acc["q_rmssd"].append(abs(o.rmssd_ms - r.rmssd_ms))


def _hrv_summary(acc) -> dict:
    n = max(acc["windows"], 1)
    d_hr, d_rm, q_rm = (np.asarray(acc[k]) for k in ("d_hr", "d_rmssd", "q_rmssd"))
    return {
        "windows": acc["windows"],
        "valid": acc["valid"] / n,
        "questionable": acc["questionable"] / n,
        "not_available": acc["not-available"] / n,
        "valid_median_abs_dhr_bpm": float(np.median(d_hr)) if d_hr.size else math.nan,
        "valid_median_abs_drmssd_ms": float(np.median(d_rm)) if d_rm.size else math.nan,
        "valid_p90_abs_drmssd_ms": float(np.percentile(d_rm, 90)) if d_rm.size else math.nan,
        "questionable_median_abs_drmssd_ms": float(np.median(q_rm)) if q_rm.size else math.nan,
        "valid_with_dhr_over_5bpm": float(np.mean(d_hr > 5.0)) if d_hr.size else math.nan,
    }


def _new_acc():
    return {
        "windows": 0,
        "valid": 0,
        "questionable": 0,
        "not-available": 0,
        "d_hr": [],
        "d_rmssd": [],
        "q_rmssd": [],
    }


def _tqdm():
    try:
        from tqdm import tqdm

        return tqdm
    except ImportError:
        return lambda it, **kw: it


# ---------------------------------------------------------------------- printing
def _pct(v):
    return "   n/a" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{100 * v:6.2f}"


def _line(label, d):
    t = d["timing_ms"]
    return (
        f"{label:<12} {d['tp']:>6} {d['fn']:>5} {d['fp']:>5} "
        f"{_pct(d['se'])} {_pct(d['ppv'])} {_pct(d['f1'])}"
        f"  {t['mean']:6.1f} ± {t['sd']:5.1f}  {t['median_abs']:5.1f}"
    )


HEADER = (
    f"{'':<12} {'TP':>6} {'FN':>5} {'FP':>5} {'Se%':>6} {'PPV%':>6} {'F1%':>6}"
    f"  {'err mean ± sd ms':>16}  {'|e|med':>6}"
)


def format_report(r: dict) -> str:
    clean = r["clean"]
    dets = list(clean["gross"])
    out = [
        f"R-peak detection, {len(r['records'])} records, {clean['ecg_hours']:.2f} ECG-hours, "
        f"±{r['tolerance_ms']:g} ms, AAMI beats"
        + (
            ", VF/flutter episodes excluded (EC57/bxb)"
            if r["exclude_vf"]
            else ", VF/flutter included"
        ),
        "",
        "per record (cardiotune, streaming detector"
        + ("; F1 % of the references on the right):" if len(dets) > 1 else "):"),
        HEADER + "".join(f" {k[:9]:>9}" for k in dets[1:]),
    ]
    for row in clean["per_record"]:
        refs = "".join(f" {_pct(row[k]['f1']):>9}" for k in dets[1:])
        out.append(_line(row["record"], row["cardiotune"]) + refs)
    out += ["", "gross:", HEADER] + [_line(k, clean["gross"][k]) for k in dets]
    cph = clean["cpu_s_per_ecg_hour"]
    out += ["", "CPU seconds per ECG-hour (one core, process time):"]
    for k, v in cph.items():
        extra = ""
        if "neurokit2" in cph and k.startswith("cardiotune"):
            extra += f"   ratio vs neurokit2 {v / cph['neurokit2']:.2f}x"
        if "sleepecg" in cph and k.startswith("cardiotune"):
            extra += f"   vs sleepecg {v / cph['sleepecg']:.1f}x"
        label = k + (f" ({r['chunk_ms']:g} ms chunks)" if k.endswith("stream") else "")
        out.append(
            f"  {label:<34} {v:8.3f}  ({3600.0 / v if v > 0 else math.inf:,.0f}x real time){extra}"
        )
    out.append(
        f"  streaming beats identical to batch: {clean['stream_equals_batch']}; "
        f"max report delay after learning {1000 * clean['stream_max_delay_s']:.0f} ms "
        f"(R apex to the end of the chunk that reports it, incl. the {r['chunk_ms']:g} ms chunk)"
    )
    if len(dets) > 1:
        f1 = {k: clean["gross"][k]["f1"] for k in dets}
        best = max(f1[k] for k in dets if k != "cardiotune")
        out.append(
            f"  gross F1 cardiotune {_pct(f1['cardiotune'])} % vs best reference {_pct(best)} %"
        )
    rows = [("clean", clean.get("hrv_windows"))]
    rows += [(f"{k} dB", v.get("hrv_windows")) for k, v in r["noise"].items()]
    if any(h for _, h in rows):
        out += [
            "",
            "HRV windows (30 s, hop 5 s, streaming) vs the same windows from the annotations"
            + (f" (noise: {_kinds_label(r)})" if r["noise"] else "")
            + ":",
            f"{'':>8} {'windows':>8} {'valid':>7} {'quest.':>7} {'n/a':>7}"
            f" {'|dHR| bpm':>10} {'|dRMSSD| ms':>12} {'p90':>6} {'valid, |dHR|>5':>15}"
            f" {'quest. |dRMSSD|':>16}",
        ]
        for label, h in rows:
            if h:
                shares = " ".join(
                    f"{_pct(h[k]):>7}" for k in ("valid", "questionable", "not_available")
                )
                out.append(
                    f"{label:>8} {h['windows']:>8} {shares} {h['valid_median_abs_dhr_bpm']:>10.2f}"
                    f" {h['valid_median_abs_drmssd_ms']:>12.1f}"
                    f" {h['valid_p90_abs_drmssd_ms']:>6.1f}"
                    f" {_pct(h['valid_with_dhr_over_5bpm']):>14}%"
                    f" {h['questionable_median_abs_drmssd_ms']:>16.1f}"
                )
    if r["noise"]:
        out += [
            "",
            f"added noise ({_kinds_label(r)}, NST SNR), gross F1 %:",
            f"{'SNR dB':>8} " + " ".join(f"{k:>11}" for k in dets),
        ]
        for snr, g in r["noise"].items():
            line = f"{snr:>8} " + " ".join(f"{_pct(g[k]['f1']):>11}" for k in dets)
            out.append(line)
    return "\n".join(out)


def _kinds_label(r: dict) -> str:
    k = r.get("noise_kinds", "mix")
    return "bw+em+ma+pl mix" if k == "mix" else "+".join(k) + ", equal power"


def run(args) -> int:
    db = _db_dir(args.db)
    records = args.records or sorted(p.stem for p in db.glob("*.hea"))
    if not records:
        raise DataError(f"--db {db}: no .hea records found")
    r = evaluate(
        db,
        records,
        args.minutes,
        args.chunk_ms,
        args.tolerance_ms,
        args.compare,
        args.snr,
        args.noise_seed,
        not args.include_vf,
        args.hrv,
        args.noise_kind,
    )
    print(format_report(r))
    if args.json:
        Path(args.json).write_text(json.dumps(r, indent=2, default=float))
        print(f"\nwrote {args.json}")
    return 0
