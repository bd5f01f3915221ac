"""Feedback (skip, like), pick-ahead on player position and the similarity choice: pure logic."""
import numpy as np
import pytest
from cardiotune.edge.music.similarity import CmerComposite, VaDistance
from cardiotune.edge.recommender import FeedbackConfig, NearestRecommender
from cardiotune.edge.smoothing import SmoothedVa


class T:
    def __init__(self, i, v, a, dur=60.0):
        self.id, self.title, self.valence, self.arousal, self.duration_s, self.uri = f"t{i}", "t", v, a, dur, ""


POINTS = [(0.0, 0.0), (0.1, 0.0), (0.0, 0.15), (0.8, 0.8), (-0.8, -0.8), (0.8, -0.8)]
TRACKS = [T(i, v, a) for i, (v, a) in enumerate(POINTS)]


def state(t, v=0.0, a=0.0, status="valid"):
    return SmoothedVa(float(t), v, a, 0.1, 0.1, status, float(t))


def rec(**kw):
    return NearestRecommender(TRACKS, min_dwell_s=kw.pop("dwell", 30), hysteresis=0.1, no_repeat=1,
                              feedback=FeedbackConfig(**kw))


def test_pick_explains_target_distance_and_two_runners_up():
    p = rec().update(state(0, 0.02, 0.0))
    assert p.track.id == "t0" and p.trigger == "first" and p.similarity == "va-distance"
    assert [r[0] for r in p.runners_up] == ["t1", "t2"] and p.target == (0.02, 0.0)
    assert p.distance == pytest.approx(0.02) and p.adjustment == 0.0


def test_skip_chooses_again_at_once_and_learns_a_penalty():
    r = rec(skip_penalty=0.5)
    assert r.update(state(0)).track.id == "t0"
    r.feedback("skip")  # the current track
    again = r.update(state(1))  # within the dwell: a skip still re-picks
    assert again.trigger == "skipped" and again.track.id != "t0"
    assert r.adjustment(TRACKS[0]) == pytest.approx(0.5 * 0.5 ** (1 / 1800))  # 1 s of decay
    # later, with t0 out of the no-repeat window, it still ranks behind its neighbours
    ranked = [tr.id for _, tr in r._ranked(0.0, 0.0, set())]
    assert ranked.index("t0") > ranked.index("t2")


def test_penalty_decays_with_the_half_life():
    r = rec(skip_penalty=0.4, half_life_s=100.0)
    r.update(state(0))
    r.feedback("skip", "t0")
    r.update(state(100))
    assert r.adjustment(TRACKS[0]) == pytest.approx(0.2, rel=1e-6)


def test_like_favours_tracks_near_the_liked_one():
    r = rec(like_bonus=0.3, like_radius=0.3)
    r.update(state(0))
    r.feedback("like", "t3")  # (0.8, 0.8)
    assert r.adjustment(TRACKS[3]) == pytest.approx(-0.3)
    assert r.adjustment(TRACKS[4]) > -1e-6  # far away: untouched
    # a state between t0 and t3 now lands on the liked side
    base = rec().update(state(0, 0.35, 0.35)).track.id
    liked = r._ranked(0.35, 0.35, set())[0][1].id
    assert base == "t2" and liked == "t3"


def test_bad_feedback_is_named():
    r = rec()
    with pytest.raises(ValueError, match="no track has been picked"):
        r.feedback("skip")
    r.update(state(0))
    with pytest.raises(ValueError, match="feedback 'love'"):
        r.feedback("love")
    with pytest.raises(ValueError, match="not in the catalog"):
        r.feedback("like", "nope")


def test_player_position_issues_the_next_pick_ahead_of_the_track_end_once():
    r = rec(ahead_s=10.0, dwell=1000)
    first = r.update(state(0))
    assert not r.player_position(first.track.id, 30.0, 60.0)
    assert r.update(state(30)) is None
    assert not r.player_position("t5", 55.0)  # not the current track: ignored
    assert r.player_position(first.track.id, 51.0, 60.0)
    nxt = r.update(state(51))
    assert nxt.trigger == "track-ending" and nxt.track.id != first.track.id
    assert not r.player_position(first.track.id, 52.0, 60.0)  # the old track's reports do nothing more
    assert r.update(state(52)) is None


def test_not_available_never_picks_even_with_feedback_pending():
    r = rec()
    r.update(state(0))
    r.feedback("skip")
    assert r.update(state(1, status="not-available")) is None
    assert r.update(state(2)).trigger == "skipped"


def test_cmer_composite_ranks_by_embedding_not_by_va():
    # embeddings deliberately disagree with VA: track t4 (far in VA) has the query's embedding
    rng = np.random.default_rng(0)
    q = (np.array([1.0, -1.0, 0.5, 0.0]), np.zeros(2), np.ones(2))
    emb = {t.id: (rng.normal(size=4), rng.normal(size=2), np.ones(2) * 2.0) for t in TRACKS}
    emb["t4"] = (q[0] * 2 + 1, np.zeros(2), np.ones(2))  # Pearson 1, KL 0
    sim = CmerComposite(lambda v, a: q, emb, lam=0.5)
    r = NearestRecommender(TRACKS, no_repeat=0, similarity=sim)
    p = r.update(state(0, 0.0, 0.0))
    assert p.track.id == "t4" and p.similarity == "cmer-composite"
    assert p.distance == pytest.approx(0.5)  # 1 - (0.5 * 1 - 0.5 * 0)
    assert VaDistance().distances(0, 0, [TRACKS[4]])[0] > 1.0


def test_cmer_composite_needs_every_track_embedded():
    sim = CmerComposite(lambda v, a: (np.ones(2), np.zeros(2), np.ones(2)), {"t0": (np.ones(2), np.zeros(2),
                                                                                     np.ones(2))})
    with pytest.raises(ValueError, match="no embedding"):
        sim.distances(0, 0, TRACKS)
