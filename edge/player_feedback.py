"""The device side of player events: what players report (``player/event``, schema
``cardiotune.player-event/1``, see :mod:`.player_events` and docs/mqtt.md) steers the
recommender. Pure logic: ``handle(raw_bytes) -> (accepted, reason)``; events are not
acknowledged, a bad one is counted and logged with its reason, never raised.

- ``position`` (every few seconds while playing) and ``ended``: when less than
  ``recommender.ahead_s`` of the current pick's track remain - or it has ended - the next
  usable state picks at once (``trigger: track-ending``), so the next track is ready in time;
- ``skipped`` with reason ``external`` (the listener skipped it on the player): a learned
  penalty for that track and, if it is the current pick, an immediate new pick
  (``trigger: skipped``). ``skipped``/``replaced`` is the device's own newer pick taking
  over and teaches nothing;
- ``started`` and ``error`` are accepted and counted only.
Likes (and skips from elsewhere) arrive as the ``feedback`` command on ``cmd``.
"""
from __future__ import annotations

import json
import logging
import math
from typing import Any, Dict, Tuple

from .player_events import EVENT_KINDS, PLAYER_EVENT_SCHEMA

__all__ = ["PlayerEventHandler", "MAX_EVENT_BYTES"]

log = logging.getLogger(__name__)
MAX_EVENT_BYTES = 4096


def _number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


class PlayerEventHandler:
    def __init__(self, recommender):
        self.recommender = recommender
        self.accepted = self.rejected = 0
        self.picks_due = 0  # position/ended reports that made the next pick due
        self.skips_learned = 0

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
        if msg.get("schema") != PLAYER_EVENT_SCHEMA:
            return False, f"'schema' must be {PLAYER_EVENT_SCHEMA!r}"
        kind = msg.get("event")
        if kind not in EVENT_KINDS:
            return False, f"event {str(kind)[:40]!r}: expected one of {list(EVENT_KINDS)}"
        if kind in ("started", "error"):
            return True, f"{kind} noted"
        track = msg.get("track_id")
        if not isinstance(track, str) or not track:
            return False, "'track_id' must be a non-empty string"
        if kind == "skipped":
            if msg.get("reason") != "external":
                return True, "replaced by a newer pick: nothing to learn"
            try:
                detail = self.recommender.feedback("skip", track)
            except ValueError as exc:
                return False, str(exc)
            self.skips_learned += 1
            return True, detail
        return self._position(msg, track, ended=kind == "ended")

    def _position(self, msg: Dict[str, Any], track: str, ended: bool) -> Tuple[bool, str]:
        pos, dur = msg.get("position_s"), msg.get("duration_s")
        if dur is not None and (not _number(dur) or dur <= 0):
            return False, f"duration_s {dur!r}: expected a number of seconds > 0"
        if ended and not _number(pos):
            pos = dur if dur is not None else math.inf
        if not _number(pos) and not (ended and pos == math.inf):
            return False, f"position_s {pos!r}: expected a number of seconds >= 0"
        if pos < 0:
            return False, f"position_s {pos!r}: expected a number of seconds >= 0"
        if ended:  # whatever position it reports, the track is over
            pos = math.inf
        due = self.recommender.player_position(track, float(pos), None if dur is None else float(dur))
        self.picks_due += int(due)
        return True, "next pick due" if due else "position noted"
