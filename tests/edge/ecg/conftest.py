from __future__ import annotations

import numpy as np
import pytest
from cardiotune.edge.synthetic.ecg import Phase, synthesize_session


def make_session(fs: float = 250.0, seconds: float = 60.0, seed: int = 3):
    return synthesize_session((Phase("rest", seconds, 0.0, 0.0),), fs=fs, seed=seed)


@pytest.fixture(name="make_session")
def _make_session_fixture():
    return make_session


@pytest.fixture(scope="module")
def session():
    return make_session()


@pytest.fixture(scope="module")
def ecg(session):
    return np.asarray(session.ecg_mv, dtype=np.float64), session.fs
