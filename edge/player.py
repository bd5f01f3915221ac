"""The reference player's pure logic: what to do with a pick message. No I/O, no event loop.

    payload bytes --parse_pick--> Pick --PickFilter.decide--> Decision(action, message, pick)

Actions: ``play``; ``stale`` (now > ts + ttl_s: the pick describes a past state and is
never presented as fresh); ``duplicate`` (same ``pick_id`` seen before, e.g. the retained
pick redelivered after a reconnect); ``invalid`` (not JSON, wrong shape, another device).

Also here: :class:`Backoff` (capped exponential reconnect delay with jitter) and
:class:`Crossfader` (the audio mixer the sound-card callback pulls from; a new pick fades
the previous one out instead of cutting it).

The I/O around this lives in ``player_audio`` (outputs) and ``player_mqtt`` (subscriber).
"""
from __future__ import annotations

import json
import math
import random
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple, Union

import numpy as np

from .mqtt.topics import validate_device_id

__all__ = ["PICK_SCHEMA", "PickError", "PickTrack", "Pick", "Decision", "PickFilter",
           "parse_pick", "Backoff", "Crossfader"]

PICK_SCHEMA = "cardiotune.pick/1"


class PickError(ValueError):
    """A pick payload is malformed. ``field`` names the offending field ('' for the whole)."""

    def __init__(self, field: str, problem: str):
        self.field, self.problem = field, problem
        super().__init__(f"{field}: {problem}" if field else problem)


@dataclass(frozen=True)
class PickTrack:
    id: str
    title: str
    valence: float
    arousal: float
    uri: str
    duration_s: float


@dataclass(frozen=True)
class Pick:
    device: str
    seq: int
    ts: float
    ttl_s: float
    pick_id: str
    track: PickTrack
    reason: Dict[str, Any] = field(default_factory=dict, compare=False)

    def describe(self) -> str:
        t = self.track
        return f"{t.title} (V={t.valence:+.2f}, A={t.arousal:+.2f})"


def _get(obj: Dict[str, Any], key: str, kind: str, where: str = "") -> Any:
    name = f"{where}{key}"
    if key not in obj:
        raise PickError(name, "missing")
    value = obj[key]
    if kind == "str":
        if not isinstance(value, str):
            raise PickError(name, f"got {value!r}, expected a string")
    elif kind == "int":
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise PickError(name, f"got {value!r}, expected an integer >= 0")
    elif kind in ("num", "pos"):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise PickError(name, f"got {value!r}, expected a finite number")
        value = float(value)
        if kind == "pos" and value <= 0:
            raise PickError(name, f"got {value!r}, expected a number > 0")
    elif kind == "obj" and not isinstance(value, dict):
        raise PickError(name, f"got {type(value).__name__}, expected an object")
    return value


