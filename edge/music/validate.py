"""Measure the demo catalog: generation time (cold cache vs warm cache, same run) and the
rank correlations between audio descriptors and the intended valence / arousal.

    python -m cardiotune.edge.music.validate [--json out.json]
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from typing import Any, Dict, List, Optional

import numpy as np

from .catalog import load_demo_catalog
from .descriptors import describe, spearman
from .wav import read_wav


def measure() -> Dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="cardiotune-catalog-") as tmp:
        t0 = time.perf_counter()
        cpu0 = time.process_time()
        catalog = load_demo_catalog(tmp)
        cold_s, cold_cpu_s = time.perf_counter() - t0, time.process_time() - cpu0
        t0 = time.perf_counter()
        load_demo_catalog(tmp)
        warm_s = time.perf_counter() - t0
        rows = []
        for track in catalog:
            x, sr = read_wav(track.path)
            rows.append(describe(x[:, 0], sr))
    va = catalog.va_array()
    major = np.array([t.params["mode"] == "major" for t in catalog])
    out: Dict[str, Any] = {
        "n_tracks": len(catalog),
        "generate_cold_s": round(cold_s, 3),
        "generate_cold_cpu_s": round(cold_cpu_s, 3),
        "load_warm_s": round(warm_s, 4),
        "spearman": {},
    }
    for key in rows[0]:
        vals = np.array([r[key] for r in rows])
        out["spearman"][key] = {"arousal": round(spearman(vals, va[:, 1]), 3),
                                "valence": round(spearman(vals, va[:, 0]), 3)}
    ms = np.array([r["mode_score"] for r in rows])
    out["mode_accuracy"] = round(float(np.mean((ms > 0) == major)), 3)
    return out


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", help="also write the numbers to this file")
    args = parser.parse_args(argv)
    result = measure()
    print(f"{result['n_tracks']} tracks: cold generation {result['generate_cold_s']:.2f} s wall "
          f"({result['generate_cold_cpu_s']:.2f} s CPU), warm load {result['load_warm_s']:.3f} s")
    for key, rho in result["spearman"].items():
        print(f"  {key:12s} Spearman vs arousal {rho['arousal']:+.3f}  vs valence {rho['valence']:+.3f}")
    print(f"  mode_score > 0 matches the intended mode for {100 * result['mode_accuracy']:.0f} % of tracks")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
