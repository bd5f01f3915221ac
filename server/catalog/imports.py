"""``cardiotune catalog import``: annotation files -> catalog rows on ONE VA scale.

The catalog scale (docs/catalog.md): valence and arousal in [-1, 1], 0 neutral. Each
source is mapped linearly from its published range:

==============  ===========================================  ===============  =========
kind            file(s)                                      published range  arousal =
==============  ===========================================  ===============  =========
deam            static_annotations_averaged_songs_*.csv      1-9 (SAM)        arousal
emomusic        static_annotations.csv (+ songs_info.csv)    1-9 (SAM)        arousal
pmemo           scatter.json or static_annotations.csv       0-1              arousal
soundtracks110  soundtrack.csv                               1-9              Energy
csv             id, uri, valence, arousal[, title, artist]   --scale (-1,1)   arousal
spotify         valence + energy columns (Spotify export)    0-1              energy
==============  ===========================================  ===============  =========

(x - lo) / (hi - lo) * 2 - 1; rater standard deviations are scaled by 2 / (hi - lo).
DEAM ids <= 1000 have valence/arousal swapped back (docs/music_va_swap.md). Spotify's
energy is a perceptual intensity estimate, used as arousal: an approximation, recorded in
the row's ``model`` field. A row with a missing, non-numeric or out-of-range value is
reported with its file, line and reason and NOT imported (no clipping, no imputation).
"""
from __future__ import annotations

import csv
import json
import math
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple, Union

from cardiotune.export.data.music import DEAM_SWAPPED_MAX_ID  # the swap decision lives with the loaders

from cardiotune.errors import DataError

from .db import open_db, transaction

__all__ = ["KINDS", "ImportRow", "ImportResult", "read_annotations", "import_annotations"]

KINDS = ("deam", "emomusic", "pmemo", "soundtracks110", "csv", "spotify")


@dataclass
class ImportRow:
    id: str
    uri: str
    valence: float
    arousal: float
    title: str = ""
    artist: str = ""
    valence_sd: Optional[float] = None
    arousal_sd: Optional[float] = None
    duration_s: Optional[float] = None
    path: Optional[str] = None


@dataclass
class ImportResult:
    kind: str
    rows: List[ImportRow] = field(default_factory=list)
    problems: List[Tuple[str, str]] = field(default_factory=list)  # (file:line, reason)


def _read_csv(path: Path) -> Tuple[List[str], List[Tuple[int, Dict[str, str]]]]:
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    with open(path, newline="", encoding="utf-8-sig") as f:
        sample = f.read(4096)
        f.seek(0)
        try:
            dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
        except csv.Error:
            dialect = csv.excel
        reader = csv.reader(f, dialect)
        rows = [(reader.line_num, r) for r in reader if r and any(c.strip() for c in r)]
    if not rows:
        raise DataError(f"{path}: empty file")
    header = [re.sub(r"\s+", " ", h.strip()) for h in rows[0][1]]
    out = []
    for line, r in rows[1:]:
        out.append((line, {h: (r[i].strip() if i < len(r) else "") for i, h in enumerate(header)}))
    return header, out


def _need(path: Path, header: Sequence[str], cols: Sequence[str]) -> None:
    missing = [c for c in cols if c not in header]
    if missing:
        raise DataError(f"{path}: missing column(s) {missing}; header is {list(header)}")


