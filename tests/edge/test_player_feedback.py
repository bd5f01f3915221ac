"""The device side of player events (cardiotune.player-event/1): pure logic."""
import json

import pytest
from cardiotune.edge.player_feedback import PlayerEventHandler
from cardiotune.edge.recommender import NearestRecommender
from cardiotune.edge.smoothing import SmoothedVa


class T:
    def __init__(self, i, v, a):
        self.id, self.title, self.valence, self.arousal, self.duration_s, self.uri = f"t{i}", "t", v, a, 30.0, ""


TRACKS = [T(i, v, a) for i, (v, a) in enumerate([(0, 0), (0.5, 0.5), (-0.5, -0.5), (0.5, -0.5)])]


def ev(event, track_id="t0", position_s=0.0, duration_s=30.0, reason=""):
    return json.dumps({"schema": "cardiotune.player-event/1", "device": "d", "player": "p", "backend": "null",
                       "seq": 1, "ts": 0.0, "event": event, "pick_id": "x", "track_id": track_id,
                       "position_s": position_s, "duration_s": duration_s, "reason": reason, "error": None}).encode()


def state(t):
    return SmoothedVa(float(t), 0.0, 0.0, 0.1, 0.1, "valid", float(t))


@pytest.fixture
def handler():
    rec = NearestRecommender(TRACKS, min_dwell_s=100, no_repeat=1)
    rec.update(state(0))
    return PlayerEventHandler(rec)


@pytest.mark.parametrize("raw, why", [
    (b"\xff\xfe", "UTF-8"),
    (b"{not json", "not JSON"),
    (b"[1, 2]", "JSON list"),
    (json.dumps({"event": "ended", "track_id": "t0"}).encode(), "'schema'"),
    (ev("dance"), "event 'dance'"),
    (ev("position", track_id=5), "track_id"),
    (ev("position", position_s="late"), "position_s"),
    (ev("position", duration_s=-1), "duration_s"),
    (ev("skipped", track_id="zzz", reason="external"), "not in the catalog"),
    (b"x" * 5000, "exceeds"),
])
def test_bad_events_are_rejected_with_a_reason_never_raised(handler, raw, why):
    ok, reason = handler.handle(raw)
    assert not ok and why in reason
    assert handler.rejected == 1


def test_position_near_the_end_makes_the_next_pick_due(handler):
    assert handler.handle(ev("position", position_s=5.0)) == (True, "position noted")
    assert handler.handle(ev("position", position_s=22.0)) == (True, "next pick due")
    assert handler.picks_due == 1
    assert handler.recommender.update(state(22)).trigger == "track-ending"


def test_ended_makes_the_next_pick_due(handler):
    assert handler.handle(ev("ended", position_s=None, reason="eof")) == (True, "next pick due")
    assert handler.recommender.update(state(30)).trigger == "track-ending"


def test_only_an_external_skip_teaches_a_penalty(handler):
    assert handler.handle(ev("skipped", position_s=3.0, reason="replaced"))[0]
    assert handler.recommender.adjustment(TRACKS[0]) == 0.0
    ok, _ = handler.handle(ev("skipped", position_s=3.0, reason="external"))
    assert ok and handler.recommender.adjustment(TRACKS[0]) > 0 and handler.skips_learned == 1
    assert handler.recommender.update(state(1)).trigger == "skipped"


def test_started_and_error_are_counted_only(handler):
    assert handler.handle(ev("started")) == (True, "started noted")
    assert handler.handle(ev("error")) == (True, "error noted")
    assert handler.accepted == 2