def parse_pick(payload: Union[bytes, str]) -> Pick:
    """Validate a ``cardiotune.pick/1`` payload. Raises :class:`PickError` naming the field."""
    try:
        doc = json.loads(payload)
    except (ValueError, UnicodeDecodeError) as exc:
        raise PickError("", f"not valid JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise PickError("", f"expected a JSON object, got {type(doc).__name__}")
    schema = doc.get("schema")
    if schema != PICK_SCHEMA:
        raise PickError("schema", f"got {schema!r}, expected {PICK_SCHEMA!r}")
    device = _get(doc, "device", "str")
    try:
        validate_device_id(device)
    except ValueError as exc:
        raise PickError("device", str(exc)) from None
    pick_id = _get(doc, "pick_id", "str")
    if not pick_id:
        raise PickError("pick_id", "empty, expected a unique non-empty string")
    tr = _get(doc, "track", "obj")
    track = PickTrack(
        id=_get(tr, "id", "str", "track."),
        title=_get(tr, "title", "str", "track."),
        valence=_get(tr, "valence", "num", "track."),
        arousal=_get(tr, "arousal", "num", "track."),
        uri=_get(tr, "uri", "str", "track."),
        duration_s=_get(tr, "duration_s", "pos", "track."),
    )
    for dim in ("valence", "arousal"):
        if not -1.0 <= getattr(track, dim) <= 1.0:
            raise PickError(f"track.{dim}", f"got {getattr(track, dim)!r}, expected [-1, 1]")
    reason = doc.get("reason", {})
    if not isinstance(reason, dict):
        raise PickError("reason", f"got {type(reason).__name__}, expected an object")
    return Pick(device, _get(doc, "seq", "int"), _get(doc, "ts", "num"),
                _get(doc, "ttl_s", "pos"), pick_id, track, reason)


@dataclass(frozen=True)
class Decision:
    action: str  # "play" | "stale" | "duplicate" | "invalid"
    message: str
    pick: Optional[Pick] = None
    age_s: Optional[float] = None


class PickFilter:
    """Turns payloads into decisions; remembers the last ``remember`` pick ids (LRU)."""

    def __init__(self, device_id: Optional[str] = None, remember: int = 256):
        if remember < 1:
            raise ValueError(f"remember={remember}: expected >= 1")
        self.device_id = device_id
        self.remember = remember
        self._seen: OrderedDict[str, None] = OrderedDict()

    def _mark_seen(self, pick_id: str) -> None:
        self._seen[pick_id] = None
        self._seen.move_to_end(pick_id)
        while len(self._seen) > self.remember:
            self._seen.popitem(last=False)  # forget the oldest id

    def decide(self, payload: Union[bytes, str], now: float) -> Decision:
        try:
            pick = parse_pick(payload)
        except PickError as exc:
            return Decision("invalid", f"invalid pick ignored: {exc}")
        if self.device_id is not None and pick.device != self.device_id:
            return Decision("invalid", f"invalid pick ignored: device {pick.device!r}, "
                                       f"expected {self.device_id!r}", pick)
        age = now - pick.ts
        if pick.pick_id in self._seen:
            return Decision("duplicate", f"duplicate pick ignored: {pick.pick_id}", pick, age)
        self._mark_seen(pick.pick_id)
        if age > pick.ttl_s:
            return Decision("stale", f"stale pick ignored: age {age:.1f} s > ttl {pick.ttl_s:.1f} s "
                                     f"({pick.describe()})", pick, age)
        note = f" (published {-age:.1f} s in the future: clocks differ?)" if age < -1.0 else ""
        return Decision("play", f"play {pick.describe()}{note}", pick, age)


class Backoff:
    """Reconnect delays: initial * factor**n capped at ``cap``, each shortened by up to
    ``jitter`` (a fraction) at random so many players do not reconnect in lockstep."""

    def __init__(self, initial: float = 0.5, cap: float = 30.0, factor: float = 2.0,
                 jitter: float = 0.5, rng: Optional[random.Random] = None):
        if not (0 < initial <= cap and factor >= 1 and 0 <= jitter < 1):
            raise ValueError(f"Backoff(initial={initial}, cap={cap}, factor={factor}, "
                             f"jitter={jitter}): expected 0 < initial <= cap, factor >= 1, "
                             "0 <= jitter < 1")
        self.initial, self.cap, self.factor, self.jitter = initial, cap, factor, jitter
        self._rng = rng or random.Random()
        self.attempt = 0

    def next(self) -> float:
        base = min(self.cap, self.initial * self.factor ** min(self.attempt, 64))
        self.attempt += 1
        return base * (1.0 - self.jitter * self._rng.random())

    def reset(self) -> None:
        self.attempt = 0


class Crossfader:
    """Mono float32 mixer pulled by the audio callback. ``start(audio, tag)`` replaces what
    plays, fading the old clip out over ``fade_frames`` (no click); ``render(n)`` returns n
    frames. Thread-safe: ``start``/``stop`` run on the event loop, ``render`` on the audio
    thread. ``drain_events()`` returns what ``render`` saw since the last call:
    ``("started", tag)`` when a clip's first frame went out and ``("ended", tag)`` when its
    last one did (a clip replaced or stopped before its end never reports "ended")."""

    def __init__(self, fade_frames: int = 1100):
        self.fade_frames = max(1, int(fade_frames))
        self._lock = threading.Lock()
        self._current: Optional[np.ndarray] = None
        self._tag: Any = None
        self._pos = 0
        self._tail = np.zeros(0, dtype=np.float32)  # faded-out end of the previous clip
        self._tail_pos = 0
        self._events: List[Tuple[str, Any]] = []

    def _fade_out_current(self) -> None:
        if self._current is not None:
            seg = self._current[self._pos:self._pos + self.fade_frames]
            ramp = np.linspace(1.0, 0.0, self.fade_frames, dtype=np.float32)[: len(seg)]
            self._tail = (seg * ramp).astype(np.float32)
            self._tail_pos = 0

    def start(self, audio: np.ndarray, tag: Any = None) -> None:
        audio = np.asarray(audio, dtype=np.float32).reshape(-1)
        with self._lock:
            self._fade_out_current()
            self._current, self._pos, self._tag = audio, 0, tag

    def stop(self) -> None:
        with self._lock:
            self._fade_out_current()
            self._current, self._tag = None, None

    @property
    def playing(self) -> bool:
        with self._lock:
            return self._current is not None and self._pos < len(self._current)

    def position(self) -> Tuple[Any, int]:
        """(tag, frames rendered) of the current clip; (None, 0) when nothing plays."""
        with self._lock:
            if self._current is None or self._pos >= len(self._current):
                return None, 0
            return self._tag, self._pos

    def drain_events(self) -> List[Tuple[str, Any]]:
        with self._lock:
            out, self._events = self._events, []
        return out

    def render(self, frames: int) -> np.ndarray:
        out = np.zeros(frames, dtype=np.float32)
        with self._lock:
            if self._tail_pos < len(self._tail):
                seg = self._tail[self._tail_pos:self._tail_pos + frames]
                out[: len(seg)] += seg
                self._tail_pos += len(seg)
            if self._current is not None and self._pos < len(self._current):
                if self._pos == 0:
                    self._events.append(("started", self._tag))
                seg = self._current[self._pos:self._pos + frames]
                out[: len(seg)] += seg
                self._pos += len(seg)
                if self._pos >= len(self._current):
                    self._events.append(("ended", self._tag))
        return out
