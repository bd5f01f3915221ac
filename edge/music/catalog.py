"""The demo music catalog: procedurally generated clips that span the valence/arousal plane.

A 5x5 grid over [-0.8, 0.8]^2 plus 7 seeded jittered points (32 tracks), each rendered by
:mod:`cardiotune.edge.music.synth` from the parameters that express its target VA (see the
findings cited there). Clips are generated deterministically into a cache on first use::

    <cache>/demo-catalog-v1/catalog.json     metadata: id, title, VA, params, file, sha256
    <cache>/demo-catalog-v1/proc-000.wav ...  20 s, 22,050 Hz, mono, 16-bit PCM

Every file is written to a temporary name and renamed into place, so a second process never
sees a half-written clip under a real name (no fsync: after a power loss a clip may be
empty, which the sha256 check below catches). On each load the sha256 of every
clip is checked against ``catalog.json``; missing or corrupt clips are regenerated, the rest
are reused (no synthesis on a warm cache).
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Union

import numpy as np

from . import synth
from .wav import encode_wav

__all__ = [
    "CATALOG_NAME",
    "Track",
    "Catalog",
    "TrackSpec",
    "demo_specs",
    "default_cache_dir",
    "load_demo_catalog",
]

log = logging.getLogger(__name__)

CATALOG_NAME = "demo-catalog-v1"
SCHEMA = "cardiotune.demo-catalog/1"
# Bump when synth.py changes what it renders, so existing caches are regenerated.
SYNTH_VERSION = 1
GRID = (-0.8, -0.4, 0.0, 0.4, 0.8)
N_JITTERED = 7
DURATION_S = 20.0

ProgressFn = Callable[[int, int, "Track"], None]


@dataclass(frozen=True)
class Track:
    """One playable catalog entry. ``uri`` is a ``file://`` URI of a WAV file."""

    id: str
    title: str
    valence: float
    arousal: float
    duration_s: float
    uri: str
    params: Dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def path(self) -> Path:
        """The local file behind ``uri`` (file:// URIs only)."""
        return uri_to_path(self.uri)


class Catalog:
    """An ordered, immutable collection of tracks indexed by id."""

    def __init__(self, tracks: Sequence[Track], root: Optional[Path] = None):
        self.tracks: List[Track] = list(tracks)
        self.root = root
        self._by_id = {t.id: t for t in self.tracks}
        if len(self._by_id) != len(self.tracks):
            raise ValueError("catalog has duplicate track ids")

    def by_id(self, track_id: str) -> Track:
        try:
            return self._by_id[track_id]
        except KeyError:
            raise KeyError(
                f"track id {track_id!r} is not in the catalog ({len(self)} tracks, "
                f"ids {self.tracks[0].id!r}..{self.tracks[-1].id!r})"
                if self.tracks else f"track id {track_id!r}: the catalog is empty"
            ) from None

    def __contains__(self, track_id: object) -> bool:
        return track_id in self._by_id

    def __len__(self) -> int:
        return len(self.tracks)

    def __iter__(self) -> Iterator[Track]:
        return iter(self.tracks)

    def va_array(self) -> np.ndarray:
        """(N, 2) float array of (valence, arousal), in catalog order."""
        return np.array([[t.valence, t.arousal] for t in self.tracks], dtype=float).reshape(-1, 2)


@dataclass(frozen=True)
class TrackSpec:
    """What a demo track is before it is rendered: its target VA and seed."""

    id: str
    valence: float
    arousal: float
    seed: int

    def params(self) -> synth.MusicParams:
        return synth.params_for_va(self.valence, self.arousal, DURATION_S)

    def title(self) -> str:
        p = self.params()
        adjectives = ("Dark", "Wistful", "Even", "Warm", "Bright")
        nouns_pos = ("Lullaby", "Ballad", "Stroll", "Groove", "Dance")
        nouns_neg = ("Lament", "Elegy", "March", "Chase", "Storm")
        vi = _bin(self.valence)
        ai = _bin(self.arousal)
        noun = (nouns_pos if self.valence >= 0 else nouns_neg)[ai]
        return f"{adjectives[vi]} {p.mode.capitalize()} {noun} {p.tempo_bpm:.0f} bpm"


def _bin(x: float) -> int:
    return int(np.clip(np.floor((x + 1.0) / 2.0 * 5.0), 0, 4))


def demo_specs() -> List[TrackSpec]:
    """The fixed list of demo tracks: the 5x5 grid, then the jittered extras."""
    points = [(v, a) for a in GRID for v in GRID]
    rng = np.random.default_rng(20240607)
    points += [tuple(np.round(rng.uniform(-0.95, 0.95, 2), 3)) for _ in range(N_JITTERED)]
    return [
        TrackSpec(f"proc-{i:03d}", float(v), float(a), seed=1000 + i)
        for i, (v, a) in enumerate(points)
    ]


