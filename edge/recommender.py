"""Nearest-in-VA music picks with minimum dwell, hysteresis and no immediate repeats.

Pure logic on source time. A new pick happens when
  1. there is no current pick and the state is usable,
  2. the current track has played out (its duration has elapsed), or
  3. the minimum dwell has passed and another track is closer to the state than the
     current one by more than ``hysteresis`` (so small wobbles never change the music).
Estimates with status ``not-available`` never produce a pick.
"""
from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import Deque, List, Optional, Protocol, Sequence, Tuple

from .ecg.hrv import NOT_AVAILABLE
from .policy import MatchPolicy
from .smoothing import SmoothedVa

__all__ = ["TrackLike", "Pick", "NearestRecommender"]


class TrackLike(Protocol):
    id: str
    title: str
    valence: float
    arousal: float
    duration_s: float
    uri: str


@dataclass(frozen=True)
class Pick:
    t: float  # source time of the decision
    track: TrackLike
    distance: float
    state: SmoothedVa
    trigger: str  # first | track-ended | state-moved | policy-changed
    runners_up: Tuple[Tuple[str, float], ...]
    target: Tuple[float, float] = (0.0, 0.0)  # the VA point the policy aimed at
    policy: Optional[dict] = None


class NearestRecommender:
    def __init__(self, tracks: Sequence[TrackLike], min_dwell_s: float = 15.0,
                 hysteresis: float = 0.15, no_repeat: int = 4):
        if not tracks:
            raise ValueError("the catalog is empty: expected at least one track")
        if no_repeat >= len(tracks):
            raise ValueError(f"no_repeat={no_repeat}: expected fewer than the {len(tracks)} catalog tracks")
        self.tracks = list(tracks)
        self.min_dwell_s, self.hysteresis = float(min_dwell_s), float(hysteresis)
        self._history: Deque[str] = deque(maxlen=no_repeat)
        self._current: Optional[Pick] = None
        self.policy = MatchPolicy()
        self._policy_changed = False

    def set_policy(self, policy) -> None:
        """Switch policy; the next usable state re-picks at once (no dwell wait)."""
        self.policy = policy
        self._policy_changed = True

    @property
    def current(self) -> Optional[Pick]:
        return self._current

    def _ranked(self, v: float, a: float, exclude) -> List[Tuple[float, TrackLike]]:
        ranked = [(math.hypot(tr.valence - v, tr.arousal - a), tr) for tr in self.tracks if tr.id not in exclude]
        ranked.sort(key=lambda x: (x[0], x[1].id))  # id breaks ties: deterministic
        return ranked

    def update(self, state: SmoothedVa) -> Optional[Pick]:
        if state.status == NOT_AVAILABLE:
            return None
        tv, ta = self.policy.target(state.t, state.valence, state.arousal)
        cur = self._current
        if cur is None:
            trigger = "first"
        elif self._policy_changed:
            trigger = "policy-changed"
        else:
            elapsed = state.t - cur.t
            if elapsed >= cur.track.duration_s:
                trigger = "track-ended"
            elif elapsed >= self.min_dwell_s:
                cur_d = math.hypot(cur.track.valence - tv, cur.track.arousal - ta)
                best_d = self._ranked(tv, ta, set(self._history))
                if not best_d or cur_d - best_d[0][0] <= self.hysteresis:
                    return None
                trigger = "state-moved"
            else:
                return None
        self._policy_changed = False
        ranked = self._ranked(tv, ta, set(self._history))
        dist, track = ranked[0]
        pick = Pick(state.t, track, dist, state, trigger,
                    tuple((tr.id, round(d, 4)) for d, tr in ranked[1:3]), (tv, ta), self.policy.describe())
        self._history.append(track.id)
        self._current = pick
        return pick
