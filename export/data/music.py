"""Loaders for music-emotion datasets in their published file layouts.

Every loader returns a :class:`MusicAnnotations` (static per-song valence/arousal) and, where
the dataset has them, dynamic VA sequences. Splits are by *song* (or by a coarser group such
as the film a soundtrack excerpt comes from) through :meth:`MusicAnnotations.kfold` /
:meth:`MusicAnnotations.holdout`, which call :mod:`cardiotune.export.splits`; there is no
item-level split to call by accident.

Layouts (the ``root`` passed to each loader):

* DEAM (Aljanaki et al. 2017): ``static_annotations_averaged_songs_1_2000.csv`` (columns
  ``song_id, valence_mean, valence_std, arousal_mean, arousal_std``) and optionally
  ``static_annotations_averaged_songs_2000_2058.csv`` (same plus min/max columns); 1-9 SAM.
* emoMusic / "1000 songs" (Soleymani et al. 2013): ``static_annotations.csv`` (``song_id,
  mean_arousal, std_arousal, mean_valence, std_valence``, 1-9), ``songs_info.csv`` (quoted,
  tab-padded fields), and ``{arousal,valence}_cont_{average,std}.csv`` (``song_id,
  sample_15000ms, ...`` at 2 Hz, in [-1, 1]).
* PMEmo2019 (Zhang et al. 2018): ``static_annotations.csv`` (``musicId, Arousal(mean),
  Valence(mean)``) and optional ``dynamic_annotations.csv`` (``musicId, frameTime,
  Arousal(mean), Valence(mean)``), all in [0, 1]; or the project-page export ``scatter.json``
  (list of ``{"id", "title", "artist", "v", "a"}``).
* Soundtracks110 (Eerola & Vuoskoski 2011): ``soundtrack.csv`` (``Number, Valence, Energy,
  Tension, ... , soundtrack, TARGET_EMOTION, ...``, 1-9) and ``soundtrack_features.csv``
  (``File, RMS, sp_centr, spec_bw, spec_rolloff, spec_zcr, MFCC1..MFCC20``; File ``001.mp3``
  is row Number 1).

DEAM / emoMusic valence-arousal swap (verified, see docs/music_va_swap.md)
--------------------------------------------------------------------------
For the 744 songs in both releases (DEAM ids <= 1000, the MediaEval 2013 set), DEAM's
``valence_mean`` equals emoMusic's ``mean_arousal`` (r = 0.9998) and vice versa. We keep
emoMusic's names and swap DEAM's columns back for ids <= 1000, because: (1) emoMusic is
internally consistent: static ``mean_arousal`` vs the per-song mean of the *separately
collected* dynamic ``arousal_cont_average`` r = 0.956 (vs 0.575 with valence); (2) inside
DEAM, the column called "arousal" has the larger spread in the 2014 part (ids 1001-2000:
sd 1.30 vs 0.99) but the smaller one in the 2013 part (1.24 vs 1.37) - i.e. the 2013 part
is the odd one out; (3) by emoMusic's names, Classical is the lowest-arousal genre (3.88)
and Rock the highest (5.51), Country the most positive; with DEAM's names Rock would be the
most positive genre and Country the most energetic. (4) The 5 audio clips cannot decide
it: they have the same rank order in both dimensions, so loudness (Spearman 1.0) tracks
both equally. Details: docs/music_va_swap.md; ``export/music/swap_evidence.py``
(``cardiotune evaluate music``) re-computes all of this.
Only the overlapping 2013 part is swapped back; DEAM ids > 1000 are used as released.
"""

from __future__ import annotations

import csv
import json
import os
import re
from dataclasses import dataclass, field
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np

from cardiotune.errors import DataError

from .. import splits

__all__ = [
    "MusicAnnotations",
    "Soundtracks110",
    "EmoMusic",
    "load_deam",
    "load_emomusic",
    "load_pmemo",
    "load_soundtracks110",
    "DEAM_SWAPPED_MAX_ID",
    "SOUNDTRACKS110_FEATURES",
]

#: DEAM songs with id <= this come from the MediaEval 2013 set (= emoMusic) and have
#: valence/arousal column names swapped in the DEAM release; the loader swaps them back.
DEAM_SWAPPED_MAX_ID = 1000