class _Rows:
    """Collects rows and per-row problems for one file on one published scale."""

    def __init__(self, kind: str, lo: float, hi: float):
        self.res = ImportResult(kind)
        self.lo, self.hi = lo, hi

    def num(self, where: str, name: str, text: Optional[str], check_range: bool = True) -> Optional[float]:
        if text is None or str(text).strip() == "":
            raise ValueError(f"{name} is missing")
        try:
            x = float(text)
        except (TypeError, ValueError):
            raise ValueError(f"{name} is {text!r}, not a number") from None
        if not math.isfinite(x):
            raise ValueError(f"{name} is {text!r}, not finite")
        if check_range and not self.lo <= x <= self.hi:
            raise ValueError(f"{name} = {x:g} is outside the published range [{self.lo:g}, {self.hi:g}]")
        return x

    def scale(self, x: float) -> float:
        if (self.lo, self.hi) == (-1.0, 1.0):
            return x  # already on the catalog scale: keep the value bit for bit
        return (x - self.lo) / (self.hi - self.lo) * 2.0 - 1.0

    def scale_sd(self, x: Optional[float]) -> Optional[float]:
        return None if x is None else x * 2.0 / (self.hi - self.lo)

    def add(self, where: str, make) -> None:
        try:
            self.res.rows.append(make())
        except ValueError as exc:
            self.res.problems.append((where, str(exc)))


def _find(path: Path, names: Sequence[str], what: str) -> Path:
    if path.is_file():
        return path
    for n in names:
        if (path / n).is_file():
            return path / n
    raise DataError(f"{path}: expected {what} ({' or '.join(names)})")


def _deam(path: Path) -> ImportResult:
    files = [path] if path.is_file() else sorted(path.glob("static_annotations_averaged_songs_*.csv"))
    if not files:
        raise DataError(f"{path}: no DEAM static_annotations_averaged_songs_*.csv files")
    acc = _Rows("deam", 1.0, 9.0)
    for f in files:
        header, rows = _read_csv(f)
        _need(f, header, ["song_id", "valence_mean", "arousal_mean"])
        for line, r in rows:
            where = f"{f}:{line}"

            def make(r=r, where=where):
                sid = int(acc.num(where, "song_id", r["song_id"], check_range=False))
                v = acc.num(where, "valence_mean", r["valence_mean"])
                a = acc.num(where, "arousal_mean", r["arousal_mean"])
                vs = acc.num(where, "valence_std", r.get("valence_std"), False) if r.get("valence_std") else None
                as_ = acc.num(where, "arousal_std", r.get("arousal_std"), False) if r.get("arousal_std") else None
                if sid <= DEAM_SWAPPED_MAX_ID:  # 2013 part: names swapped in the release
                    v, a, vs, as_ = a, v, as_, vs
                return ImportRow(f"deam-{sid}", f"deam:{sid}", acc.scale(v), acc.scale(a), f"DEAM {sid}", "",
                                 acc.scale_sd(vs), acc.scale_sd(as_))

            acc.add(where, make)
    return acc.res


def _emomusic(path: Path) -> ImportResult:
    f = _find(path, ["static_annotations.csv"], "emoMusic static annotations")
    root = f.parent
    info: Dict[str, Dict[str, str]] = {}
    if (root / "songs_info.csv").is_file():
        ih, irows = _read_csv(root / "songs_info.csv")
        info = {r.get("song_id", ""): r for _l, r in irows}
    header, rows = _read_csv(f)
    _need(f, header, ["song_id", "mean_arousal", "mean_valence"])
    acc = _Rows("emomusic", 1.0, 9.0)
    for line, r in rows:
        where = f"{f}:{line}"

        def make(r=r, where=where):
            sid = int(acc.num(where, "song_id", r["song_id"], check_range=False))
            v, a = acc.num(where, "mean_valence", r["mean_valence"]), acc.num(where, "mean_arousal", r["mean_arousal"])
            vs = acc.num(where, "std_valence", r["std_valence"], False) if r.get("std_valence") else None
            as_ = acc.num(where, "std_arousal", r["std_arousal"], False) if r.get("std_arousal") else None
            meta = info.get(str(sid), {})
            clip = root / "clips" / f"{sid}.mp3"
            uri = clip.resolve().as_uri() if clip.is_file() else f"emomusic:{sid}"
            return ImportRow(f"emomusic-{sid}", uri, acc.scale(v), acc.scale(a),
                             meta.get("Song title", "").strip() or f"emoMusic {sid}",
                             meta.get("Artist", "").strip(), acc.scale_sd(vs), acc.scale_sd(as_),
                             path=str(clip.resolve()) if clip.is_file() else None)

        acc.add(where, make)
    return acc.res


