"""Recommendation policies: where in the valence/arousal plane the music should be now.

- ``match``: mirror the listener's current state.
- ``steer``: the iso principle of music therapy (Altshuler 1948; Heiderscheit & Madson
  2015, "Use of the iso principle as a central method in mood management", Music Ther.
  Perspect. 33:45): begin with music that matches the current mood, then move the target
  gradually toward a goal over ``ramp_s`` seconds.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Optional, Tuple

__all__ = ["GOALS", "MatchPolicy", "SteerPolicy", "make_policy"]

# (valence, arousal) goals, in [-1, 1]^2
GOALS: Dict[str, Tuple[float, float]] = {
    "calm": (0.4, -0.6),
    "focus": (0.2, 0.1),
    "energise": (0.6, 0.7),
}


class MatchPolicy:
    name = "match"

    def target(self, t: float, valence: float, arousal: float) -> Tuple[float, float]:
        return valence, arousal

    def describe(self) -> Dict[str, object]:
        return {"name": self.name}


@dataclass
class SteerPolicy:
    goal: Tuple[float, float]
    ramp_s: float = 600.0
    goal_name: str = "custom"
    _start: Optional[Tuple[float, float, float]] = None  # t0, v0, a0: the state when steering began
    name: str = "steer"

    def __post_init__(self) -> None:
        v, a = self.goal
        if not (-1 <= v <= 1 and -1 <= a <= 1):
            raise ValueError(f"goal {self.goal!r}: expected valence and arousal in [-1, 1]")
        if not self.ramp_s > 0:
            raise ValueError(f"ramp_s={self.ramp_s!r}: expected a number of seconds > 0")

    def target(self, t: float, valence: float, arousal: float) -> Tuple[float, float]:
        if self._start is None:
            self._start = (t, valence, arousal)
        t0, v0, a0 = self._start
        frac = min(max((t - t0) / self.ramp_s, 0.0), 1.0)
        return v0 + frac * (self.goal[0] - v0), a0 + frac * (self.goal[1] - a0)

    def describe(self) -> Dict[str, object]:
        d: Dict[str, object] = {"name": self.name, "goal": self.goal_name, "goal_va": list(self.goal),
                                "ramp_s": self.ramp_s}
        if self._start is not None:
            d["started_at"] = self._start[0]
        return d


def make_policy(name: str, goal=None, ramp_s: float = 600.0):
    """``match``, or ``steer`` with a goal name (calm/focus/energise) or an explicit (v, a)."""
    if name == "match":
        return MatchPolicy()
    if name != "steer":
        raise ValueError(f"policy {name!r}: expected 'match' or 'steer'")
    if isinstance(goal, str):
        if goal not in GOALS:
            raise ValueError(f"goal {goal!r}: expected one of {sorted(GOALS)} or [valence, arousal]")
        return SteerPolicy(GOALS[goal], ramp_s, goal)
    if isinstance(goal, (list, tuple)) and len(goal) == 2 and all(isinstance(x, (int, float)) for x in goal):
        return SteerPolicy((float(goal[0]), float(goal[1])), ramp_s, "custom")
    raise ValueError(f"goal {goal!r}: expected one of {sorted(GOALS)} or [valence, arousal]")