SOUNDTRACKS110_FEATURES = ["RMS", "sp_centr", "spec_bw", "spec_rolloff", "spec_zcr"] + [
    f"MFCC{i}" for i in range(1, 21)
]


@dataclass
class MusicAnnotations:
    """Static per-song valence/arousal on the dataset's own ``scale`` (lo, hi)."""

    dataset: str
    song_ids: np.ndarray
    valence: np.ndarray
    arousal: np.ndarray
    scale: Tuple[float, float]
    groups: np.ndarray = field(default=None)  # split unit; defaults to the song id
    valence_std: Optional[np.ndarray] = None
    arousal_std: Optional[np.ndarray] = None

    def __post_init__(self) -> None:
        if self.groups is None:
            self.groups = np.asarray(self.song_ids)
        n = len(self.song_ids)
        for name in ("valence", "arousal", "groups"):
            if len(getattr(self, name)) != n:
                raise DataError(
                    f"{self.dataset}: {name} has {len(getattr(self, name))} rows, song_ids {n}"
                )

    def __len__(self) -> int:
        return len(self.song_ids)

    def va(self, lo: float = -1.0, hi: float = 1.0) -> np.ndarray:
        """(N, 2) array [valence, arousal] rescaled linearly from ``scale`` to [lo, hi]."""
        s0, s1 = self.scale
        x = np.stack([self.valence, self.arousal], axis=1).astype(np.float64)
        return lo + (x - s0) * (hi - lo) / (s1 - s0)

    def kfold(self, k: int, seed: int = 0) -> Iterator[Tuple[np.ndarray, np.ndarray]]:
        """K folds over songs (groups); each yielded split is checked disjoint."""
        for tr, te in splits.group_kfold(self.groups, k, seed):
            splits.assert_disjoint(self.groups, tr, te)
            yield tr, te

    def holdout(self, test_fraction: float = 0.2, seed: int = 0) -> Tuple[np.ndarray, np.ndarray]:
        tr, te = splits.group_holdout(self.groups, test_fraction, seed)
        splits.assert_disjoint(self.groups, tr, te)
        return tr, te


def _require(path: str, what: str) -> str:
    if not os.path.isfile(path):
        raise DataError(f"expected {what} at {path}: file not found")
    return path


def _read_csv(path: str, required: Sequence[str]) -> Tuple[List[str], List[List[str]]]:
    """Read a CSV, strip whitespace/tabs from header and cells, check required columns."""
    with open(path, newline="", encoding="utf-8-sig") as f:
        rows = [[c.strip() for c in r] for r in csv.reader(f) if r and any(c.strip() for c in r)]
    if not rows:
        raise DataError(f"{path}: empty file, expected a header with columns {list(required)}")
    header = [re.sub(r"\s+", " ", h) for h in rows[0]]
    missing = [c for c in required if c not in header]
    if missing:
        raise DataError(f"{path}: missing column(s) {missing}; header is {header}")
    return header, rows[1:]


