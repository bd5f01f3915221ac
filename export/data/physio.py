"""Physiology-emotion corpora with ECG: DREAMER, AMIGOS, WESAD in their published formats.

Every loader returns :class:`EcgTrial` items carrying the ``subject`` (the only split
group) and valence/arousal mapped to [-1, 1]. Valence is read from the field *named*
valence and arousal from the field *named* arousal - CardioMusic's DREAMER loader swapped
them; ``tests/export/data/test_physio.py`` pins the mapping with distinct values.

- DREAMER (Katsigiannis & Ramzan 2018): ``DREAMER.mat``, struct ``DREAMER`` with
  ``Data`` (1 x 23 cell of subject structs: ``Age, Gender, EEG, ECG, ScoreValence,
  ScoreArousal, ScoreDominance``), ``ECG_SamplingRate`` (256), ``EEG_SamplingRate``,
  ``noOfSubjects``, ``noOfVideoSequences``. ``ECG.stimuli`` / ``ECG.baseline`` are
  18 x 1 cells of (samples x 2) arrays. Scores 1-5 -> (s - 3) / 2.
- AMIGOS (Miranda-Correa et al. 2018), preprocessed Matlab release:
  ``Data_Preprocessed_PNN.mat`` with ``joined_data`` (1 x 20 cell of samples x 17 at
  128 Hz: 14 EEG, ECG right, ECG left, GSR), ``labels_selfassessment`` (1 x 20 cell of
  1 x 12: arousal, valence, dominance, liking, familiarity, 7 basic emotions),
  ``VideoIDs``. Scores 1-9 -> (s - 5) / 4. NaN-only trials are skipped.
- WESAD (Schmidt et al. 2018): ``SN/SN.pkl``, a Python 2 pickle (``latin1``) dict with
  ``signal['chest']['ECG']`` (samples x 1, 700 Hz), ``label`` (700 Hz: 1 baseline,
  2 stress, 3 amusement, 4 meditation; 0 and 5-7 are not used) and ``subject``. WESAD has
  conditions, not VA ratings per segment: ``WESAD_CONDITION_VA`` places them on the
  circumplex (our documented choice).
"""

from __future__ import annotations

import pickle
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import numpy as np

from ...errors import DataError
from ..splits import assert_disjoint, group_holdout, group_kfold
from . import require_file

__all__ = [
    "EcgTrial",
    "EcgCorpus",
    "load_dreamer",
    "load_amigos",
    "load_wesad",
    "WESAD_CONDITION_VA",
]

WESAD_FS = 700.0
WESAD_CONDITION_VA: Dict[int, Tuple[str, float, float]] = {
    1: ("baseline", 0.1, -0.3),
    2: ("stress", -0.6, 0.7),
    3: ("amusement", 0.7, 0.4),
    4: ("meditation", 0.3, -0.7),
}


@dataclass
class EcgTrial:
    subject: str  # split group, dataset-qualified ("dreamer:01")
    trial: str
    ecg: np.ndarray  # (samples,) first ECG channel
    fs: float
    valence: float  # [-1, 1]
    arousal: float
    baseline_ecg: Optional[np.ndarray] = None  # the dataset's resting recording for this trial


class EcgCorpus:
    """Trials with subjects; splits only by subject."""

    def __init__(self, name: str, trials: List[EcgTrial]):
        if not trials:
            raise DataError(f"{name}: no trials found")
        self.name, self.trials = name, trials

    def __len__(self) -> int:
        return len(self.trials)

    @property
    def subjects(self) -> np.ndarray:
        return np.array([t.subject for t in self.trials])

    def subject_kfold(self, k: int, seed: int = 0):
        for tr, te in group_kfold(self.subjects, k, seed):
            assert_disjoint(self.subjects, tr, te)
            yield tr, te

    def subject_holdout(self, test_fraction: float = 0.2, seed: int = 0):
        tr, te = group_holdout(self.subjects, test_fraction, seed)
        assert_disjoint(self.subjects, tr, te)
        return tr, te


