"""DREAMER / AMIGOS / WESAD loaders on fixtures built in the published structures."""

import pickle

import numpy as np
import pytest
from cardiotune.export.data.physio import load_amigos, load_dreamer, load_wesad
from scipy.io import savemat

from cardiotune.errors import DataError


def _cell(items):
    c = np.empty((len(items), 1), dtype=object)
    for i, x in enumerate(items):
        c[i, 0] = x
    return c


def _dreamer(path, n_subj=3, n_vid=4, swap=False):
    rng = np.random.default_rng(0)
    data = np.empty((1, n_subj), dtype=object)
    for s in range(n_subj):
        # distinct valence and arousal so a swap is detectable
        val = np.array([1, 2, 3, 4][:n_vid], dtype=float).reshape(-1, 1)
        aro = np.array([5, 5, 4, 4][:n_vid], dtype=float).reshape(-1, 1)
        data[0, s] = {
            "Age": 25 + s,
            "Gender": "male",
            "EEG": {
                "baseline": _cell([rng.normal(size=(64, 14))] * n_vid),
                "stimuli": _cell([rng.normal(size=(128, 14))] * n_vid),
            },
            "ECG": {
                "baseline": _cell([np.full((512, 2), -1.0)] * n_vid),
                "stimuli": _cell(
                    [np.column_stack([np.arange(256.0) + k, np.zeros(256)]) for k in range(n_vid)]
                ),
            },
            "ScoreValence": aro if swap else val,
            "ScoreArousal": val if swap else aro,
            "ScoreDominance": np.full((n_vid, 1), 3.0),
        }
    savemat(
        str(path),
        {
            "DREAMER": {
                "Data": data,
                "EEG_SamplingRate": 128,
                "ECG_SamplingRate": 256,
                "EEG_Electrodes": _cell(["AF3", "F7"]),
                "noOfSubjects": n_subj,
                "noOfVideoSequences": n_vid,
                "Disclaimer": "fixture",
                "Provider": "fixture",
                "Version": "1.0.2",
                "Acknowledgement": "fixture",
            }
        },
    )


def test_dreamer_valence_and_arousal_are_not_swapped(tmp_path):
    _dreamer(tmp_path / "DREAMER.mat")
    c = load_dreamer(tmp_path)
    assert len(c) == 12 and len(set(c.subjects)) == 3
    t = [x for x in c.trials if x.subject == "dreamer:02"]
    # ScoreValence 1..4 -> (s-3)/2 ; ScoreArousal 5,5,4,4
    assert [x.valence for x in t] == [-1.0, -0.5, 0.0, 0.5]
    assert [x.arousal for x in t] == [1.0, 1.0, 0.5, 0.5]
    assert t[1].fs == 256.0
    np.testing.assert_array_equal(t[1].ecg, np.arange(256.0) + 1)  # first ECG channel, trial 2
    assert t[0].baseline_ecg.shape == (512,) and (t[0].baseline_ecg == -1).all()


def test_dreamer_bad_layout_names_the_key(tmp_path):
    savemat(str(tmp_path / "DREAMER.mat"), {"dreamer": np.zeros(3)})
    with pytest.raises(DataError, match="'DREAMER'"):
        load_dreamer(tmp_path / "DREAMER.mat")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="DREAMER.mat"):
        load_dreamer(tmp_path / "empty")


def _amigos(root, pid=1, n=3):
    rng = np.random.default_rng(pid)
    joined, labels, vids = [], [], []
    for k in range(n):
        x = rng.normal(size=(300, 17))
        x[:, 14] = 1000 + k  # ECG right
        joined.append(x)
        labels.append(
            np.array([[7.0, 2.0 + k, 5, 5, 1, 0, 0, 1, 0, 0, 0, 0]])
        )  # arousal, valence, ...
        vids.append(f"{10 + k}")
    labels[-1][0, :2] = np.nan  # an unrated trial
    d = root / f"Data_Preprocessed_P{pid:02d}"
    d.mkdir(parents=True)
    cell = _row
    savemat(
        str(d / f"Data_Preprocessed_P{pid:02d}.mat"),
        {
            "joined_data": cell(joined),
            "labels_selfassessment": cell(labels),
            "labels_ext_annotation": cell([np.zeros((3, 3))] * n),
            "VideoIDs": cell(vids),
        },
    )


def _row(items):
    c = np.empty((1, len(items)), dtype=object)
    for i, x in enumerate(items):
        c[0, i] = x
    return c


def test_amigos_columns_and_scales(tmp_path):
    _amigos(tmp_path, 1)
    _amigos(tmp_path, 2)
    c = load_amigos(tmp_path)
    assert len(c) == 4  # the NaN-rated trial of each subject is skipped
    t = c.trials[1]
    assert t.subject == "amigos:01" and t.trial == "11" and t.fs == 128.0
    assert t.arousal == (7.0 - 5) / 4 and t.valence == (3.0 - 5) / 4
    assert (t.ecg == 1001).all()


def test_amigos_wrong_columns(tmp_path):
    d = tmp_path / "Data_Preprocessed_P03"
    d.mkdir()
    savemat(
        str(d / "Data_Preprocessed_P03.mat"),
        {
            "joined_data": _row([np.zeros((10, 5))]),
            "labels_selfassessment": _row([np.ones((1, 12))]),
            "VideoIDs": _row(["1"]),
        },
    )
    with pytest.raises(DataError, match="17 columns"):
        load_amigos(tmp_path)


def _wesad(root, sid="S2"):
    fs = 700
    label = np.concatenate(
        [
            np.zeros(10 * fs),
            np.ones(70 * fs),
            np.full(65 * fs, 2),
            np.full(5 * fs, 6),
            np.full(30 * fs, 3),
        ]
    ).astype(int)
    n = label.size
    d = {
        "signal": {
            "chest": {
                "ACC": np.zeros((n, 3)),
                "ECG": np.arange(n, dtype=float).reshape(-1, 1),
                "EMG": np.zeros((n, 1)),
                "EDA": np.zeros((n, 1)),
                "Temp": np.zeros((n, 1)),
                "Resp": np.zeros((n, 1)),
            },
            "wrist": {
                "ACC": np.zeros((n // 22, 3)),
                "BVP": np.zeros((n // 11, 1)),
                "EDA": np.zeros((n // 175, 1)),
                "TEMP": np.zeros((n // 175, 1)),
            },
        },
        "label": label,
        "subject": sid,
    }
    (root / sid).mkdir(parents=True)
    with open(root / sid / f"{sid}.pkl", "wb") as fh:
        pickle.dump(d, fh, protocol=2)


def test_wesad_conditions(tmp_path):
    _wesad(tmp_path, "S2")
    _wesad(tmp_path, "S3")
    c = load_wesad(tmp_path)
    assert sorted(set(c.subjects)) == ["wesad:S2", "wesad:S3"]
    s2 = [t for t in c.trials if t.subject == "wesad:S2"]
    assert [t.trial.split("@")[0] for t in s2] == ["baseline", "stress"]  # amusement < 60 s
    stress = s2[1]
    assert stress.valence < 0 < stress.arousal and stress.fs == 700.0
    assert stress.ecg[0] == 80 * 700 and stress.ecg.size == 65 * 700
    tr, te = c.subject_holdout(0.5)
    assert not set(c.subjects[tr]) & set(c.subjects[te])


def test_wesad_missing(tmp_path):
    with pytest.raises(DataError, match="S2/S2.pkl"):
        load_wesad(tmp_path)