def _pmemo(path: Path) -> ImportResult:
    acc = _Rows("pmemo", 0.0, 1.0)
    f = _find(path, ["static_annotations.csv", "scatter.json"], "PMEmo annotations")
    if f.suffix == ".json":
        try:
            items = json.loads(f.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise DataError(f"{f}: not valid JSON ({exc})") from None
        if not isinstance(items, list):
            raise DataError(f"{f}: expected a JSON list of {{id, v, a}} objects")
        for i, it in enumerate(items):
            where = f"{f}[{i}]"

            def make(it=it, where=where):
                if not isinstance(it, dict):
                    raise ValueError(f"item is {type(it).__name__}, expected an object")
                sid = int(acc.num(where, "id", it.get("id"), check_range=False))
                return ImportRow(f"pmemo-{sid}", f"pmemo:{sid}", acc.scale(acc.num(where, "v", it.get("v"))),
                                 acc.scale(acc.num(where, "a", it.get("a"))), str(it.get("title", "")),
                                 str(it.get("artist", "")))

            acc.add(where, make)
        return acc.res
    header, rows = _read_csv(f)
    _need(f, header, ["musicId", "Arousal(mean)", "Valence(mean)"])
    for line, r in rows:
        where = f"{f}:{line}"

        def make(r=r, where=where):
            sid = int(acc.num(where, "musicId", r["musicId"], check_range=False))
            v = acc.num(where, "Valence(mean)", r["Valence(mean)"])
            a = acc.num(where, "Arousal(mean)", r["Arousal(mean)"])
            return ImportRow(f"pmemo-{sid}", f"pmemo:{sid}", acc.scale(v), acc.scale(a), f"PMEmo {sid}")

        acc.add(where, make)
    return acc.res


def _soundtracks110(path: Path) -> ImportResult:
    f = _find(path, ["soundtrack.csv"], "Soundtracks110 ratings")
    header, rows = _read_csv(f)
    _need(f, header, ["Number", "Valence", "Energy"])
    acc = _Rows("soundtracks110", 1.0, 9.0)
    for line, r in rows:
        where = f"{f}:{line}"

        def make(r=r, where=where):
            n = int(acc.num(where, "Number", r["Number"], check_range=False))
            film = r.get("soundtrack", "")
            return ImportRow(f"soundtracks110-{n:03d}", f"soundtracks110:{n:03d}.mp3",
                             acc.scale(acc.num(where, "Valence", r["Valence"])),
                             acc.scale(acc.num(where, "Energy", r["Energy"])),
                             f"{film} (excerpt {n:03d})" if film else f"excerpt {n:03d}", "")

        acc.add(where, make)
    return acc.res


def _generic(path: Path, scale: Tuple[float, float]) -> ImportResult:
    header, rows = _read_csv(path)
    _need(path, header, ["id", "uri", "valence", "arousal"])
    acc = _Rows("csv", *scale)
    for line, r in rows:
        where = f"{path}:{line}"

        def make(r=r, where=where):
            if not r["id"]:
                raise ValueError("id is missing")
            if not r["uri"]:
                raise ValueError("uri is missing")
            uri = r["uri"]
            p = None
            if "://" not in uri and ":" not in uri[:3]:  # a plain path, relative to the CSV
                fp = (path.parent / uri).resolve()
                uri, p = fp.as_uri(), str(fp)
            elif uri.startswith("file://"):
                from cardiotune.edge.music.catalog import uri_to_path

                p = str(uri_to_path(uri))
            return ImportRow(r["id"], uri, acc.scale(acc.num(where, "valence", r["valence"])),
                             acc.scale(acc.num(where, "arousal", r["arousal"])), r.get("title", ""),
                             r.get("artist", ""), path=p)

        acc.add(where, make)
    return acc.res


_SPOTIFY_ID = ("id", "track_id", "Track ID", "uri", "Track URI", "spotify_id")
_SPOTIFY_TITLE = ("name", "track_name", "Track Name", "title")
_SPOTIFY_ARTIST = ("artists", "artist_name", "Artist Name(s)", "artist")
_SPOTIFY_DURATION = ("duration_ms", "Duration (ms)")


def _spotify(path: Path) -> ImportResult:
    header, rows = _read_csv(path)
    low = {h.lower(): h for h in header}
    v_col, e_col = low.get("valence"), low.get("energy")
    id_col = next((h for h in _SPOTIFY_ID if h in header), None)
    if v_col is None or e_col is None or id_col is None:
        raise DataError(f"{path}: expected Spotify-style columns valence, energy and one of {list(_SPOTIFY_ID)}; "
                        f"header is {header}")
    t_col = next((h for h in _SPOTIFY_TITLE if h in header), None)
    a_col = next((h for h in _SPOTIFY_ARTIST if h in header), None)
    d_col = next((h for h in _SPOTIFY_DURATION if h in header), None)
    uri_col = next((h for h in ("uri", "Track URI") if h in header), None)
    acc = _Rows("spotify", 0.0, 1.0)
    for line, r in rows:
        where = f"{path}:{line}"

        def make(r=r, where=where):
            tid = r[id_col]
            if not tid:
                raise ValueError(f"{id_col} is missing")
            tid = tid.split(":")[-1]
            uri = r[uri_col] if uri_col and r.get(uri_col) else f"spotify:track:{tid}"
            dur = None
            if d_col and r.get(d_col):
                dur = acc.num(where, d_col, r[d_col], check_range=False) / 1000.0
            return ImportRow(f"spotify-{tid}", uri, acc.scale(acc.num(where, "valence", r[v_col])),
                             acc.scale(acc.num(where, "energy", r[e_col])), r.get(t_col, "") if t_col else "",
                             r.get(a_col, "") if a_col else "", duration_s=dur)

        acc.add(where, make)
    return acc.res


def read_annotations(kind: str, path: Union[str, Path], scale: Tuple[float, float] = (-1.0, 1.0)) -> ImportResult:
    """Parse one annotation source; bad rows go to ``problems`` (never imported)."""
    path = Path(path).expanduser()
    if kind not in KINDS:
        raise ValueError(f"import kind {kind!r}: expected one of {', '.join(KINDS)}")
    if not path.exists():
        raise DataError(f"{path}: not found (expected the {kind} annotation file or folder)")
    if kind == "csv":
        if not scale[0] < scale[1]:
            raise ValueError(f"scale {scale}: expected lo < hi")
        return _generic(path, scale)
    return {"deam": _deam, "emomusic": _emomusic, "pmemo": _pmemo, "soundtracks110": _soundtracks110,
            "spotify": _spotify}[kind](path)


def import_annotations(db_path: Union[str, Path], kind: str, path: Union[str, Path],
                       scale: Tuple[float, float] = (-1.0, 1.0)) -> ImportResult:
    """Read and upsert into the catalog (source ``import:<kind>``); problems are stored too."""
    res = read_annotations(kind, path, scale)
    model = f"annotations:{kind}" + (":energy-as-arousal" if kind == "spotify" else "")
    now = time.time()
    db = open_db(db_path)
    try:
        with transaction(db):
            db.executemany(
                "INSERT OR REPLACE INTO tracks (id, uri, path, title, artist, duration_s, valence, arousal,"
                " valence_sd, arousal_sd, model, source, added) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                [(r.id, r.uri, r.path, r.title, r.artist, r.duration_s, r.valence, r.arousal, r.valence_sd,
                  r.arousal_sd, model, f"import:{kind}", now) for r in res.rows])
            db.executemany("INSERT OR REPLACE INTO problems VALUES (?,?,?,?)",
                           [(w, why, f"import:{kind}", now) for w, why in res.problems])
    finally:
        db.close()
    return res
