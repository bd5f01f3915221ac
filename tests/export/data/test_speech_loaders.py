"""Speech loaders on fixtures built in each corpus's published layout."""

import os
from pathlib import Path

import numpy as np
import pytest
from cardiotune.export.data.speech import (
    CATEGORY_VA,
    EMODB_CLASSES,
    HIGH_AROUSAL,
    POSITIVE_VALENCE,
    load_emodb,
    load_iemocap,
    load_ravdess,
)
from cardiotune.export.splits import assert_disjoint

from cardiotune.errors import DataError

sf = pytest.importorskip("soundfile")


def _wav(path: Path, seconds=0.2, sr=16000):
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), np.zeros(int(seconds * sr), dtype=np.float32), sr)


def _emodb(root: Path, with_csv: bool):
    names = [
        "03a01Fa.wav",
        "03a01Wa.wav",
        "08b02Lb.wav",
        "08a04Tc.wav",
        "16a01Ea.wav",
        "16b10Ab.wav",
        "11a02Nc.wav",
    ]
    for n in names:
        _wav(root / "wav" / n)
    if with_csv:
        letters = {
            "W": "anger",
            "L": "boredom",
            "E": "disgust",
            "A": "fear",
            "F": "happiness",
            "T": "sadness",
            "N": "neutral",
        }
        lines = [
            "file,speaker,sex,age,text,emotion,version,sr,dur_s,recognition_pct,naturalness_pct"
        ]
        for n in names:
            lines.append(
                f"wav/{n},{n[:2]},m,30,{n[2:5]},{letters[n[5]]},{n[6]},22050,2.0,90.0,80.0"
            )
        (root / "labels.csv").write_text("\n".join(lines) + "\n")
    return names


@pytest.mark.parametrize("with_csv", [True, False])
def test_emodb_layout_and_labels(tmp_path, with_csv):
    _emodb(tmp_path, with_csv)
    c = load_emodb(tmp_path)
    by_name = {u.path.name: u for u in c.utterances}
    assert by_name["03a01Wa.wav"].emotion == "anger" and by_name["08b02Lb.wav"].emotion == "boredom"
    assert by_name["16a01Ea.wav"].emotion == "disgust" and by_name["16b10Ab.wav"].emotion == "fear"
    assert by_name["03a01Fa.wav"].speaker == "emodb:03"
    u = by_name["03a01Fa.wav"]
    assert (u.valence, u.arousal) == CATEGORY_VA["happiness"]


def test_emodb_errors_name_the_file(tmp_path):
    with pytest.raises(DataError, match="wav"):
        load_emodb(tmp_path)
    _emodb(tmp_path, True)
    (tmp_path / "wav" / "08a04Tc.wav").unlink()
    with pytest.raises(DataError, match="08a04Tc.wav"):
        load_emodb(tmp_path)
    (tmp_path / "labels.csv").write_text("name,who\nx,y\n")
    with pytest.raises(DataError, match="missing column"):
        load_emodb(tmp_path)


def test_speaker_splits_are_disjoint(tmp_path):
    _emodb(tmp_path, True)
    c = load_emodb(tmp_path)
    folds = list(c.speaker_kfold(2, seed=0))
    assert len(folds) == 2
    for tr, te in folds:
        assert not set(c.speakers[tr]) & set(c.speakers[te])
    tr, te = c.speaker_holdout(0.25)
    assert_disjoint(c.speakers, tr, te)
    assert not hasattr(c, "random_split")


def test_binary_maps_cover_all_emodb_classes():
    assert set(EMODB_CLASSES) <= set(CATEGORY_VA)
    assert HIGH_AROUSAL & set(EMODB_CLASSES) == {"anger", "fear", "happiness"}
    assert POSITIVE_VALENCE & set(EMODB_CLASSES) == {"happiness", "neutral"}


def test_ravdess_layout(tmp_path):
    _wav(tmp_path / "Actor_01" / "03-01-05-01-02-01-01.wav")  # angry speech
    _wav(tmp_path / "Actor_01" / "03-02-03-02-01-01-01.wav")  # happy song: skipped by default
    _wav(tmp_path / "Actor_12" / "03-01-02-01-01-02-12.wav")  # calm
    c = load_ravdess(tmp_path)
    assert sorted((u.speaker, u.emotion) for u in c.utterances) == [
        ("ravdess:01", "anger"),
        ("ravdess:12", "calm"),
    ]
    assert len(load_ravdess(tmp_path, include_song=True)) == 3
    _wav(tmp_path / "Actor_02" / "03-01-05-01-02-01-07.wav")
    with pytest.raises(DataError, match="Actor_02"):
        load_ravdess(tmp_path)


def test_iemocap_layout_uses_dimensional_ratings(tmp_path):
    sess = tmp_path / "Session1"
    ev = sess / "dialog" / "EmoEvaluation"
    ev.mkdir(parents=True)
    (ev / "Ses01F_impro01.txt").write_text(
        "% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]\n\n"
        "[6.2901 - 8.2357]\tSes01F_impro01_F000\tneu\t[2.5000, 2.5000, 2.5000]\n"
        "C-E2:\tNeutral;\t()\n\n"
        "[10.0100 - 11.3925]\tSes01F_impro01_M001\tang\t[1.5000, 4.0000, 3.5000]\n\n"
        "[12.0 - 13.0]\tSes01F_impro01_F002\txxx\t[3.0000, 3.0000, 3.0000]\n"
    )
    for n in ("Ses01F_impro01_F000", "Ses01F_impro01_M001", "Ses01F_impro01_F002"):
        _wav(sess / "sentences" / "wav" / "Ses01F_impro01" / f"{n}.wav")
    c = load_iemocap(tmp_path)
    assert [u.emotion for u in c.utterances] == ["neutral", "anger"]
    ang = c.utterances[1]
    assert ang.speaker == "iemocap:1M"
    assert (ang.valence, ang.arousal) == (-0.75, 0.5)
    (sess / "sentences" / "wav" / "Ses01F_impro01" / "Ses01F_impro01_M001.wav").unlink()
    with pytest.raises(DataError, match="Ses01F_impro01_M001.wav"):
        load_iemocap(tmp_path)


def _emodb_root():
    root = os.environ.get("CARDIOTUNE_DATA")
    path = Path(root, "speech", "emodb") if root else None
    if path is None or not path.is_dir():
        pytest.skip("real EMO-DB not available: set CARDIOTUNE_DATA to the shared data folder")
    return path


def test_real_emodb_has_535_utterances_of_10_speakers():
    c = load_emodb(_emodb_root())
    assert len(c) == 535
    assert len(set(c.speakers)) == 10
    assert {u.emotion for u in c.utterances} == set(EMODB_CLASSES)
