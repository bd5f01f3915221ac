"""Writers of small fixtures in exactly the published layouts (names, headers, quoting)."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from cardiotune.export.data.music import SOUNDTRACKS110_FEATURES


def write_deam(root, ids_a=(2, 3, 1001, 1002), ids_b=(2001, 2002)):
    os.makedirs(root, exist_ok=True)
    with open(os.path.join(root, "static_annotations_averaged_songs_1_2000.csv"), "w") as f:
        f.write("song_id, valence_mean, valence_std, arousal_mean, arousal_std\n")
        for i in ids_a:
            f.write(f"{i},{3 + i % 5},0.9,{2 + i % 3},0.6\n")
    with open(os.path.join(root, "static_annotations_averaged_songs_2000_2058.csv"), "w") as f:
        f.write(
            "song_id, valence_mean, valence_std, valence_ max_mean, valence_max_std, "
            "valence_min_mean, valence_min_std, arousal_mean, arousal_std, "
            "arousal_max_mean, arousal_max_std, arousal_min_mean, arousal_min_std\n"
        )
        for i in ids_b:
            f.write(f"{i},3.2,0.98,5.0,1.41,2.2,0.98,6.6,0.8,8.6,0.49,3.4,1.02\n")


def write_emomusic(root, ids=(2, 3, 4, 5), n_frames=6):
    os.makedirs(root, exist_ok=True)
    with open(os.path.join(root, "static_annotations.csv"), "w") as f:
        f.write("song_id,mean_arousal,std_arousal,mean_valence,std_valence\n")
        for i in ids:
            f.write(f"{i},{2 + i},0.99443,{1 + i},0.66667\n")
    with open(os.path.join(root, "songs_info.csv"), "w") as f:
        f.write(
            '"song_id","file_name","Artist","Song title","start of the segment (min.sec)",'
            '"end of the segment (min.sec)","Genre","Mediaeval 2013 set"\n'
        )
        for i in ids:
            f.write(
                f'{i},"\t{i}.mp3","Artist {i}\t","\tTitle {i}\t",'
                '"\t0.48\t","\t1.33\t","\tBlues\t","development"\n'
            )
    header = "song_id," + ",".join(f"sample_{15000 + 500 * k}ms" for k in range(n_frames))
    for dim, off in (("arousal", 0.1), ("valence", -0.1)):
        for kind in ("average", "std"):
            with open(os.path.join(root, f"{dim}_cont_{kind}.csv"), "w") as f:
                f.write(header + "\n")
                for i in ids:
                    vals = [off + 0.01 * i + 0.001 * k for k in range(n_frames)]
                    f.write(f"{i}," + ",".join(str(v) for v in vals) + "\n")


def write_pmemo_scatter(root, n=5):
    os.makedirs(root, exist_ok=True)
    items = [
        {"id": i + 1, "title": f"t{i}", "artist": "a", "v": 0.1 * i, "a": 0.2 + 0.1 * i}
        for i in range(n)
    ]
    with open(os.path.join(root, "scatter.json"), "w") as f:
        json.dump(items, f)


def write_pmemo_csv(root):
    os.makedirs(root, exist_ok=True)
    with open(os.path.join(root, "static_annotations.csv"), "w") as f:
        f.write("musicId,Arousal(mean),Valence(mean)\n1,0.4,0.575\n4,0.263,0.287\n")
    with open(os.path.join(root, "dynamic_annotations.csv"), "w") as f:
        f.write("musicId,frameTime,Arousal(mean),Valence(mean)\n")
        for t in (16.0, 15.5, 15.0):
            f.write(f"1,{t},{t / 100},{t / 50}\n")


def write_soundtracks110(root, n=20, seed=0):
    """n excerpts from n // 2 films; Energy depends on RMS so a model can learn it."""
    rng = np.random.default_rng(seed)
    os.makedirs(root, exist_ok=True)
    feats = rng.normal(size=(n, len(SOUNDTRACKS110_FEATURES)))
    energy = np.clip(5 + 1.5 * feats[:, 0], 1, 9)
    valence = np.clip(5 - 1.0 * feats[:, 5], 1, 9)
    with open(os.path.join(root, "soundtrack.csv"), "w") as f:
        f.write(
            "Number,Valence,Energy,Tension,Anger,Fear,Happy,Sad,Tender,Beauty,Liking,soundtrack,"
            "TARGET_EMOTION,TARGET_STRENGTH,TARGET_POLARITY,TARGET_FRAMEWORK\n"
        )
        for k in range(n):
            r = rng.uniform(1, 9, size=8)
            f.write(
                f"{k + 1},{valence[k]:.2f},{energy[k]:.2f},"
                + ",".join(f"{x:.2f}" for x in r)
                + f",Film {k // 2},Anger,High,NONE,Discrete\n"
            )
    with open(os.path.join(root, "soundtrack_features.csv"), "w") as f:
        f.write("File," + ",".join(SOUNDTRACKS110_FEATURES) + "\n")
        for k in reversed(range(n)):  # rows out of order on purpose: join is by number
            f.write(f"{k + 1:03d}.mp3," + ",".join(str(x) for x in feats[k]) + "\n")
    return feats, valence, energy


def real_music_root():
    d = os.environ.get("CARDIOTUNE_DATA")
    if not d or not os.path.isdir(os.path.join(d, "music")):
        pytest.skip("CARDIOTUNE_DATA unset or has no music/ folder: real-data test skipped")
    return os.path.join(d, "music")
