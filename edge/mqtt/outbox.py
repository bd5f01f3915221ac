"""A small on-disk outbox (SQLite, WAL mode) so QoS 1 messages - picks, acks - survive
broker outages and process restarts. A row is deleted only after the broker accepted
the message, so delivery is at-least-once; consumers de-duplicate by ``pick_id``.

SQLite is in the standard library, crash-safe, and fast enough for messages that come
every few seconds; nothing hand-written could beat that.
"""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import List, Union

__all__ = ["Outbox", "OutboxRow"]


@dataclass(frozen=True)
class OutboxRow:
    id: int
    topic: str
    payload: bytes
    qos: int
    retain: bool


class Outbox:
    def __init__(self, path: Union[str, Path], max_rows: int = 10_000):
        self.path = str(path)
        self.max_rows = max_rows
        self._db = sqlite3.connect(self.path, isolation_level=None)  # autocommit; one statement = one txn
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable across process crashes
        self._db.execute("CREATE TABLE IF NOT EXISTS outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, "
                         "topic TEXT NOT NULL, payload BLOB NOT NULL, qos INTEGER NOT NULL, retain INTEGER NOT NULL)")
        self.dropped = 0

    def put(self, topic: str, payload: bytes, qos: int, retain: bool) -> int:
        cur = self._db.execute("INSERT INTO outbox (topic, payload, qos, retain) VALUES (?, ?, ?, ?)",
                               (topic, payload, qos, int(retain)))
        if len(self) > self.max_rows:  # bounded: the oldest undelivered message goes first (counted)
            self._db.execute("DELETE FROM outbox WHERE id = (SELECT MIN(id) FROM outbox)")
            self.dropped += 1
        return int(cur.lastrowid)

    def pending(self, limit: int = 100) -> List[OutboxRow]:
        rows = self._db.execute("SELECT id, topic, payload, qos, retain FROM outbox ORDER BY id LIMIT ?", (limit,))
        return [OutboxRow(r[0], r[1], bytes(r[2]), r[3], bool(r[4])) for r in rows]

    def delete(self, row_id: int) -> None:
        self._db.execute("DELETE FROM outbox WHERE id = ?", (row_id,))

    def __len__(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])

    def close(self) -> None:
        self._db.close()