def _float(path: str, row: int, col: str, text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise DataError(
            f"{path}: row {row} column '{col}' is {text!r}, expected a number"
        ) from None


def _columns(
    path: str, header: List[str], rows: List[List[str]], cols: Sequence[str]
) -> Dict[str, np.ndarray]:
    out = {}
    for c in cols:
        j = header.index(c)
        out[c] = np.array([_float(path, i + 2, c, r[j]) for i, r in enumerate(rows)])
    return out


# ---------------------------------------------------------------- DEAM
def load_deam(root: str, fix_swap: bool = True) -> MusicAnnotations:
    """DEAM static song-level annotations (1-9). ``fix_swap`` swaps V/A back for ids <= 1000."""
    cols = ["song_id", "valence_mean", "valence_std", "arousal_mean", "arousal_std"]
    parts = [
        _require(
            os.path.join(root, "static_annotations_averaged_songs_1_2000.csv"),
            "DEAM static annotations",
        )
    ]
    extra = os.path.join(root, "static_annotations_averaged_songs_2000_2058.csv")
    if os.path.isfile(extra):
        parts.append(extra)
    data: Dict[str, List[np.ndarray]] = {c: [] for c in cols}
    for p in parts:
        h, rows = _read_csv(p, cols)
        got = _columns(p, h, rows, cols)
        for c in cols:
            data[c].append(got[c])
    d = {c: np.concatenate(v) for c, v in data.items()}
    ids = d["song_id"].astype(int)
    if len(np.unique(ids)) != len(ids):
        raise DataError(f"DEAM in {root}: duplicate song_id values")
    v, a = d["valence_mean"].copy(), d["arousal_mean"].copy()
    vs, as_ = d["valence_std"].copy(), d["arousal_std"].copy()
    if fix_swap:
        # The 2013 part of DEAM has valence/arousal names swapped (module docstring).
        m = ids <= DEAM_SWAPPED_MAX_ID
        v[m], a[m] = d["arousal_mean"][m], d["valence_mean"][m]
        vs[m], as_[m] = d["arousal_std"][m], d["valence_std"][m]
    return MusicAnnotations("deam", ids, v, a, (1.0, 9.0), valence_std=vs, arousal_std=as_)


# ---------------------------------------------------------------- emoMusic
@dataclass
class EmoMusic:
    static: MusicAnnotations
    #: song id -> (T, 2) array [valence, arousal] at 2 Hz from 15 s, in [-1, 1]
    dynamic: Dict[int, np.ndarray]
    info: Dict[int, Dict[str, str]]
    clips_dir: str

    def clip_path(self, song_id: int) -> Optional[str]:
        p = os.path.join(self.clips_dir, f"{song_id}.mp3")
        return p if os.path.isfile(p) else None


def _read_dynamic(path: str) -> Dict[int, np.ndarray]:
    h, rows = _read_csv(path, ["song_id"])
    if len(h) < 2 or not h[1].startswith("sample_"):
        raise DataError(
            f"{path}: expected columns song_id, sample_15000ms, ...; header starts {h[:3]}"
        )
    out = {}
    for i, r in enumerate(rows):
        vals = [
            _float(path, i + 2, h[j], r[j]) for j in range(1, len(r)) if j < len(h) and r[j] != ""
        ]
        out[int(_float(path, i + 2, "song_id", r[0]))] = np.asarray(vals)
    return out


def load_emomusic(root: str, dynamic: bool = True) -> EmoMusic:
    """emoMusic ("1000 songs"): static (1-9), dynamic 2 Hz VA ([-1, 1]) and song info."""
    cols = ["song_id", "mean_arousal", "std_arousal", "mean_valence", "std_valence"]
    p = _require(os.path.join(root, "static_annotations.csv"), "emoMusic static annotations")
    h, rows = _read_csv(p, cols)
    d = _columns(p, h, rows, cols)
    ids = d["song_id"].astype(int)
    static = MusicAnnotations(
        "emomusic",
        ids,
        d["mean_valence"],
        d["mean_arousal"],
        (1.0, 9.0),
        valence_std=d["std_valence"],
        arousal_std=d["std_arousal"],
    )
    info: Dict[int, Dict[str, str]] = {}
    ip = os.path.join(root, "songs_info.csv")
    if os.path.isfile(ip):
        h, rows = _read_csv(ip, ["song_id", "Genre"])
        for r in rows:
            info[int(r[0])] = dict(zip(h, r))
    dyn: Dict[int, np.ndarray] = {}
    if dynamic:
        ar = _read_dynamic(
            _require(os.path.join(root, "arousal_cont_average.csv"), "emoMusic dynamic arousal")
        )
        va = _read_dynamic(
            _require(os.path.join(root, "valence_cont_average.csv"), "emoMusic dynamic valence")
        )
        for sid in sorted(set(ar) & set(va)):
            n = min(len(ar[sid]), len(va[sid]))
            dyn[sid] = np.stack([va[sid][:n], ar[sid][:n]], axis=1)
    return EmoMusic(static, dyn, info, os.path.join(root, "clips"))


# ---------------------------------------------------------------- PMEmo
def load_pmemo(root: str) -> Tuple[MusicAnnotations, Dict[int, np.ndarray]]:
    """PMEmo static VA in [0, 1] (+ dynamic [V, A] sequences at 2 Hz when present)."""
    sp = os.path.join(root, "static_annotations.csv")
    dyn: Dict[int, np.ndarray] = {}
    if os.path.isfile(sp):
        cols = ["musicId", "Arousal(mean)", "Valence(mean)"]
        h, rows = _read_csv(sp, cols)
        d = _columns(sp, h, rows, cols)
        ids, v, a = d["musicId"].astype(int), d["Valence(mean)"], d["Arousal(mean)"]
        dp = os.path.join(root, "dynamic_annotations.csv")
        if os.path.isfile(dp):
            cols = ["musicId", "frameTime", "Arousal(mean)", "Valence(mean)"]
            h, rows = _read_csv(dp, cols)
            dd = _columns(dp, h, rows, cols)
            for sid in np.unique(dd["musicId"]).astype(int):
                m = dd["musicId"] == sid
                order = np.argsort(dd["frameTime"][m])
                dyn[sid] = np.stack(
                    [dd["Valence(mean)"][m][order], dd["Arousal(mean)"][m][order]], 1
                )
    else:
        jp = _require(
            os.path.join(root, "scatter.json"), "PMEmo static_annotations.csv or scatter.json"
        )
        try:
            with open(jp, encoding="utf-8") as f:
                items = json.load(f)
        except json.JSONDecodeError as exc:
            raise DataError(f"{jp}: not valid JSON ({exc})") from None
        if not isinstance(items, list):
            raise DataError(f"{jp}: expected a JSON list of {{id, v, a}} objects")
        for i, it in enumerate(items):
            for k in ("id", "v", "a"):
                if not isinstance(it, dict) or k not in it:
                    raise DataError(f"{jp}: item {i} lacks key '{k}'")
        ids = np.array([int(it["id"]) for it in items])
        v = np.array([float(it["v"]) for it in items])
        a = np.array([float(it["a"]) for it in items])
    return MusicAnnotations("pmemo", ids, v, a, (0.0, 1.0)), dyn


# ---------------------------------------------------------------- Soundtracks110
@dataclass
class Soundtracks110:
    features: np.ndarray  # (110, 25) published librosa summary features
    feature_names: List[str]
    ratings: Dict[str, np.ndarray]  # Valence, Energy, Tension, ... (1-9)
    static: MusicAnnotations  # valence = Valence, arousal = Energy; groups = film title
    film: np.ndarray


def load_soundtracks110(root: str) -> Soundtracks110:
    """Soundtracks110 ratings + features, joined on Number == int(File stem).

    Splits group by film (``soundtrack`` column): several excerpts come from one film score,
    so a song-level split alone would let the same score sit on both sides.
    """
    rp = _require(os.path.join(root, "soundtrack.csv"), "Soundtracks110 ratings")
    fp = _require(os.path.join(root, "soundtrack_features.csv"), "Soundtracks110 features")
    rating_cols = [
        "Valence",
        "Energy",
        "Tension",
        "Anger",
        "Fear",
        "Happy",
        "Sad",
        "Tender",
        "Beauty",
    ]
    h, rows = _read_csv(rp, ["Number", "soundtrack"] + rating_cols)
    r = _columns(rp, h, rows, ["Number"] + rating_cols)
    film = np.array([row[h.index("soundtrack")] for row in rows])
    fh, frows = _read_csv(fp, ["File"] + SOUNDTRACKS110_FEATURES)
    feat = _columns(fp, fh, frows, SOUNDTRACKS110_FEATURES)
    fnum = []
    for i, row in enumerate(frows):
        stem = os.path.splitext(row[0])[0]
        if not stem.isdigit():
            raise DataError(f"{fp}: row {i + 2} File is {row[0]!r}, expected like '001.mp3'")
        fnum.append(int(stem))
    pos = {n: i for i, n in enumerate(fnum)}
    numbers = r["Number"].astype(int)
    missing = [n for n in numbers if n not in pos]
    if missing:
        raise DataError(f"{fp}: no feature row for Number(s) {missing[:5]} of {rp}")
    idx = np.array([pos[n] for n in numbers])
    X = np.stack([feat[c][idx] for c in SOUNDTRACKS110_FEATURES], axis=1)
    ratings = {c: r[c] for c in rating_cols}
    static = MusicAnnotations(
        "soundtracks110", numbers, r["Valence"], r["Energy"], (1.0, 9.0), groups=film
    )
    return Soundtracks110(X, list(SOUNDTRACKS110_FEATURES), ratings, static, film)
