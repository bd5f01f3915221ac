"""Speech-emotion corpora: EMO-DB, RAVDESS, IEMOCAP in their published layouts.

Category -> valence/arousal (documented, used everywhere results are reported)
-------------------------------------------------------------------------------
There are no dimensional labels in EMO-DB or RAVDESS. ``CATEGORY_VA`` places each
category on Russell's circumplex (Russell 1980, J. Pers. Soc. Psychol. 39:1161) at
approximate positions we chose from that figure, in [-1, 1]: they are the regression
targets of the VA head. The *binary* classes used for balanced accuracy follow the
convention of Schuller et al. 2009 (ASRU, "Acoustic emotion recognition: a benchmark
comparison of performances") for EMO-DB, so numbers are comparable with the literature:

==========  =======  =======  ===========  ============
category    valence  arousal  binary aro   binary val
==========  =======  =======  ===========  ============
anger        -0.6     0.8     high         negative
boredom      -0.4    -0.6     low          negative
disgust      -0.6     0.2     low          negative
fear         -0.7     0.6     high         negative
happiness     0.8     0.5     high         positive
neutral       0.1    -0.2     low          positive
sadness      -0.7    -0.5     low          negative
calm          0.4    -0.6     low          positive
surprise      0.3     0.7     high         positive
==========  =======  =======  ===========  ============

Disgust is the one category where the two conventions disagree (circumplex: mildly
aroused; Schuller: low arousal); we follow Schuller for the binary metric.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np

from ...errors import DataError
from ..splits import assert_disjoint, group_holdout, group_kfold
from . import require_file

__all__ = [
    "CATEGORY_VA",
    "HIGH_AROUSAL",
    "POSITIVE_VALENCE",
    "EMODB_CLASSES",
    "Utterance",
    "SpeechCorpus",
    "load_emodb",
    "load_ravdess",
    "load_iemocap",
]

CATEGORY_VA: Dict[str, Tuple[float, float]] = {
    "anger": (-0.6, 0.8),
    "boredom": (-0.4, -0.6),
    "disgust": (-0.6, 0.2),
    "fear": (-0.7, 0.6),
    "happiness": (0.8, 0.5),
    "neutral": (0.1, -0.2),
    "sadness": (-0.7, -0.5),
    "calm": (0.4, -0.6),
    "surprise": (0.3, 0.7),
}
HIGH_AROUSAL = frozenset({"anger", "fear", "happiness", "surprise"})
POSITIVE_VALENCE = frozenset({"happiness", "neutral", "calm", "surprise"})
EMODB_CLASSES = ("anger", "boredom", "disgust", "fear", "happiness", "neutral", "sadness")

# EMO-DB file names: speaker(2) text(3) emotion letter (German initial) version letter
_EMODB_LETTER = {
    "W": "anger",
    "L": "boredom",
    "E": "disgust",
    "A": "fear",
    "F": "happiness",
    "T": "sadness",
    "N": "neutral",
}
_EMODB_NAME = re.compile(r"^(\d\d)([a-b]\d\d)([WLEAFTN])([a-z])\.wav$")


@dataclass(frozen=True)
class Utterance:
    path: Path
    speaker: str  # the split group: corpus-qualified, e.g. "emodb:03"
    emotion: str  # canonical category (keys of CATEGORY_VA) or "other"
    valence: float  # from the dimensional annotation if the corpus has one, else CATEGORY_VA
    arousal: float


class SpeechCorpus:
    """Utterances with their speakers. Splits exist only by speaker."""

    def __init__(self, name: str, utterances: Sequence[Utterance]):
        if not utterances:
            raise DataError(f"{name}: no utterances found")
        self.name = name
        self.utterances: List[Utterance] = list(utterances)

    def __len__(self) -> int:
        return len(self.utterances)

    @property
    def speakers(self) -> np.ndarray:
        return np.array([u.speaker for u in self.utterances])

    def subset(self, idx) -> SpeechCorpus:
        return SpeechCorpus(self.name, [self.utterances[int(i)] for i in idx])

    def speaker_kfold(self, k: int, seed: int = 0) -> Iterator[Tuple[np.ndarray, np.ndarray]]:
        """Leave-speakers-out folds: (train_idx, test_idx), speakers disjoint (checked)."""
        for tr, te in group_kfold(self.speakers, k, seed):
            assert_disjoint(self.speakers, tr, te)
            yield tr, te

    def speaker_holdout(
        self, test_fraction: float = 0.2, seed: int = 0
    ) -> Tuple[np.ndarray, np.ndarray]:
        tr, te = group_holdout(self.speakers, test_fraction, seed)
        assert_disjoint(self.speakers, tr, te)
        return tr, te


def _utt(
    path: Path, speaker: str, emotion: str, va: Optional[Tuple[float, float]] = None
) -> Utterance:
    v, a = va if va is not None else CATEGORY_VA.get(emotion, (float("nan"), float("nan")))
    return Utterance(path, speaker, emotion, float(v), float(a))


def load_emodb(root) -> SpeechCorpus:
    """EMO-DB: ``wav/NNtNNEv.wav`` (original layout); ``labels.csv`` (file, speaker, emotion
    columns) is used when present, else labels come from the file names."""
    root = Path(root)
    wav_dir = root / "wav"
    if not wav_dir.is_dir():
        raise DataError(f"EMO-DB at {root}: expected the folder {wav_dir} with NNtNNEv.wav files")
    labels = root / "labels.csv"
    utts: List[Utterance] = []
    if labels.is_file():
        with open(labels, newline="") as fh:
            reader = csv.DictReader(fh)
            missing = {"file", "speaker", "emotion"} - set(reader.fieldnames or [])
            if missing:
                raise DataError(
                    f"{labels}: missing column(s) {sorted(missing)}; header is {reader.fieldnames}"
                )
            for row in reader:
                emo = row["emotion"].strip().lower()
                if emo not in EMODB_CLASSES:
                    raise DataError(
                        f"{labels}: emotion {emo!r} for {row['file']}: "
                        f"expected one of {EMODB_CLASSES}"
                    )
                path = require_file(root / row["file"], f"{labels} lists {row['file']}")
                utts.append(_utt(path, f"emodb:{int(row['speaker']):02d}", emo))
    else:
        for path in sorted(wav_dir.glob("*.wav")):
            m = _EMODB_NAME.match(path.name)
            if not m:
                raise DataError(
                    f"EMO-DB file {path}: name does not match NNtNNEv.wav (e.g. 03a01Fa.wav)"
                )
            utts.append(_utt(path, f"emodb:{m.group(1)}", _EMODB_LETTER[m.group(3)]))
    return SpeechCorpus("emodb", utts)


_RAVDESS_EMO = {
    "01": "neutral",
    "02": "calm",
    "03": "happiness",
    "04": "sadness",
    "05": "anger",
    "06": "fear",
    "07": "disgust",
    "08": "surprise",
}
_RAVDESS_NAME = re.compile(r"^(0[1-3])-(0[12])-(0[1-8])-(0[12])-(0[12])-(0[12])-(\d\d)\.wav$")


def load_ravdess(root, include_song: bool = False) -> SpeechCorpus:
    """RAVDESS audio: ``Actor_NN/MM-VV-EE-II-SS-RR-NN.wav`` (modality, vocal channel,
    emotion, intensity, statement, repetition, actor). Speech only unless ``include_song``."""
    root = Path(root)
    actors = sorted(p for p in root.glob("Actor_*") if p.is_dir())
    if not actors:
        raise DataError(f"RAVDESS at {root}: expected folders Actor_01 ... Actor_24")
    utts = []
    for actor in actors:
        for path in sorted(actor.glob("*.wav")):
            m = _RAVDESS_NAME.match(path.name)
            if not m:
                raise DataError(
                    f"RAVDESS file {path}: expected a name like 03-01-05-01-02-01-12.wav"
                )
            if m.group(2) == "02" and not include_song:
                continue
            if m.group(7) != actor.name[len("Actor_") :]:
                raise DataError(
                    f"RAVDESS file {path}: actor {m.group(7)} is not the folder's {actor.name}"
                )
            utts.append(_utt(path, f"ravdess:{m.group(7)}", _RAVDESS_EMO[m.group(3)]))
    return SpeechCorpus("ravdess", utts)


_IEMOCAP_EMO = {
    "neu": "neutral",
    "hap": "happiness",
    "exc": "happiness",
    "sad": "sadness",
    "ang": "anger",
    "fea": "fear",
    "dis": "disgust",
    "sur": "surprise",
}
_IEMOCAP_LINE = re.compile(
    r"^\[(\d+\.\d+) - (\d+\.\d+)\]\t(Ses0([1-5])[FM]_\S+_([FM])\d+)\t(\w+)\t"
    r"\[([\d.]+), ([\d.]+), ([\d.]+)\]"
)


def load_iemocap(root, keep_other: bool = False) -> SpeechCorpus:
    """IEMOCAP: ``SessionN/dialog/EmoEvaluation/*.txt`` summary lines
    ``[start - end]<TAB>utterance<TAB>cat<TAB>[V, A, D]`` and audio at
    ``SessionN/sentences/wav/<dialog>/<utterance>.wav``. Valence/arousal come from the
    dimensional ratings (1-5 mapped to [-1, 1]); speaker = session + gender."""
    root = Path(root)
    sessions = sorted(p for p in root.glob("Session[1-5]") if p.is_dir())
    if not sessions:
        raise DataError(f"IEMOCAP at {root}: expected folders Session1 ... Session5")
    utts = []
    for sess in sessions:
        eval_dir = sess / "dialog" / "EmoEvaluation"
        txts = sorted(eval_dir.glob("*.txt"))
        if not txts:
            raise DataError(f"IEMOCAP {sess.name}: expected *.txt files in {eval_dir}")
        for txt in txts:
            for line in txt.read_text(errors="replace").splitlines():
                m = _IEMOCAP_LINE.match(line)
                if not m:
                    continue
                name, code = m.group(3), m.group(6)
                emo = _IEMOCAP_EMO.get(code, "other")
                if emo == "other" and not keep_other:
                    continue
                dialog = name.rsplit("_", 1)[0]
                wav = require_file(
                    sess / "sentences" / "wav" / dialog / f"{name}.wav", f"{txt} lists {name}"
                )
                v, a = (float(m.group(7)) - 3.0) / 2.0, (float(m.group(8)) - 3.0) / 2.0
                utts.append(_utt(wav, f"iemocap:{m.group(4)}{m.group(5)}", emo, (v, a)))
    return SpeechCorpus("iemocap", utts)
