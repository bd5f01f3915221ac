"""Log-mel features of whole corpora, computed by the device's numpy code and cached.

Each utterance is read (soundfile), mixed to mono, resampled to 16 kHz
(:func:`cardiotune.edge.speech.resample_to`), centre-cropped or zero-padded to
``clip_s`` seconds and turned into log-mel frames (:func:`cardiotune.edge.speech.log_mel`).
The cache key hashes the file list (path, size, mtime), the feature config and clip length.
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Optional

import numpy as np

from ..._imports import import_optional
from ...edge.speech import LogMelConfig, log_mel, resample_to
from ..data import cache_dir
from ..data.speech import SpeechCorpus

log = logging.getLogger(__name__)

__all__ = ["fix_length", "utterance_features", "corpus_features"]


def fix_length(x: np.ndarray, n: int) -> np.ndarray:
    """Centre-crop or zero-pad (at the end) to exactly ``n`` samples."""
    if x.size >= n:
        start = (x.size - n) // 2
        return x[start : start + n]
    return np.concatenate([x, np.zeros(n - x.size, dtype=x.dtype)])


def utterance_features(path, cfg: LogMelConfig, clip_s: float) -> np.ndarray:
    sf = import_optional("soundfile", "audio", "reading audio files")
    audio, sr = sf.read(str(path), dtype="float64", always_2d=True)
    audio = resample_to(audio.mean(axis=1), int(sr), cfg.sample_rate)
    return log_mel(fix_length(audio, int(round(clip_s * cfg.sample_rate))), cfg)


def _key(corpus: SpeechCorpus, cfg: LogMelConfig, clip_s: float) -> str:
    h = hashlib.sha1(json.dumps({"cfg": cfg.to_dict(), "clip_s": clip_s, "v": 1}).encode())
    for u in corpus.utterances:
        st = u.path.stat()
        h.update(f"{u.path}|{st.st_size}|{int(st.st_mtime)}\n".encode())
    return h.hexdigest()[:20]


def corpus_features(
    corpus: SpeechCorpus,
    cfg: Optional[LogMelConfig] = None,
    clip_s: float = 2.0,
    use_cache: bool = True,
    progress: bool = True,
) -> np.ndarray:
    """``(n_utterances, n_frames, n_mels)`` float32, cached under the cardiotune cache dir."""
    cfg = cfg or LogMelConfig()
    path = cache_dir("speech") / f"{corpus.name}-{_key(corpus, cfg, clip_s)}.npy"
    if use_cache and path.is_file():
        log.info("speech features from cache %s", path)
        return np.load(path)
    tqdm = import_optional("tqdm", "train", "progress bars").tqdm
    feats = np.stack(
        [
            utterance_features(u.path, cfg, clip_s)
            for u in tqdm(
                corpus.utterances, desc=f"log-mel {corpus.name}", disable=not progress, leave=False
            )
        ]
    )
    if use_cache:
        np.save(path, feats)
    return feats
