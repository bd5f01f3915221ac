"""Labelled HRV feature windows from a real ECG-emotion corpus (DREAMER, AMIGOS, WESAD).

Each trial's ECG goes through the same front-end and features as the synthetic data and
the device. The per-user resting baseline is the trial's own resting recording where the
dataset has one (DREAMER's ``ECG.baseline``); otherwise the median over *all* of that
subject's valid windows (label-free, so no leakage of the ratings). The trial's
self-assessed valence/arousal labels every window of the trial. Output is
:class:`~cardiotune.export.ecg.synth_data.SubjectData` per subject, so
:func:`cardiotune.export.ecg.train.train_model` trains on it unchanged, and the subject
is the only split group.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Dict, List

import numpy as np

from ...edge.ecg.frontend import EcgFrontEnd
from ...edge.ecg.hrv import HrvWindow, HrvWindower
from ...edge.ecg_va_features import RestingBaseline, windows_to_features
from ..data.physio import EcgCorpus
from .synth_data import SubjectData, SynthConfig

__all__ = ["ecg_windows", "subjects_from_corpus"]


def ecg_windows(ecg: np.ndarray, fs: float, cfg: SynthConfig = SynthConfig()) -> List[HrvWindow]:
    fe, hw = EcgFrontEnd(fs, 0.0), HrvWindower(cfg.window_s, cfg.hop_s, 0.0)
    step = max(int(cfg.chunk_s * fs), 1)
    out: List[HrvWindow] = []
    for i in range(0, ecg.size, step):
        res = fe.push(ecg[i : i + step])
        out += hw.push(res.beats, res.t_decided)
    return out


def subjects_from_corpus(corpus: EcgCorpus, cfg: SynthConfig = SynthConfig()) -> List[SubjectData]:
    per_subject: Dict[str, list] = defaultdict(list)
    for trial in corpus.trials:
        per_subject[trial.subject].append((trial, ecg_windows(trial.ecg, trial.fs, cfg)))
    subjects = []
    for name, items in sorted(per_subject.items()):
        fallback = RestingBaseline.from_windows([w for _, ws in items for w in ws])
        feats, vas, ts, hrs = [], [], [], []
        for trial, ws in items:
            base = fallback
            if trial.baseline_ecg is not None:
                try:
                    base = RestingBaseline.from_windows(
                        ecg_windows(trial.baseline_ecg, trial.fs, cfg)
                    )
                except ValueError:
                    base = fallback  # resting recording too short or noisy
            if not ws:
                continue
            feats.append(windows_to_features(ws, base))
            vas.append(np.tile([trial.valence, trial.arousal], (len(ws), 1)))
            ts.append(np.array([w.t_end for w in ws]))
            hrs.append(np.array([w.hr_bpm for w in ws]))
        if feats:
            subjects.append(
                SubjectData(
                    name,
                    np.concatenate(feats),
                    np.concatenate(vas).astype(np.float32),
                    np.concatenate(ts),
                    fallback,
                    np.concatenate(hrs),
                )
            )
    return subjects
