import json

import pytest
from cardiotune.edge.player_events import PlayerEventHandler
from cardiotune.edge.recommender import NearestRecommender
from cardiotune.edge.smoothing import SmoothedVa


class T:
    def __init__(self, i, v, a):
        self.id, self.title, self.valence, self.arousal, self.duration_s, self.uri = f"t{i}", "t", v, a, 30.0, ""


TRACKS = [T(i, v, a) for i, (v, a) in enumerate([(0, 0), (0.5, 0.5), (-0.5, -0.5), (0.5, -0.5)])]


def ev(**kw):
    return json.dumps({"schema": "cardiotune.player/1", **kw}).encode()


@pytest.fixture
def handler():
    rec = NearestRecommender(TRACKS, min_dwell_s=100, no_repeat=1)
    rec.update(SmoothedVa(0.0, 0.0, 0.0, 0.1, 0.1, "valid", 0.0))
    return PlayerEventHandler(rec)


@pytest.mark.parametrize("raw, why", [
    (b"\xff\xfe", "UTF-8"),
    (b"{not json", "not JSON"),
    (b"[1, 2]", "JSON list"),
    (json.dumps({"event": "skip", "track_id": "t0"}).encode(), "'schema'"),
    (ev(event="dance", track_id="t0"), "event 'dance'"),
    (ev(event="skip", track_id=5), "track_id"),
    (ev(event="position", track_id="t0", position_s="late"), "position_s"),
    (ev(event="position", track_id="t0", position_s=3, duration_s=-1), "duration_s"),
    (ev(event="like", track_id="zzz"), "not in the catalog"),
    (b"x" * 5000, "exceeds"),
])
def test_bad_events_are_rejected_with_a_reason_never_raised(handler, raw, why):
    ok, reason = handler.handle(raw)
    assert not ok and why in reason
    assert handler.rejected == 1


def test_position_near_the_end_makes_the_next_pick_due(handler):
    assert handler.handle(ev(event="position", track_id="t0", position_s=5.0)) == (True, "position noted")
    assert handler.handle(ev(event="position", track_id="t0", position_s=22.0, duration_s=30.0)) == (
        True, "next pick due")
    assert handler.picks_due == 1
    nxt = handler.recommender.update(SmoothedVa(22.0, 0.0, 0.0, 0.1, 0.1, "valid", 22.0))
    assert nxt.trigger == "track-ending"


def test_skip_and_like_reach_the_recommender(handler):
    ok, _ = handler.handle(ev(event="like", track_id="t1"))
    assert ok and handler.recommender.adjustment(TRACKS[1]) < 0
    ok, _ = handler.handle(ev(event="skip", track_id="t0"))
    assert ok and handler.recommender.adjustment(TRACKS[0]) > 0
    assert handler.recommender.update(SmoothedVa(1.0, 0.0, 0.0, 0.1, 0.1, "valid", 1.0)).trigger == "skipped"
