"""``cardiotune catalog build``: scan a music folder into the catalog database.

Incremental and resumable: a file whose (path, size, mtime) and scorer version match its
row is not touched; a file whose content sha256 is already in the catalog under another
path is moved (no re-scoring); everything else is scored in worker processes and written
one track per transaction as results arrive, so an interrupted build keeps what it
finished and the next run does only the rest. Rows of files that disappeared from the
folder are removed. A file that cannot be read or decoded is skipped and listed with the
reason in the ``problems`` table and the returned report; it never aborts the run.
"""
from __future__ import annotations

import concurrent.futures as cf
import logging
import multiprocessing
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple, Union

import numpy as np

from cardiotune._imports import import_optional
from cardiotune.errors import DataError

from .analyze import (
    AUDIO_EXTENSIONS,
    SEGMENT_S,
    Scorer,
    TrackResult,
    default_checkpoints,
    init_worker,
    sha256_file,
    worker_analyze,
)
from .db import open_db, transaction

__all__ = ["BuildReport", "build_catalog", "scan_files"]

log = logging.getLogger(__name__)


@dataclass
class BuildReport:
    root: str
    model: str
    scanned: int = 0
    added: int = 0
    unchanged: int = 0
    moved: int = 0
    removed: int = 0
    problems: List[Tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0

    def as_dict(self) -> Dict[str, object]:
        d = dict(self.__dict__)
        d["problems"] = [{"path": p, "reason": r} for p, r in self.problems]
        return d


def scan_files(root: Path) -> List[Path]:
    """Audio files under ``root`` (by extension), sorted, symlinks to files followed."""
    out = []
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            if name.lower().endswith(AUDIO_EXTENSIONS) and not name.startswith("."):
                out.append(Path(dirpath) / name)
    return sorted(out)


def _store(db, path: Path, sha: str, st: os.stat_result, res: TrackResult, model: str) -> None:
    tid = f"trk-{sha[:16]}"
    title = res.tags.get("title") or path.stem
    with transaction(db):
        db.execute("DELETE FROM segments WHERE track_id = ?", (tid,))  # also without foreign_keys on
        db.execute("DELETE FROM tracks WHERE id = ? OR path = ?", (tid, str(path)))
        db.execute(
            "INSERT INTO tracks (id, uri, path, sha256, size, mtime, title, artist, album, duration_s, valence,"
            " arousal, valence_sd, arousal_sd, embedding, model, source, added)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (tid, path.as_uri(), str(path), sha, st.st_size, st.st_mtime, title, res.tags.get("artist", ""),
             res.tags.get("album", ""), res.duration_s, res.valence, res.arousal, res.valence_sd,
             res.arousal_sd, np.asarray(res.embedding, dtype="<f4").tobytes(), model, "scan", time.time()))
        db.executemany("INSERT INTO segments VALUES (?,?,?,?,?,?,?)", [(tid,) + s for s in res.segments])
        db.execute("DELETE FROM problems WHERE path = ?", (str(path),))


def _problem(db, path: Path, reason: str, report: BuildReport) -> None:
    log.warning("skipping %s: %s", path, reason)
    report.problems.append((str(path), reason))
    with transaction(db):
        db.execute("INSERT OR REPLACE INTO problems VALUES (?,?,?,?)", (str(path), reason, "scan", time.time()))