def _loadmat(path: Path) -> dict:
    from scipy.io import loadmat

    try:
        return loadmat(str(path), squeeze_me=True, struct_as_record=False)
    except (ValueError, OSError, NotImplementedError) as exc:
        raise DataError(f"{path}: not a readable MATLAB v5 .mat file ({exc})") from exc


def _field(obj, name: str, where: str):
    if isinstance(obj, dict):
        if name not in obj:
            raise DataError(
                f"{where}: expected the key '{name}', "
                f"found {sorted(k for k in obj if not k.startswith('__'))}"
            )
        return obj[name]
    if not hasattr(obj, name):
        have = sorted(getattr(obj, "_fieldnames", []) or [])
        raise DataError(f"{where}: expected the field '{name}', found {have}")
    return getattr(obj, name)


def _cells(x, n: Optional[int], where: str) -> list:
    """Items of a MATLAB cell array loaded with ``squeeze_me`` (a 1-cell array arrives as
    its content, so anything that is not an object array is one cell)."""
    if isinstance(x, np.ndarray) and x.dtype == object:
        items = list(x.ravel())
    else:
        items = [x]
    if n is not None and len(items) != n:
        raise DataError(f"{where}: expected {n} cells, found {len(items)}")
    return items


def _first_channel(x, where: str) -> np.ndarray:
    a = np.asarray(x, dtype=np.float64)
    if a.ndim == 1:
        return a
    if a.ndim != 2:
        raise DataError(f"{where}: expected a (samples x channels) array, got shape {a.shape}")
    return a[:, 0] if a.shape[0] >= a.shape[1] else a[0]


def load_dreamer(path) -> EcgCorpus:
    """``path`` is DREAMER.mat (or the folder holding it)."""
    path = Path(path)
    if path.is_dir():
        path = path / "DREAMER.mat"
    require_file(path, "DREAMER")
    top = _field(_loadmat(path), "DREAMER", str(path))
    fs = float(_field(top, "ECG_SamplingRate", f"{path}:DREAMER"))
    subjects = _cells(_field(top, "Data", f"{path}:DREAMER"), None, f"{path}:DREAMER.Data")
    trials: List[EcgTrial] = []
    for si, subj in enumerate(subjects, start=1):
        where = f"{path}:DREAMER.Data{{{si}}}"
        ecg = _field(subj, "ECG", where)
        stim = _cells(_field(ecg, "stimuli", where + ".ECG"), None, where + ".ECG.stimuli")
        base = _cells(_field(ecg, "baseline", where + ".ECG"), len(stim), where + ".ECG.baseline")
        val = np.atleast_1d(np.asarray(_field(subj, "ScoreValence", where), dtype=float))
        aro = np.atleast_1d(np.asarray(_field(subj, "ScoreArousal", where), dtype=float))
        if val.size != len(stim) or aro.size != len(stim):
            raise DataError(
                f"{where}: {len(stim)} ECG stimuli but {val.size} ScoreValence / "
                f"{aro.size} ScoreArousal"
            )
        for k in range(len(stim)):
            trials.append(
                EcgTrial(
                    f"dreamer:{si:02d}",
                    f"video{k + 1:02d}",
                    _first_channel(stim[k], f"{where}.ECG.stimuli{{{k + 1}}}"),
                    fs,
                    (val[k] - 3.0) / 2.0,
                    (aro[k] - 3.0) / 2.0,
                    _first_channel(base[k], f"{where}.ECG.baseline{{{k + 1}}}"),
                )
            )
    return EcgCorpus("dreamer", trials)


_AMIGOS_NAME = re.compile(r"^Data_Preprocessed_P(\d\d)\.mat$")
AMIGOS_FS = 128.0
AMIGOS_ECG_COLUMN = 14  # 0-based: columns 0-13 EEG, 14 ECG right, 15 ECG left, 16 GSR


