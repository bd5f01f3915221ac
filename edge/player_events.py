"""Player events arriving on ``cardiotune/v1/<device>/player`` (in): position, skip, like.

Pure logic: ``handle(raw_bytes) -> (accepted, reason)``. Events are fire-and-forget
(the player does not wait for an answer), so nothing is acknowledged on MQTT; a bad
event is counted and logged with its reason, never raised.

    {"schema": "cardiotune.player/1", "event": "position", "track_id": "proc-003",
     "position_s": 12.5, "duration_s": 20.0}
    {"schema": "cardiotune.player/1", "event": "skip", "track_id": "proc-003"}
    {"schema": "cardiotune.player/1", "event": "like", "track_id": "proc-003"}
"""
from __future__ import annotations

import json
import logging
import math
from typing import Any, Dict, Tuple

__all__ = ["PLAYER_SCHEMA", "PLAYER_EVENTS", "PlayerEventHandler"]

log = logging.getLogger(__name__)
PLAYER_SCHEMA = "cardiotune.player/1"
PLAYER_EVENTS = ("position", "skip", "like")
MAX_EVENT_BYTES = 2048


def _number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


class PlayerEventHandler:
    def __init__(self, recommender):
        self.recommender = recommender
        self.accepted = self.rejected = 0
        self.picks_due = 0  # position reports that made the next pick due

    def handle(self, raw: bytes) -> Tuple[bool, str]:
        ok, reason = self._handle(raw)
        if ok:
            self.accepted += 1
        else:
            self.rejected += 1
            log.warning("player event rejected: %s", reason)
        return ok, reason

    def _handle(self, raw: bytes) -> Tuple[bool, str]:
        if len(raw) > MAX_EVENT_BYTES:
            return False, f"event of {len(raw)} bytes exceeds {MAX_EVENT_BYTES}"
        try:
            msg = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            return False, "event is not valid UTF-8"
        except ValueError as exc:
            return False, f"event is not JSON: {exc}"
        if not isinstance(msg, dict):
            return False, f"event is a JSON {type(msg).__name__}, expected an object"
        if msg.get("schema") != PLAYER_SCHEMA:
            return False, f"'schema' must be {PLAYER_SCHEMA!r}"
        kind, track = msg.get("event"), msg.get("track_id")
        if kind not in PLAYER_EVENTS:
            return False, f"event {str(kind)[:40]!r}: expected one of {list(PLAYER_EVENTS)}"
        if not isinstance(track, str) or not track:
            return False, "'track_id' must be a non-empty string"
        if kind == "position":
            return self._position(msg, track)
        try:
            return True, self.recommender.feedback(kind, track)
        except ValueError as exc:
            return False, str(exc)

    def _position(self, msg: Dict[str, Any], track: str) -> Tuple[bool, str]:
        pos, dur = msg.get("position_s"), msg.get("duration_s")
        if not _number(pos) or pos < 0:
            return False, f"position_s {pos!r}: expected a number of seconds >= 0"
        if dur is not None and (not _number(dur) or dur <= 0):
            return False, f"duration_s {dur!r}: expected a number of seconds > 0"
        due = self.recommender.player_position(track, float(pos), None if dur is None else float(dur))
        self.picks_due += int(due)
        return True, "next pick due" if due else "position noted"
