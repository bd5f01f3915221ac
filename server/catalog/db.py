"""The catalog database: SQLite with a versioned schema (``PRAGMA user_version``).

Each migration is one function that takes the schema from version ``n - 1`` to ``n``;
:func:`open_db` applies the missing ones in a transaction, so an old catalog file is
upgraded in place and a file from a *newer* cardiotune is refused rather than damaged.

Tables (schema 2):

* ``tracks``   one row per audio file: path, content sha256, tags, duration, VA mean and
  standard deviation (on the catalog VA scale, see docs/catalog.md), the embedding
  (float32 blob), the model that scored it, and ``source`` (``scan`` or an import name).
* ``segments`` dynamic VA: one row per segment (start, end, VA, sd) of a scanned track.
* ``problems`` files (or import rows) that were skipped, with the reason; rewritten per run.
* ``meta``     key/value: catalog id, last build time, model version.
"""
from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path
from typing import Callable, Iterator, List, Union

from cardiotune.errors import DataError

__all__ = ["SCHEMA_VERSION", "open_db", "transaction", "MIGRATIONS"]


def _script(db: sqlite3.Connection, sql: str) -> None:
    # statement by statement: executescript() would COMMIT the migration's transaction
    for stmt in sql.split(";"):
        if stmt.strip():
            db.execute(stmt)


def _v1(db: sqlite3.Connection) -> None:
    _script(
        db,
        """
        CREATE TABLE tracks (
            id TEXT PRIMARY KEY,
            uri TEXT NOT NULL,
            path TEXT,
            sha256 TEXT,
            size INTEGER,
            mtime REAL,
            title TEXT NOT NULL DEFAULT '',
            artist TEXT NOT NULL DEFAULT '',
            album TEXT NOT NULL DEFAULT '',
            duration_s REAL,
            valence REAL NOT NULL,
            arousal REAL NOT NULL,
            valence_sd REAL,
            arousal_sd REAL,
            embedding BLOB,
            model TEXT NOT NULL,
            source TEXT NOT NULL,
            added REAL NOT NULL
        );
        CREATE INDEX tracks_sha ON tracks(sha256);
        CREATE TABLE segments (
            track_id TEXT NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
            start_s REAL NOT NULL,
            end_s REAL NOT NULL,
            valence REAL NOT NULL,
            arousal REAL NOT NULL,
            valence_sd REAL,
            arousal_sd REAL,
            PRIMARY KEY (track_id, start_s)
        );
        CREATE TABLE problems (
            path TEXT PRIMARY KEY,
            reason TEXT NOT NULL,
            source TEXT NOT NULL,
            seen REAL NOT NULL
        );
        """
    )


def _v2(db: sqlite3.Connection) -> None:
    # v2: key/value metadata (catalog id, model version of the last build)
    db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")


MIGRATIONS: List[Callable[[sqlite3.Connection], None]] = [_v1, _v2]
SCHEMA_VERSION = len(MIGRATIONS)


def open_db(path: Union[str, Path]) -> sqlite3.Connection:
    """Open (creating or upgrading) a catalog database. Raises DataError for a newer schema."""
    db = sqlite3.connect(str(path), timeout=30.0, isolation_level=None)  # explicit BEGIN/COMMIT
    db.row_factory = sqlite3.Row
    try:
        db.execute("PRAGMA foreign_keys = ON")
        db.execute("PRAGMA journal_mode = WAL")  # readers (catalog show) never block a build
        version = db.execute("PRAGMA user_version").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        db.close()
        raise DataError(f"{path}: not a catalog database ({exc})") from None
    if version > SCHEMA_VERSION:
        db.close()
        raise DataError(f"{path}: catalog schema {version} is newer than this cardiotune "
                        f"understands ({SCHEMA_VERSION}); upgrade cardiotune")
    for n in range(version, SCHEMA_VERSION):
        with transaction(db):  # one transaction per migration, user_version bumped inside it
            MIGRATIONS[n](db)
            db.execute(f"PRAGMA user_version = {n + 1}")
    return db


@contextlib.contextmanager
def transaction(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """BEGIN ... COMMIT, or ROLLBACK if the block raises."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
