"""Player events: what a player tells the device about the picks it plays. Pure logic.

Published on ``cardiotune/v1/<device>/player/event`` (QoS 1, not retained; schema
``cardiotune.player-event/1``, edge/mqtt/schemas/player_event.schema.json, docs/mqtt.md)::

    started   the pick's audio began (first samples rendered / MPD reports the song playing)
    position  every few seconds while playing: position_s into the track
    ended     the track played out (reason "eof"), or its pick's TTL passed while it was still
              playing ("ttl-expired"), or the player stopped ("stopped")
    skipped   the track was replaced before its end: by a newer pick ("replaced") or by
              someone using the player directly ("external", e.g. `mpc next`)
    error     the pick could not be played (missing file, decoder error, MPD refused it)

The runtime uses ``ended`` to schedule the next pick and ``skipped`` (with position_s) to
learn which picks the listener rejected.
"""
from __future__ import annotations

import time
from typing import Any, Dict, Optional

from .player import Pick

__all__ = ["PLAYER_EVENT_SCHEMA", "EVENT_KINDS", "EventCounter", "make_event"]

PLAYER_EVENT_SCHEMA = "cardiotune.player-event/1"
EVENT_KINDS = ("started", "position", "ended", "skipped", "error")


def make_event(kind: str, pick: Optional[Pick], *, device: str, player: str, backend: str, seq: int,
               position_s: Optional[float] = None, reason: str = "", error: Optional[str] = None,
               ts: Optional[float] = None) -> Dict[str, Any]:
    if kind not in EVENT_KINDS:
        raise ValueError(f"player event {kind!r}: expected one of {', '.join(EVENT_KINDS)}")
    return {
        "schema": PLAYER_EVENT_SCHEMA,
        "device": device,
        "player": player,
        "backend": backend,
        "seq": seq,
        "ts": time.time() if ts is None else ts,
        "event": kind,
        "pick_id": pick.pick_id if pick is not None else None,
        "track_id": pick.track.id if pick is not None else None,
        "position_s": None if position_s is None else round(float(position_s), 3),
        "duration_s": pick.track.duration_s if pick is not None else None,
        "reason": reason,
        "error": error,
    }


class EventCounter:
    """Counts events by kind (for the player's summary and the benchmark)."""

    def __init__(self) -> None:
        self.counts: Dict[str, int] = {k: 0 for k in EVENT_KINDS}
        self.dropped = 0

    def add(self, kind: str) -> None:
        self.counts[kind] = self.counts.get(kind, 0) + 1