def build_catalog(music_dir: Union[str, Path], db_path: Union[str, Path], *, workers: int = 2,
                  segment_s: float = SEGMENT_S, music_ckpt: Optional[Path] = None,
                  cmer_ckpt: Optional[Path] = None, progress: bool = True) -> BuildReport:
    """Scan ``music_dir`` into the catalog at ``db_path``. ``workers=0`` scores in this process."""
    root = Path(music_dir).expanduser().resolve()
    if not root.is_dir():
        raise DataError(f"music folder {music_dir}: not a directory")
    if workers < 0:
        raise ValueError(f"workers={workers}: expected >= 0 (0 = score in this process)")
    ck = default_checkpoints()
    music_ckpt = music_ckpt if music_ckpt is not None else ck["music"]
    cmer_ckpt = cmer_ckpt if cmer_ckpt is not None else ck["cmer"]
    t0 = time.time()
    # The scorer version (features + checkpoint hashes) decides whether old rows are current.
    local = Scorer(music_ckpt, cmer_ckpt)
    model = local.version
    report = BuildReport(str(root), model)
    db = open_db(db_path)
    try:
        files = scan_files(root)
        report.scanned = len(files)
        rows = {r["path"]: r for r in db.execute(
            "SELECT id, path, sha256, size, mtime, model FROM tracks WHERE source = 'scan'")}
        todo: List[Tuple[Path, str, os.stat_result]] = []
        for path in files:
            try:
                st = path.stat()
                row = rows.get(str(path))
                if row and row["size"] == st.st_size and row["mtime"] == st.st_mtime and row["model"] == model:
                    report.unchanged += 1
                    continue
                sha = sha256_file(path)
            except OSError as exc:
                _problem(db, path, f"cannot read ({exc.strerror or exc})", report)
                continue
            same = db.execute("SELECT id, path FROM tracks WHERE sha256 = ? AND model = ?", (sha, model)).fetchone()
            if same is not None and not Path(same["path"]).is_file():
                with transaction(db):  # moved or renamed: keep the scores, update where it is
                    db.execute("UPDATE tracks SET path = ?, uri = ?, size = ?, mtime = ? WHERE id = ?",
                               (str(path), path.as_uri(), st.st_size, st.st_mtime, same["id"]))
                report.moved += 1
                continue
            if row and row["sha256"] == sha and row["model"] == model:
                with transaction(db):  # touched, not changed
                    db.execute("UPDATE tracks SET mtime = ? WHERE path = ?", (st.st_mtime, str(path)))
                report.unchanged += 1
                continue
            todo.append((path, sha, st))
        present = {str(p) for p in files}
        gone = [p for p in rows if p.startswith(str(root) + os.sep) and p not in present]
        if gone:
            with transaction(db):  # rows moved above no longer carry their old path
                for p in gone:
                    report.removed += db.execute("DELETE FROM tracks WHERE path = ?", (p,)).rowcount
        _score_all(db, todo, local, model, workers, segment_s, music_ckpt, cmer_ckpt, progress, report)
        with transaction(db):
            db.execute("INSERT OR REPLACE INTO meta VALUES ('model', ?)", (model,))
            db.execute("INSERT OR REPLACE INTO meta VALUES ('built', ?)", (repr(time.time()),))
    finally:
        db.close()
    report.seconds = round(time.time() - t0, 2)
    return report


def _score_all(db, todo, local: Scorer, model: str, workers: int, segment_s: float, music_ckpt, cmer_ckpt,
               progress: bool, report: BuildReport) -> None:
    if not todo:
        return
    tqdm = import_optional("tqdm", "server", "the catalog build progress bar").tqdm
    info = {str(p): (sha, st) for p, sha, st in todo}
    bar = tqdm(total=len(todo), desc="scoring", unit="file", disable=not progress)

    def done(path: str, res: Optional[TrackResult], reason: Optional[str]) -> None:
        sha, st = info[path]
        if res is None:
            _problem(db, Path(path), reason or "unknown error", report)
        else:
            _store(db, Path(path), sha, st, res, model)
            report.added += 1
        bar.update(1)

    try:
        if workers == 0:
            import cardiotune.server.catalog.analyze as an

            an._WORKER_SCORER = local
            for p, _sha, _st in todo:
                done(*worker_analyze(str(p), segment_s))
            return
        args = (str(music_ckpt) if music_ckpt else None, str(cmer_ckpt) if cmer_ckpt else None)
        ctx = multiprocessing.get_context("spawn")  # no fork of a process that already runs torch threads
        with cf.ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=init_worker,
                                    initargs=args) as pool:
            # at most 2 x workers files in flight: memory stays bounded on big libraries
            pending = set()
            for p, _sha, _st in todo:
                pending.add(pool.submit(worker_analyze, str(p), segment_s))
                if len(pending) >= 2 * workers:
                    finished, pending = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
                    for fut in finished:
                        done(*fut.result())
            for fut in cf.as_completed(pending):
                done(*fut.result())
    finally:
        bar.close()
