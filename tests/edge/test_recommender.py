from dataclasses import dataclass

import pytest
from cardiotune.edge.recommender import NearestRecommender
from cardiotune.edge.smoothing import SmoothedVa


@dataclass(frozen=True)
class Track:
    id: str
    valence: float
    arousal: float
    duration_s: float = 30.0
    title: str = ""
    uri: str = ""


TRACKS = [Track(f"v{v:+.1f}a{a:+.1f}", v, a) for v in (-0.8, 0.0, 0.8) for a in (-0.8, 0.0, 0.8)]


def state(t, v, a, status="valid"):
    return SmoothedVa(t, v, a, 0.1, 0.1, status, t)


def test_first_pick_is_nearest_and_explained():
    rec = NearestRecommender(TRACKS, min_dwell_s=10, hysteresis=0.1, no_repeat=2)
    pick = rec.update(state(0, 0.7, 0.75))
    assert pick.track.id == "v+0.8a+0.8" and pick.trigger == "first"
    assert len(pick.runners_up) == 2 and pick.runners_up[0][1] >= pick.distance


def test_not_available_state_never_picks():
    rec = NearestRecommender(TRACKS)
    assert rec.update(state(0, 0.0, 0.0, "not-available")) is None
    assert rec.current is None


def test_min_dwell_and_hysteresis_prevent_thrashing():
    rec = NearestRecommender(TRACKS, min_dwell_s=10, hysteresis=0.3, no_repeat=2)
    rec.update(state(0, 0.0, 0.0))
    assert rec.update(state(5, 0.8, 0.8)) is None  # inside the dwell: no change however far it moved
    assert rec.update(state(12, 0.1, 0.1)) is None  # small wobble after the dwell: below the hysteresis
    moved = rec.update(state(13, 0.8, 0.8))
    assert moved is not None and moved.trigger == "state-moved" and moved.track.id == "v+0.8a+0.8"


def test_no_immediate_repeat_when_the_track_ends():
    rec = NearestRecommender(TRACKS, min_dwell_s=5, hysteresis=0.1, no_repeat=2)
    first = rec.update(state(0, 0.0, 0.0))
    nxt = rec.update(state(31, 0.0, 0.0))  # first track (30 s) ended, state unchanged
    assert nxt.trigger == "track-ended" and nxt.track.id != first.track.id


def test_rejects_empty_catalog_and_too_long_history():
    with pytest.raises(ValueError, match="empty"):
        NearestRecommender([])
    with pytest.raises(ValueError, match="no_repeat=9"):
        NearestRecommender(TRACKS, no_repeat=9)


def test_steer_starts_at_the_current_state_and_ramps_to_the_goal():
    from cardiotune.edge.policy import make_policy

    rec = NearestRecommender(TRACKS, min_dwell_s=5, hysteresis=0.05, no_repeat=1)
    rec.set_policy(make_policy("steer", "calm", ramp_s=100))
    first = rec.update(state(0, 0.8, 0.8))
    assert first.target == (0.8, 0.8) and first.track.id == "v+0.8a+0.8"  # iso: meet the listener first
    assert first.policy["goal"] == "calm"
    late = [rec.update(state(t, 0.8, 0.8)) for t in range(6, 130, 6)]
    last = [p for p in late if p is not None][-1]
    assert last.target == pytest.approx((0.4, -0.6))  # the goal once the ramp is over, whatever the state
    assert last.track.arousal < 0


def test_policy_change_repicks_without_waiting_for_the_dwell():
    from cardiotune.edge.policy import make_policy

    rec = NearestRecommender(TRACKS, min_dwell_s=60, hysteresis=0.1, no_repeat=2)
    rec.update(state(0, 0.0, 0.0))
    rec.set_policy(make_policy("steer", [0.8, -0.8], ramp_s=1))
    assert rec.update(state(1, 0.0, 0.0)).trigger == "policy-changed"


def test_make_policy_rejects_unknown_names_with_the_options():
    from cardiotune.edge.policy import make_policy

    with pytest.raises(ValueError, match="'match' or 'steer'"):
        make_policy("chill")
    with pytest.raises(ValueError, match="calm"):
        make_policy("steer", "sleepy")
    with pytest.raises(ValueError, match="in \\[-1, 1\\]"):
        make_policy("steer", [2, 0])
