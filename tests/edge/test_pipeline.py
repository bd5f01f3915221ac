"""The pure chain on the bundled session: accuracy against ground truth, pick behaviour
across phases, and determinism whatever the replay speed."""
import asyncio
from dataclasses import dataclass

import numpy as np
import pytest
from cardiotune.edge.estimator import OnnxVaEstimator
from cardiotune.edge.pipeline import PickEvent, Pipeline, StateEvent
from cardiotune.edge.runtime import run_chain
from cardiotune.edge.session import load_session
from cardiotune.edge.sources.replay import ReplaySource
from cardiotune.edge.timebase import FakeClock


@dataclass(frozen=True)
class Track:
    id: str
    valence: float
    arousal: float
    duration_s: float = 20.0
    title: str = ""
    uri: str = ""


GRID = [Track(f"v{v:+.2f}a{a:+.2f}", float(v), float(a)) for v in np.linspace(-0.9, 0.9, 5)
        for a in np.linspace(-0.9, 0.9, 5)]


@pytest.fixture(scope="module")
def session():
    return load_session("builtin:demo")


@pytest.fixture(scope="module")
def events(session):
    pipe = Pipeline(session.fs, OnnxVaEstimator(), GRID)
    out = asyncio.run(run_chain(ReplaySource(session, speed=None), pipe, None, "x"))
    return out


def test_arousal_tracks_ground_truth(session, events):
    usable = [e for e in events.state_log if e.status != "not-available"]
    assert len(usable) > 600
    est = np.array([e.va.arousal for e in usable])
    truth = np.array([session.truth_at(e.window.t_start, e.window.t_end)[1] for e in usable])
    r = np.corrcoef(est, truth)[0, 1]
    assert r >= 0.8, f"arousal Pearson r {r:.3f} < 0.8"


def test_picks_follow_the_phases_within_30_s(session, events):
    stress, recovery = session.phase_starts[1], session.phase_starts[2]
    picks = events.pick_log

    def first_after(t0, cond):
        return next((p.pick.t for p in picks if p.pick.t >= t0 and cond(p.pick.track.arousal)), None)

    t_up = first_after(stress, lambda a: a > 0.2)
    t_down = first_after(recovery, lambda a: a < -0.2)
    assert t_up is not None and t_up - stress <= 30, f"high-arousal pick at {t_up} (stress from {stress})"
    # recovery targets a milder arousal (-0.3) than rest, so allow one intermediate pick
    assert t_down is not None and t_down - recovery <= 60, f"low-arousal pick at {t_down} (recovery {recovery})"
    rest_picks = [p for p in picks if p.pick.t < stress]
    assert rest_picks and all(p.pick.track.arousal <= 0 for p in rest_picks)


def test_every_state_event_carries_its_window_and_status(events):
    assert all(isinstance(e, StateEvent) for e in events.state_log)
    assert all(isinstance(e, PickEvent) for e in events.pick_log)
    ends = [e.window.t_end for e in events.state_log]
    assert ends == sorted(ends) and np.allclose(np.diff(ends), 1.0)
    early = [e for e in events.state_log if e.window.t_end < 120]
    assert early and all(e.status != "valid" for e in early)  # provisional baseline: never "valid"


def test_real_time_and_max_speed_give_identical_results(session):
    def run(speed, clock):
        pipe = Pipeline(session.fs, OnnxVaEstimator(), GRID)
        src = ReplaySource(session, speed=speed, duration_s=300, clock=clock)
        out = asyncio.run(run_chain(src, pipe, None, "x"))
        return ([(e.window.t_end, e.va.valence, e.va.arousal, e.status) for e in out.state_log],
                [(p.pick.t, p.pick.track.id) for p in out.pick_log])

    clock = FakeClock()
    at_1x = run(1.0, clock)
    assert clock.now() == pytest.approx(300.0)  # the pacing really scheduled 1x deadlines
    assert at_1x == run(None, None)
    assert len(at_1x[1]) > 3
