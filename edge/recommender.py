"""Nearest-in-VA music picks with minimum dwell, hysteresis and no immediate repeats.

Pure logic on source time. A new pick happens when
  1. there is no current pick and the state is usable,
  2. the current track has played out (its duration has elapsed), or
  3. the minimum dwell has passed and another track is closer to the state than the
     current one by more than ``hysteresis`` (so small wobbles never change the music),
  4. the player reported the current track's position and less than ``ahead_s`` remain
     (``track-ending``: the next pick is ready before the track ends), or
  5. the listener skipped the current track (``skipped``: choose again at once).
Estimates with status ``not-available`` never produce a pick.

Ranking: a similarity (:mod:`.music.similarity`: VA distance, or CMER-CL's composite
score when the catalog has embeddings) plus a learned feedback term per track: a skip
adds ``skip_penalty`` to that track; a like lowers the distance of every track near the
liked one in VA (Gaussian kernel of width ``like_radius``, up to ``like_bonus``). Both
decay with a half-life of ``feedback_half_life_s`` of source time.
"""
from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import Deque, Dict, List, Optional, Protocol, Sequence, Tuple

from .ecg.hrv import NOT_AVAILABLE
from .music.similarity import VaDistance
from .policy import MatchPolicy
from .smoothing import SmoothedVa

__all__ = ["TrackLike", "Pick", "NearestRecommender", "FeedbackConfig", "FEEDBACK_KINDS"]

FEEDBACK_KINDS = ("skip", "like")


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
    similarity: str = "va-distance"
    adjustment: float = 0.0  # learned feedback term included in the ranking (not in ``distance``)


@dataclass(frozen=True)
class FeedbackConfig:
    skip_penalty: float = 0.5  # added to a skipped track's distance
    like_bonus: float = 0.3  # subtracted at the liked track's VA point, less farther away
    like_radius: float = 0.3  # VA distance at which a like's effect has fallen to exp(-1/2)
    half_life_s: float = 1800.0  # feedback fades: tastes change within a session
    ahead_s: float = 10.0  # pick the next track this long before the current one ends


