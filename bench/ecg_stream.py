"""Benchmark: CPU seconds per ECG-hour of the streaming front-end at several chunk sizes,
against NeuroKit2 and sleepecg (whole signal at once) on the same signal, same process.

    python bench/ecg_stream.py [--fs 250] [--hours 1] [--json out.json]
    python bench/ecg_stream.py --record $CARDIOTUNE_DATA/ecg/mitdb/119   # a real record

Needs the ``bench`` extra for the reference detectors (skipped with a note if missing);
``--record`` reads a WFDB record (first channel, whole record) with ``wfdb`` (dev extra).
``--vs REV`` also times the front-end of git revision REV (its ``edge/ecg`` modules read
with ``git show``, loaded next to the current ones) in the same process, interleaved with
the current code, and checks both report the same beats.
Process time on one core, median of ``--repeat`` runs; numbers are printed and written
to JSON, nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
import types

import numpy as np
from cardiotune.edge.ecg import EcgFrontEnd, HrvWindower, detect_beats
from cardiotune.edge.synthetic.ecg import Phase, synthesize_session


def cpu(fn, repeat):
    times = []
    for _ in range(repeat):
        t = time.process_time()
        fn()
        times.append(time.process_time() - t)
    return statistics.median(times)


def stream(x, fs, chunk, hrv=False, fe_cls=EcgFrontEnd, w_cls=HrvWindower):
    fe = fe_cls(fs)
    w = w_cls(30.0, 1.0) if hrv else None
    beats = []
    for i in range(0, x.size, chunk):
        out = fe.push(x[i : i + chunk])
        beats += out.beats
        if w is not None:
            w.push(out.beats, out.t_decided, out.quality)
    return beats


def load_revision(rev):
    """(EcgFrontEnd, HrvWindower) of ``edge/ecg`` at git revision ``rev``, as fresh modules."""
    import cardiotune.errors

    root = subprocess.run(
        ["git", "rev-parse", "--show-toplevel"], capture_output=True, text=True, check=True
    ).stdout.strip()
    pkg = "_rev_" + "".join(c for c in rev if c.isalnum())
    for name in (pkg, pkg + ".edge", pkg + ".edge.ecg"):
        mod = types.ModuleType(name)
        mod.__path__ = []
        sys.modules[name] = mod
    sys.modules[pkg + ".errors"] = cardiotune.errors
    names = ["ecg/" + n for n in ("_buffer", "filters", "quality", "frontend", "rr", "hrv")]
    probe = subprocess.run(["git", "cat-file", "-e", f"{rev}:edge/dsp.py"], cwd=root, capture_output=True)
    has_dsp = probe.returncode == 0
    for name in (["dsp"] if has_dsp else []) + names:  # edge/dsp.py (filter design) since b23fa5e
        src = subprocess.run(
            ["git", "show", f"{rev}:edge/{name}.py"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        mod = types.ModuleType(f"{pkg}.edge.{name.replace('/', '.')}")
        mod.__package__ = mod.__name__.rpartition(".")[0]
        mod.__file__ = f"{rev}:edge/{name}.py"
        sys.modules[mod.__name__] = mod
        exec(compile(src, mod.__file__, "exec"), mod.__dict__)
    ecg = pkg + ".edge.ecg."
    return sys.modules[ecg + "frontend"].EcgFrontEnd, sys.modules[ecg + "hrv"].HrvWindower


def versus(x, fs, rev, repeat):
    """Current code vs revision ``rev``: interleaved runs, min process time of each."""
    old_fe, old_w = load_revision(rev)
    rows = {}
    for ms, hrv in ((10, False), (40, False), (1000, False), (40, True)):
        chunk = max(int(round(ms / 1000 * fs)), 1)
        best = {"current": float("inf"), rev: float("inf")}
        for _ in range(repeat):
            for name, fe_cls, w_cls in (("current", EcgFrontEnd, HrvWindower), (rev, old_fe, old_w)):
                t = time.process_time()
                stream(x, fs, chunk, hrv, fe_cls, w_cls)
                best[name] = min(best[name], time.process_time() - t)
        label = f"stream {ms} ms chunks" + (" + quality + HRV 30 s/1 s" if hrv else "")
        rows[label] = {**best, "speed_up": best[rev] / best["current"]}
    chunk = int(round(0.04 * fs))
    same = [b.sample for b in stream(x, fs, chunk)] == [
        b.sample for b in stream(x, fs, chunk, fe_cls=old_fe)
    ]
    return rows, same


def load_signal(a):
    """(samples, fs, hours, description) of the synthetic session or of ``--record``."""
    if a.record:
        import wfdb

        rec = wfdb.rdrecord(a.record, channels=[0])
        x = rec.p_signal[:, 0].astype(np.float64)
        return x, float(rec.fs), x.size / rec.fs / 3600.0, f"record {a.record}"
    phases = (Phase("rest", a.hours * 1800, 0.2, -0.5), Phase("stress", a.hours * 1800, -0.4, 0.6))
    s = synthesize_session(phases, fs=a.fs, seed=7)
    return s.ecg_mv.astype(np.float64), s.fs, a.hours, "synthetic ECG"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fs", type=float, default=250.0)
    ap.add_argument("--hours", type=float, default=1.0)
    ap.add_argument("--record", default=None, help="WFDB record path (e.g. .../mitdb/119)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", default=None)
    ap.add_argument("--vs", metavar="REV", help="also time edge/ecg of this git revision")
    a = ap.parse_args()
    x, fs, hours, what = load_signal(a)
    fe = EcgFrontEnd(fs)
    res = {
        "signal": what,
        "fs": fs,
        "ecg_hours": hours,
        "decision_delay_s": fe.decision_delay_s,
        "s_per_ecg_hour": {},
    }
    r = res["s_per_ecg_hour"]
    r["cardiotune batch (detect_beats)"] = cpu(lambda: detect_beats(x, fs), a.repeat) / hours
    for ms in (10, 40, 100, 1000):
        chunk = max(int(round(ms / 1000 * fs)), 1)
        r[f"cardiotune stream {ms} ms chunks"] = (
            cpu(lambda c=chunk: stream(x, fs, c), a.repeat) / hours
        )
    r["cardiotune stream 40 ms + quality + HRV 30 s/1 s"] = (
        cpu(lambda: stream(x, fs, int(0.04 * fs), hrv=True), 1) / hours
    )
    try:
        import neurokit2 as nk

        r["neurokit2 ecg_clean+ecg_peaks (whole)"] = (
            cpu(
                lambda: nk.ecg_peaks(nk.ecg_clean(x, sampling_rate=int(fs)), sampling_rate=int(fs)),
                a.repeat,
            )
            / hours
        )
    except ImportError:
        res["note_neurokit2"] = "not installed: pip install 'cardiotune[bench]'"
    try:
        import sleepecg

        r["sleepecg detect_heartbeats (whole)"] = (
            cpu(lambda: sleepecg.detect_heartbeats(x, fs), a.repeat) / hours
        )
    except ImportError:
        res["note_sleepecg"] = "not installed: pip install 'cardiotune[bench]'"
    nk_s = r.get("neurokit2 ecg_clean+ecg_peaks (whole)")
    sl_s = r.get("sleepecg detect_heartbeats (whole)")
    print(f"{hours:.3g} h of {what} at {fs:g} Hz")
    print(
        f"decision delay {1000 * fe.decision_delay_s:.0f} ms "
        "(R apex -> reporting push; a chunk adds its own length)"
    )
    print(f"process time per ECG-hour, median of {a.repeat}")
    for k, v in r.items():
        ratios = ""
        if nk_s:
            ratios += f"  {v / nk_s:6.2f}x neurokit2"
        if sl_s:
            ratios += f"  {v / sl_s:7.1f}x sleepecg"
        print(f"  {k:<48} {v:7.3f} s  ({3600 / v:>9,.0f}x real time){ratios}")
    if a.vs:
        rows, same = versus(x, fs, a.vs, a.repeat)
        res["versus"] = {"revision": a.vs, "s_per_ecg_hour": {}, "same_beats_40ms": same}
        print(f"same process, interleaved, min of {a.repeat}: current vs {a.vs}")
        for label, v in rows.items():
            res["versus"]["s_per_ecg_hour"][label] = {k: (s / hours if k != "speed_up" else s)
                                                      for k, s in v.items()}
            print(
                f"  {label:<48} {v['current'] / hours:7.3f} s vs {v[a.vs] / hours:7.3f} s"
                f"  ({v['speed_up']:.2f}x faster)"
            )
        print(f"  same beats at 40 ms chunks: {same}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=2)
        print(f"wrote {a.json}")


if __name__ == "__main__":
    main()