def default_cache_dir() -> Path:
    """``$CARDIOTUNE_CACHE``, else ``$XDG_CACHE_HOME/cardiotune``, else ``~/.cache/cardiotune``."""
    if os.environ.get("CARDIOTUNE_CACHE"):
        return Path(os.environ["CARDIOTUNE_CACHE"]).expanduser()
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]).expanduser() / "cardiotune"
    return Path.home() / ".cache" / "cardiotune"


def uri_to_path(uri: str) -> Path:
    from urllib.parse import unquote, urlparse

    parsed = urlparse(uri)
    if parsed.scheme != "file":
        raise ValueError(f"uri {uri!r}: expected a file:// URI")
    return Path(unquote(parsed.path))


def _sha256_file(path: Path) -> Optional[str]:
    try:
        with open(path, "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()
    except FileNotFoundError:
        return None


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=str(path.parent), prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _spec_digest(specs: Sequence[TrackSpec]) -> str:
    blob = json.dumps(
        {"synth": SYNTH_VERSION, "sr": synth.SAMPLE_RATE,
         "specs": [[s.id, s.valence, s.arousal, s.seed, s.params().to_dict()] for s in specs]},
        sort_keys=True,
    )
    return hashlib.sha256(blob.encode()).hexdigest()


def _read_manifest(path: Path, digest: str) -> Dict[str, Dict[str, Any]]:
    """Entries by id from an existing catalog.json, or {} if absent, unreadable or stale."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        log.warning("%s is unreadable (%s); regenerating the demo catalog", path, exc)
        return {}
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA or doc.get("digest") != digest:
        log.info("%s was made by another generator version; regenerating", path)
        return {}
    tracks = doc.get("tracks")
    if not isinstance(tracks, list):
        return {}
    return {t["id"]: t for t in tracks if isinstance(t, dict) and "id" in t}


def load_demo_catalog(
    cache_dir: Optional[Union[str, Path]] = None,
    progress: Optional[ProgressFn] = None,
) -> Catalog:
    """Load the demo catalog, generating missing or corrupt clips into the cache first.

    ``progress(done, total, track)`` is called after each clip that had to be generated
    (``total`` is the number being generated, not the catalog size).
    """
    root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    root = (root / CATALOG_NAME).resolve()
    root.mkdir(parents=True, exist_ok=True)
    specs = demo_specs()
    digest = _spec_digest(specs)
    manifest_path = root / "catalog.json"
    old = _read_manifest(manifest_path, digest)

    todo = []
    for spec in specs:
        entry = old.get(spec.id)
        fname = f"{spec.id}.wav"
        if entry is None or entry.get("file") != fname:
            todo.append(spec)
        elif _sha256_file(root / fname) != entry.get("sha256"):
            log.warning("demo clip %s is missing or corrupt; regenerating it", root / fname)
            todo.append(spec)
    if todo:
        log.info("generating %d demo clips into %s", len(todo), root)

    entries: List[Dict[str, Any]] = []
    tracks: List[Track] = []
    done = 0
    todo_ids = {s.id for s in todo}
    for spec in specs:
        fname = f"{spec.id}.wav"
        params = spec.params()
        if spec.id in todo_ids:
            data = encode_wav(synth.render(params, spec.seed), synth.SAMPLE_RATE)
            _atomic_write(root / fname, data)
            sha = hashlib.sha256(data).hexdigest()
        else:
            sha = old[spec.id]["sha256"]
        entry = {
            "id": spec.id,
            "title": spec.title(),
            "valence": spec.valence,
            "arousal": spec.arousal,
            "duration_s": params.duration_s,
            "file": fname,
            "sha256": sha,
            "seed": spec.seed,
            "params": params.to_dict(),
        }
        entries.append(entry)
        track = Track(spec.id, entry["title"], spec.valence, spec.arousal, params.duration_s,
                      (root / fname).as_uri(), params.to_dict())
        tracks.append(track)
        if spec.id in todo_ids:
            done += 1
            if progress is not None:
                progress(done, len(todo), track)
    if todo or not old:
        doc = {"schema": SCHEMA, "name": CATALOG_NAME, "digest": digest,
               "sample_rate": synth.SAMPLE_RATE, "tracks": entries}
        _atomic_write(manifest_path, (json.dumps(doc, indent=1) + "\n").encode("utf-8"))
    return Catalog(tracks, root=root)