def load_amigos(root) -> EcgCorpus:
    """``root`` holds ``Data_Preprocessed_PNN.mat`` files (any depth)."""
    root = Path(root)
    files = sorted(p for p in root.rglob("Data_Preprocessed_P*.mat") if _AMIGOS_NAME.match(p.name))
    if not files:
        raise DataError(
            f"AMIGOS at {root}: expected Data_Preprocessed_PNN.mat files "
            "(preprocessed Matlab release)"
        )
    trials: List[EcgTrial] = []
    for f in files:
        pid = _AMIGOS_NAME.match(f.name).group(1)
        mat = _loadmat(f)
        data = _cells(_field(mat, "joined_data", str(f)), None, f"{f}:joined_data")
        labels = _cells(
            _field(mat, "labels_selfassessment", str(f)), len(data), f"{f}:labels_selfassessment"
        )
        vids = _cells(_field(mat, "VideoIDs", str(f)), len(data), f"{f}:VideoIDs")
        for k, (x, lab, vid) in enumerate(zip(data, labels, vids)):
            x = np.asarray(x, dtype=float)
            lab = np.atleast_1d(np.asarray(lab, dtype=float))
            if x.ndim != 2 or x.shape[1] != 17:
                raise DataError(
                    f"{f}:joined_data{{{k + 1}}}: expected samples x 17 columns, got {x.shape}"
                )
            if lab.size < 2:
                raise DataError(
                    f"{f}:labels_selfassessment{{{k + 1}}}: expected 12 values, got {lab.size}"
                )
            if np.isnan(lab[:2]).any() or np.isnan(x[:, AMIGOS_ECG_COLUMN]).all():
                continue
            trials.append(
                EcgTrial(
                    f"amigos:{pid}",
                    str(vid),
                    x[:, AMIGOS_ECG_COLUMN],
                    AMIGOS_FS,
                    (lab[1] - 5.0) / 4.0,
                    (lab[0] - 5.0) / 4.0,
                )
            )
    return EcgCorpus("amigos", trials)


def load_wesad(root, min_s: float = 60.0) -> EcgCorpus:
    """``root`` is the WESAD folder with ``SN/SN.pkl``; one trial per contiguous condition."""
    root = Path(root)
    pkls = sorted(p for p in root.glob("S*/S*.pkl") if p.stem == p.parent.name)
    if not pkls:
        raise DataError(f"WESAD at {root}: expected S2/S2.pkl ... S17/S17.pkl")
    trials: List[EcgTrial] = []
    for p in pkls:
        with open(p, "rb") as fh:
            try:
                d = pickle.load(fh, encoding="latin1")
            except (pickle.UnpicklingError, EOFError) as exc:
                raise DataError(f"{p}: not a readable WESAD pickle ({exc})") from exc
        ecg = _first_channel(
            _field(
                _field(_field(d, "signal", str(p)), "chest", f"{p}['signal']"),
                "ECG",
                f"{p}['signal']['chest']",
            ),
            f"{p}['signal']['chest']['ECG']",
        )
        label = np.asarray(_field(d, "label", str(p))).ravel()
        if label.size != ecg.size:
            raise DataError(
                f"{p}: 'label' has {label.size} samples, chest ECG {ecg.size}: "
                "expected equal (700 Hz)"
            )
        edges = np.flatnonzero(np.diff(label)) + 1
        starts, ends = np.r_[0, edges], np.r_[edges, label.size]
        for s, e in zip(starts, ends):
            cond = int(label[s])
            if cond not in WESAD_CONDITION_VA or (e - s) < min_s * WESAD_FS:
                continue
            name, v, a = WESAD_CONDITION_VA[cond]
            trials.append(
                EcgTrial(
                    f"wesad:{p.parent.name}",
                    f"{name}@{s / WESAD_FS:.0f}s",
                    ecg[s:e],
                    WESAD_FS,
                    v,
                    a,
                )
            )
    return EcgCorpus("wesad", trials)
