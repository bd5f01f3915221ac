"""Evidence for which release (DEAM or emoMusic) has valence/arousal names swapped.

Re-computes every number quoted in ``export/data/music.py`` and the music model card from
the files in ``$CARDIOTUNE_DATA/music`` (``cardiotune evaluate music`` writes the result to
``swap_evidence.json``). Loads DEAM with ``fix_swap=False`` to look at the raw columns.
"""

from __future__ import annotations

import os
from typing import Dict

import numpy as np
from scipy.stats import pearsonr, spearmanr

from ..data.music import DEAM_SWAPPED_MAX_ID, load_deam, load_emomusic

__all__ = ["swap_evidence"]


def _audio_descriptors(path: str) -> Dict[str, float]:
    from cardiotune._imports import import_optional

    librosa = import_optional("librosa", "server", "swap evidence from audio")
    y, sr = librosa.load(path, sr=22050, mono=True)
    rms = librosa.feature.rms(y=y)[0]
    onset = librosa.onset.onset_strength(y=y, sr=sr)
    return {
        "loudness_db": float(20 * np.log10(np.mean(rms) + 1e-9)),
        "onset_strength": float(onset.mean()),
        "onsets_per_s": float(
            len(librosa.onset.onset_detect(onset_envelope=onset, sr=sr)) / (len(y) / sr)
        ),
        "tempo_bpm": float(librosa.feature.tempo(onset_envelope=onset, sr=sr)[0]),
    }


def swap_evidence(music_root: str, audio: bool = True) -> Dict:
    em = load_emomusic(os.path.join(music_root, "emomusic"))
    deam = load_deam(os.path.join(music_root, "deam"), fix_swap=False)
    out: Dict = {}
    s = em.static
    pos = {int(i): k for k, i in enumerate(s.song_ids)}
    ids = [i for i in em.dynamic if i in pos]
    sa = np.array([s.arousal[pos[i]] for i in ids])
    sv = np.array([s.valence[pos[i]] for i in ids])
    da = np.array([em.dynamic[i][:, 1].mean() for i in ids])
    dv = np.array([em.dynamic[i][:, 0].mean() for i in ids])
    out["emomusic_internal"] = {
        "n": len(ids),
        "r_static_arousal_vs_dynamic_arousal": float(pearsonr(sa, da)[0]),
        "r_static_arousal_vs_dynamic_valence": float(pearsonr(sa, dv)[0]),
        "r_static_valence_vs_dynamic_valence": float(pearsonr(sv, dv)[0]),
        "r_static_valence_vs_dynamic_arousal": float(pearsonr(sv, da)[0]),
    }
    dpos = {int(i): k for k, i in enumerate(deam.song_ids)}
    common = [int(i) for i in s.song_ids if int(i) in dpos]
    out["deam_vs_emomusic"] = {
        "n_common": len(common),
        "r_deam_valence_col_vs_emomusic_arousal": float(
            pearsonr([deam.valence[dpos[i]] for i in common], [s.arousal[pos[i]] for i in common])[
                0
            ]
        ),
        "r_deam_valence_col_vs_emomusic_valence": float(
            pearsonr([deam.valence[dpos[i]] for i in common], [s.valence[pos[i]] for i in common])[
                0
            ]
        ),
    }
    parts = {}
    for name, m in (
        (
            f"ids<={DEAM_SWAPPED_MAX_ID} (2013 set, = emoMusic)",
            deam.song_ids <= DEAM_SWAPPED_MAX_ID,
        ),
        (f"ids>{DEAM_SWAPPED_MAX_ID} (2014-2015 sets)", deam.song_ids > DEAM_SWAPPED_MAX_ID),
    ):
        parts[name] = {
            "n": int(m.sum()),
            "sd_of_column_named_valence": float(deam.valence[m].std()),
            "sd_of_column_named_arousal": float(deam.arousal[m].std()),
        }
    out["deam_raw_column_spread"] = parts
    genres: Dict[str, list] = {}
    for k, i in enumerate(s.song_ids):
        g = em.info.get(int(i), {}).get("Genre")
        if g:
            genres.setdefault(g, []).append(k)
    out["emomusic_genre_means"] = {
        g: {
            "n": len(ks),
            "arousal": float(s.arousal[ks].mean()),
            "valence": float(s.valence[ks].mean()),
        }
        for g, ks in sorted(genres.items())
    }
    if audio:
        clips = [int(i) for i in s.song_ids if em.clip_path(int(i))]
        desc = {i: _audio_descriptors(em.clip_path(i)) for i in clips}
        a = [s.arousal[pos[i]] for i in clips]
        v = [s.valence[pos[i]] for i in clips]
        out["clips"] = {
            "song_ids": clips,
            "emomusic_arousal": a,
            "emomusic_valence": v,
            "descriptors": desc,
        }
        for key in ("loudness_db", "onset_strength", "onsets_per_s", "tempo_bpm"):
            x = [desc[i][key] for i in clips]
            out["clips"][f"spearman_{key}_vs_arousal"] = float(spearmanr(x, a)[0])
            out["clips"][f"spearman_{key}_vs_valence"] = float(spearmanr(x, v)[0])
            out["clips"][f"pearson_{key}_vs_arousal"] = float(pearsonr(x, a)[0])
            out["clips"][f"pearson_{key}_vs_valence"] = float(pearsonr(x, v)[0])
        out["clips"]["note"] = (
            "the 5 clips have the same rank order in arousal and valence, so rank statistics "
            "cannot tell the two apart; Pearson differences on n = 5 are not significant"
        )
    return out