class NearestRecommender:
    def __init__(self, tracks: Sequence[TrackLike], min_dwell_s: float = 15.0,
                 hysteresis: float = 0.15, no_repeat: int = 4, similarity=None,
                 feedback: FeedbackConfig = FeedbackConfig()):
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
        self.similarity = similarity or VaDistance()
        self.feedback_config = feedback
        self._penalties: Dict[str, Tuple[float, float]] = {}  # track id -> (penalty, at t)
        self._likes: List[Tuple[float, float, float]] = []  # (valence, arousal, t) of liked tracks
        self._pending: Optional[str] = None  # "skipped" | "track-ending": re-pick on the next usable state
        self._ending_for: Optional[Pick] = None  # the pick a track-ending re-pick was already made for
        self._t = 0.0  # newest source time seen
        self._by_id = {t.id: t for t in self.tracks}

    def set_policy(self, policy, repick: bool = True) -> None:
        """Switch policy; with ``repick`` the next usable state re-picks at once (no dwell wait)."""
        self.policy = policy
        self._policy_changed = repick and self._current is not None

    @property
    def current(self) -> Optional[Pick]:
        return self._current

    # ------------------------------------------------------------------ feedback
    def _decay(self, t_then: float) -> float:
        return 0.5 ** (max(self._t - t_then, 0.0) / self.feedback_config.half_life_s)

    def adjustment(self, track: TrackLike) -> float:
        """Learned feedback term for ``track`` now (> 0 penalises, < 0 favours)."""
        fb = self.feedback_config
        adj = 0.0
        if track.id in self._penalties:
            p, t = self._penalties[track.id]
            adj += p * self._decay(t)
        for v, a, t in self._likes:
            d2 = (track.valence - v) ** 2 + (track.arousal - a) ** 2
            adj -= fb.like_bonus * math.exp(-d2 / (2 * fb.like_radius ** 2)) * self._decay(t)
        return adj

    def feedback(self, kind: str, track_id: Optional[str] = None) -> str:
        """``skip`` (penalise and re-pick at once) or ``like`` (favour similar tracks).
        ``track_id`` defaults to the current pick's track."""
        if kind not in FEEDBACK_KINDS:
            raise ValueError(f"feedback {kind!r}: expected one of {list(FEEDBACK_KINDS)}")
        if track_id is None:
            if self._current is None:
                raise ValueError("no track has been picked yet: name the track")
            track_id = self._current.track.id
        track = self._by_id.get(track_id)
        if track is None:
            raise ValueError(f"track {str(track_id)[:64]!r} is not in the catalog")
        if kind == "skip":
            p, t = self._penalties.get(track_id, (0.0, self._t))
            self._penalties[track_id] = (p * self._decay(t) + self.feedback_config.skip_penalty, self._t)
            if self._current is not None and self._current.track.id == track_id:
                self._pending = "skipped"
            return f"skip of {track_id} learned; choosing again"
        self._likes.append((track.valence, track.arousal, self._t))
        del self._likes[:-64]  # bounded: old likes have decayed anyway
        return f"like of {track_id} learned; similar tracks favoured"

    def player_position(self, track_id: str, position_s: float, duration_s: Optional[float] = None) -> bool:
        """The player's report of where it is in a track. True when the next pick is now due
        (less than ``ahead_s`` left of the current pick's track)."""
        cur = self._current
        if cur is None or track_id != cur.track.id or self._ending_for is cur:
            return False
        total = float(duration_s) if duration_s is not None else float(cur.track.duration_s)
        if total - float(position_s) <= self.feedback_config.ahead_s:
            self._pending = "track-ending"
            self._ending_for = cur
            return True
        return False

    # ------------------------------------------------------------------ ranking
    def _ranked(self, v: float, a: float, exclude) -> List[Tuple[float, TrackLike]]:
        """(distance + feedback adjustment, track), best first."""
        cands = [tr for tr in self.tracks if tr.id not in exclude]
        if not cands:
            return []
        base = self.similarity.distances(v, a, cands)
        ranked = [(float(d) + self.adjustment(tr), tr) for d, tr in zip(base, cands)]
        ranked.sort(key=lambda x: (x[0], x[1].id))  # id breaks ties: deterministic
        return ranked

    def _base_distance(self, tr: TrackLike, v: float, a: float) -> float:
        return float(self.similarity.distances(v, a, [tr])[0])

    def update(self, state: SmoothedVa) -> Optional[Pick]:
        if state.status == NOT_AVAILABLE:
            return None
        self._t = max(self._t, state.t)
        tv, ta = self.policy.target(state.t, state.valence, state.arousal)
        cur = self._current
        exclude = set(self._history)
        if cur is None:
            trigger = "first"
        elif self._policy_changed:
            trigger = "policy-changed"
        elif self._pending is not None:
            trigger = self._pending
            exclude.add(cur.track.id)  # a skipped or ending track is never chosen again at once
        else:
            elapsed = state.t - cur.t
            if elapsed >= cur.track.duration_s:
                trigger = "track-ended"
            elif elapsed >= self.min_dwell_s:
                cur_d = self._base_distance(cur.track, tv, ta) + self.adjustment(cur.track)
                best_d = self._ranked(tv, ta, set(self._history))
                if not best_d or cur_d - best_d[0][0] <= self.hysteresis:
                    return None
                trigger = "state-moved"
            else:
                return None
        self._policy_changed = False
        self._pending = None
        ranked = self._ranked(tv, ta, exclude)
        if not ranked:  # everything excluded (tiny catalog): fall back to the no-repeat window only
            ranked = self._ranked(tv, ta, set(self._history))
        score, track = ranked[0]
        adj = self.adjustment(track)
        pick = Pick(state.t, track, max(score - adj, 0.0), state, trigger,
                    tuple((tr.id, round(max(d - self.adjustment(tr), 0.0), 4)) for d, tr in ranked[1:3]), (tv, ta),
                    self.policy.describe(), self.similarity.name, round(adj, 4))
        self._history.append(track.id)
        self._current = pick
        return pick
