"""Labelled HRV feature sequences from synthetic subjects, through the *real* front-end.

No labelled real ECG-emotion data was available to this project (DREAMER, AMIGOS,
ASCERTAIN, DEAP need an EULA; WESAD's chest ECG was not reachable), so the ECG model is
trained on :mod:`cardiotune.edge.synthetic.ecg` subjects. Each synthetic session starts
with a resting calibration phase (the per-user baseline, as on the device), followed by
random valence/arousal phases. The ECG goes through ``EcgFrontEnd`` and ``HrvWindower``
exactly as on the device, then :mod:`cardiotune.edge.ecg_va_features`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from typing import List, Tuple

import numpy as np

from ...edge.ecg.frontend import EcgFrontEnd
from ...edge.ecg.hrv import HrvWindower
from ...edge.ecg_va_features import RestingBaseline, windows_to_features
from ...edge.synthetic.ecg import Phase, SubjectProfile, synthesize_session
from ..data import cache_dir

__all__ = ["SynthConfig", "SubjectData", "make_subject", "make_subjects", "sequences"]


@dataclass(frozen=True)
class SynthConfig:
    fs: float = 250.0
    calibration_s: float = 150.0
    n_phases: int = 8
    phase_s: Tuple[float, float] = (60.0, 150.0)
    window_s: float = 30.0
    hop_s: float = 2.0
    chunk_s: float = 1.0


@dataclass
class SubjectData:
    subject: object  # the split group: the synthetic seed (int) or a corpus subject id (str)
    features: np.ndarray  # (n_windows, 4) after calibration
    va: np.ndarray  # (n_windows, 2) ground truth valence, arousal at each window's end
    t_end: np.ndarray
    baseline: RestingBaseline
    hr_bpm: np.ndarray  # the front-end's HR per window (nan if none)


def _phases(rng: np.random.Generator, cfg: SynthConfig) -> List[Phase]:
    rest_v, rest_a = rng.uniform(-0.1, 0.3), rng.uniform(-0.7, -0.4)
    phases = [Phase("calibration", cfg.calibration_s, float(rest_v), float(rest_a))]
    for k in range(cfg.n_phases):
        v, a = rng.uniform(-1, 1, 2)
        phases.append(Phase(f"p{k}", float(rng.uniform(*cfg.phase_s)), float(v), float(a)))
    return phases


def make_subject(seed: int, cfg: SynthConfig = SynthConfig()) -> SubjectData:
    rng = np.random.default_rng(10_000 + seed)
    sess = synthesize_session(
        _phases(rng, cfg), fs=cfg.fs, seed=seed, profile=SubjectProfile.from_seed(seed)
    )
    fe, hw = EcgFrontEnd(cfg.fs, 0.0), HrvWindower(cfg.window_s, cfg.hop_s, 0.0)
    step = int(cfg.chunk_s * cfg.fs)
    windows = []
    for i in range(0, len(sess.ecg_mv), step):
        out = fe.push(sess.ecg_mv[i : i + step])
        windows += hw.push(out.beats, out.t_decided)
    calib = [w for w in windows if w.t_end <= cfg.calibration_s]
    rest = [w for w in windows if w.t_end > cfg.calibration_s]
    baseline = RestingBaseline.from_windows(calib)
    t_end = np.array([w.t_end for w in rest])
    va = np.stack(
        [
            np.interp(t_end, sess.va_times, sess.valence),
            np.interp(t_end, sess.va_times, sess.arousal),
        ],
        axis=1,
    ).astype(np.float32)
    return SubjectData(
        seed,
        windows_to_features(rest, baseline),
        va,
        t_end,
        baseline,
        np.array([w.hr_bpm for w in rest]),
    )


def make_subjects(
    seeds,
    cfg: SynthConfig = SynthConfig(),
    progress: bool = True,
    use_cache: bool = True,
    workers: int = 1,
) -> List[SubjectData]:
    """Subjects for the given seeds, cached as one npz per set (key: seeds + config).

    ``workers > 1`` synthesises subjects in that many processes (each subject is an
    independent seeded session, so the result is identical to the serial one)."""
    seeds = [int(s) for s in seeds]
    key = hashlib.sha1(
        json.dumps({"seeds": seeds, "cfg": asdict(cfg), "v": 1}).encode()
    ).hexdigest()[:20]
    path = cache_dir("ecg") / f"synth-{key}.npz"
    if use_cache and path.is_file():
        z = np.load(path, allow_pickle=False)
        return [
            SubjectData(
                s,
                z[f"f{s}"],
                z[f"va{s}"],
                z[f"t{s}"],
                RestingBaseline(*z[f"b{s}"][:3], int(z[f"b{s}"][3])),
                z[f"hr{s}"],
            )
            for s in seeds
        ]
    from tqdm import tqdm

    if workers > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(workers) as pool:
            jobs = pool.map(make_subject, seeds, [cfg] * len(seeds))
            subjects = list(
                tqdm(jobs, total=len(seeds), desc="synthetic subjects", disable=not progress, leave=False)
            )
    else:
        subjects = [
            make_subject(s, cfg)
            for s in tqdm(seeds, desc="synthetic subjects", disable=not progress, leave=False)
        ]
    if use_cache:
        arrays = {}
        for d in subjects:
            b = d.baseline
            arrays.update(
                {
                    f"f{d.subject}": d.features,
                    f"va{d.subject}": d.va,
                    f"t{d.subject}": d.t_end,
                    f"hr{d.subject}": d.hr_bpm,
                    f"b{d.subject}": np.array([b.hr_bpm, b.rmssd_ms, b.sdnn_ms, b.n_windows]),
                }
            )
        np.savez(path, **arrays)
    return subjects


def sequences(subjects: List[SubjectData], seq_len: int):
    """Stack every full sequence of ``seq_len`` windows: x (n, seq_len, 4), va (n, 2) at the
    last window, group (n,) = subject."""
    xs, ys, gs = [], [], []
    for d in subjects:
        n = len(d.features) - seq_len + 1
        if n <= 0:
            continue
        idx = np.arange(seq_len)[None, :] + np.arange(n)[:, None]
        xs.append(d.features[idx])
        ys.append(d.va[seq_len - 1 :])
        gs.append(np.full(n, d.subject))
    return (
        np.concatenate(xs).astype(np.float32),
        np.concatenate(ys).astype(np.float32),
        np.concatenate(gs),
    )
