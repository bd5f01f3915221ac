"""``cardiotune catalog show``: statistics and the catalog on the valence/arousal plane.

Writes a PNG (matplotlib, Agg) and a self-contained HTML page: inline SVG, one circle per
track with its title/artist/VA as a hover tooltip, a few lines of inline JS to filter by
text; no external scripts, fonts or CDNs, so it opens offline.
"""
from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any, Dict, List, Optional, Union

import numpy as np

from cardiotune._imports import import_optional
from cardiotune.errors import DataError

from .db import SCHEMA_VERSION, open_db

__all__ = ["catalog_stats", "plot_png", "write_html", "load_points"]

_COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]


def load_points(db_path: Union[str, Path]) -> List[Dict[str, Any]]:
    if not Path(db_path).is_file():
        raise DataError(f"catalog database {db_path}: file not found")
    db = open_db(db_path)
    try:
        return [dict(r) for r in db.execute(
            "SELECT id, title, artist, valence, arousal, valence_sd, arousal_sd, source, model, duration_s "
            "FROM tracks ORDER BY id")]
    finally:
        db.close()


def catalog_stats(db_path: Union[str, Path]) -> Dict[str, Any]:
    pts = load_points(db_path)
    db = open_db(db_path)
    try:
        problems = [dict(r) for r in db.execute("SELECT source, COUNT(*) AS n FROM problems GROUP BY source")]
        n_seg = db.execute("SELECT COUNT(*) FROM segments").fetchone()[0]
        meta = {r["key"]: r["value"] for r in db.execute("SELECT key, value FROM meta")}
    finally:
        db.close()
    out: Dict[str, Any] = {"db": str(db_path), "schema_version": SCHEMA_VERSION, "tracks": len(pts),
                           "segments": n_seg, "problems": {p["source"]: p["n"] for p in problems},
                           "last_model": meta.get("model"), "by_source": {}}
    for src in sorted({p["source"] for p in pts}):
        sel = [p for p in pts if p["source"] == src]
        va = np.array([[p["valence"], p["arousal"]] for p in sel])
        sd = np.array([[p["valence_sd"], p["arousal_sd"]] for p in sel if p["valence_sd"] is not None])
        quad = {"V+A+": int(((va[:, 0] >= 0) & (va[:, 1] >= 0)).sum()),
                "V-A+": int(((va[:, 0] < 0) & (va[:, 1] >= 0)).sum()),
                "V-A-": int(((va[:, 0] < 0) & (va[:, 1] < 0)).sum()),
                "V+A-": int(((va[:, 0] >= 0) & (va[:, 1] < 0)).sum())}
        out["by_source"][src] = {
            "tracks": len(sel),
            "valence_mean": round(float(va[:, 0].mean()), 3), "valence_sd": round(float(va[:, 0].std()), 3),
            "arousal_mean": round(float(va[:, 1].mean()), 3), "arousal_sd": round(float(va[:, 1].std()), 3),
            "mean_uncertainty_sd": None if not len(sd) else [round(float(x), 3) for x in sd.mean(0)],
            "quadrants": quad, "models": sorted({p["model"] for p in sel}),
        }
    return out


def plot_png(points: List[Dict[str, Any]], out: Union[str, Path], title: str = "catalog") -> Path:
    mpl = import_optional("matplotlib", "server", "drawing the catalog")
    mpl.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 6.4), dpi=110)
    sources = sorted({p["source"] for p in points})
    for i, src in enumerate(sources):
        sel = [p for p in points if p["source"] == src]
        va = np.array([[p["valence"], p["arousal"]] for p in sel])
        ax.scatter(va[:, 0], va[:, 1], s=14 if len(sel) < 200 else 5, alpha=0.7, color=_COLORS[i % len(_COLORS)],
                   label=f"{src} ({len(sel)})")
        if len(sel) <= 60:  # small sets: show each track's uncertainty as an error bar
            sd = np.array([[p["valence_sd"] or 0, p["arousal_sd"] or 0] for p in sel])
            ax.errorbar(va[:, 0], va[:, 1], xerr=sd[:, 0], yerr=sd[:, 1], fmt="none", lw=0.6, alpha=0.4,
                        color=_COLORS[i % len(_COLORS)])
    ax.axhline(0, color="0.7", lw=0.8)
    ax.axvline(0, color="0.7", lw=0.8)
    ax.set(xlim=(-1.05, 1.05), ylim=(-1.05, 1.05), xlabel="valence", ylabel="arousal", title=title)
    ax.set_aspect("equal")
    ax.legend(loc="lower right", fontsize=8)
    out = Path(out)
    fig.savefig(out, bbox_inches="tight")
    plt.close(fig)
    return out


def write_html(points: List[Dict[str, Any]], out: Union[str, Path], title: str = "catalog",
               stats: Optional[Dict[str, Any]] = None) -> Path:
    size, pad = 560, 30
    sources = sorted({p["source"] for p in points})
    color = {s: _COLORS[i % len(_COLORS)] for i, s in enumerate(sources)}

    def xy(v: float, a: float) -> str:
        return f'cx="{pad + (v + 1) / 2 * size:.1f}" cy="{pad + (1 - (a + 1) / 2) * size:.1f}"'

    circles = []
    for p in points:
        label = f"{p['title']} \u2014 {p['artist']}" if p["artist"] else p["title"]
        sd = "" if p["valence_sd"] is None else f" \u00b1({p['valence_sd']:.2f}, {p['arousal_sd']:.2f})"
        tip = f"{label}\nV={p['valence']:+.2f} A={p['arousal']:+.2f}{sd}\n{p['source']} [{p['id']}]"
        circles.append(f'<circle {xy(p["valence"], p["arousal"])} r="3.5" fill="{color[p["source"]]}" '
                       f'fill-opacity="0.7" data-q="{html.escape(tip.lower())}"><title>{html.escape(tip)}'
                       f"</title></circle>")
    legend = " ".join(f'<span style="color:{color[s]}">\u25cf {html.escape(s)}</span>' for s in sources)
    full = size + 2 * pad
    mid = pad + size / 2
    doc = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:sans-serif;margin:1em}} svg{{border:1px solid #ccc}} circle.dim{{opacity:.08}}
pre{{font-size:11px}}</style></head><body>
<h2>{html.escape(title)}: {len(points)} tracks on the valence/arousal plane</h2>
<p>{legend} &nbsp; <input id="q" placeholder="filter by title, artist, source" size="32"></p>
<svg xmlns="http://www.w3.org/2000/svg" width="{full}" height="{full}" viewBox="0 0 {full} {full}">
<line x1="{pad}" y1="{mid}" x2="{pad + size}" y2="{mid}" stroke="#bbb"/>
<line x1="{mid}" y1="{pad}" x2="{mid}" y2="{pad + size}" stroke="#bbb"/>
<text x="{pad + size - 50}" y="{mid - 6}" font-size="12">valence</text>
<text x="{mid + 6}" y="{pad + 12}" font-size="12">arousal</text>
<g id="pts">{"".join(circles)}</g></svg>
<pre>{html.escape(json.dumps(stats, indent=1)) if stats else ""}</pre>
<script>
document.getElementById('q').addEventListener('input', function (e) {{
  var q = e.target.value.toLowerCase();
  document.querySelectorAll('#pts circle').forEach(function (c) {{
    c.classList.toggle('dim', q !== '' && c.dataset.q.indexOf(q) < 0);
  }});
}});
</script></body></html>
"""
    out = Path(out)
    out.write_text(doc, encoding="utf-8")
    return out
