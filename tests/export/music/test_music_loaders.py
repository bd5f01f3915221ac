from __future__ import annotations

import os

import numpy as np
import pytest
from cardiotune.export.data.music import (
    load_deam,
    load_emomusic,
    load_pmemo,
    load_soundtracks110,
)
from cardiotune.export.splits import SplitLeakError, assert_disjoint
from music_fixtures import real_music_root, write_pmemo_csv

from cardiotune.errors import DataError


def test_deam_fixture_reads_both_files_and_swaps_2013_part(music_root):
    raw = load_deam(str(music_root / "deam"), fix_swap=False)
    fixed = load_deam(str(music_root / "deam"))
    assert list(fixed.song_ids) == [2, 3, 1001, 1002, 2001, 2002]
    old = fixed.song_ids <= 1000
    np.testing.assert_array_equal(fixed.valence[old], raw.arousal[old])
    np.testing.assert_array_equal(fixed.arousal[old], raw.valence[old])
    np.testing.assert_array_equal(fixed.valence[~old], raw.valence[~old])
    np.testing.assert_array_equal(fixed.arousal_std[old], raw.valence_std[old])
    assert fixed.scale == (1.0, 9.0)


def test_emomusic_fixture_static_dynamic_info(music_root):
    em = load_emomusic(str(music_root / "emomusic"))
    assert list(em.static.song_ids) == [2, 3, 4, 5]
    np.testing.assert_allclose(em.static.arousal, [4, 5, 6, 7])
    np.testing.assert_allclose(em.static.valence, [3, 4, 5, 6])
    seq = em.dynamic[3]
    assert seq.shape == (6, 2)
    np.testing.assert_allclose(seq[0], [-0.1 + 0.03, 0.1 + 0.03])  # [valence, arousal]
    assert em.info[2]["Genre"] == "Blues"  # tab padding stripped
    assert em.clip_path(2) is None


def test_pmemo_scatter_and_published_csv(music_root, tmp_path):
    ann, dyn = load_pmemo(str(music_root / "pmemo"))
    assert len(ann) == 5 and ann.scale == (0.0, 1.0) and dyn == {}
    np.testing.assert_allclose(ann.va(0, 1)[:, 0], ann.valence)
    write_pmemo_csv(str(tmp_path / "pm"))
    ann, dyn = load_pmemo(str(tmp_path / "pm"))
    np.testing.assert_allclose(ann.valence, [0.575, 0.287])
    np.testing.assert_allclose(dyn[1][:, 1], [0.15, 0.155, 0.16])  # sorted by frameTime


def test_soundtracks110_joins_features_by_number(music_root):
    st = load_soundtracks110(str(music_root / "soundtracks110"))
    assert st.features.shape == (20, 25)
    assert len(np.unique(st.static.groups)) == 10  # grouped by film
    # Energy was generated from feature 0 of the matching row: the join must respect Number
    r = np.corrcoef(st.features[:, 0], st.ratings["Energy"])[0, 1]
    assert r > 0.9


def test_va_rescaling():
    from cardiotune.export.data.music import MusicAnnotations

    a = MusicAnnotations(
        "x", np.array([1, 2]), np.array([1.0, 9.0]), np.array([5.0, 9.0]), (1.0, 9.0)
    )
    np.testing.assert_allclose(a.va(-1, 1), [[-1, 0], [1, 1]])


def test_splits_are_by_group_and_cover_everything(music_root):
    st = load_soundtracks110(str(music_root / "soundtracks110"))
    seen = []
    for tr, te in st.static.kfold(5, seed=1):
        assert not set(st.film[tr]) & set(st.film[te])
        seen.extend(te)
    assert sorted(seen) == list(range(20))
    tr, te = st.static.holdout(0.3, seed=0)
    assert not set(st.film[tr]) & set(st.film[te])
    with pytest.raises(SplitLeakError):
        assert_disjoint(st.film, np.array([0]), np.array([1]))  # rows 0 and 1 share a film


@pytest.mark.parametrize(
    "loader,sub,remove",
    [
        (load_deam, "deam", "static_annotations_averaged_songs_1_2000.csv"),
        (load_emomusic, "emomusic", "static_annotations.csv"),
        (load_soundtracks110, "soundtracks110", "soundtrack_features.csv"),
        (load_pmemo, "pmemo", "scatter.json"),
    ],
)
def test_missing_file_names_the_file(music_root, loader, sub, remove):
    os.remove(music_root / sub / remove)
    with pytest.raises(DataError, match=remove.split(".")[0]):
        loader(str(music_root / sub))


def test_missing_column_names_the_column(music_root):
    p = music_root / "emomusic" / "static_annotations.csv"
    p.write_text(p.read_text().replace("mean_valence", "valence_mean"))
    with pytest.raises(DataError, match="mean_valence"):
        load_emomusic(str(music_root / "emomusic"))


def test_bad_number_names_row_and_column(music_root):
    p = music_root / "deam" / "static_annotations_averaged_songs_1_2000.csv"
    lines = p.read_text().splitlines()
    lines[2] = "3,abc,1,1,1"
    p.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match=r"row 3 column 'valence_mean'"):
        load_deam(str(music_root / "deam"))


# ---- real data (skipped only when CARDIOTUNE_DATA is unset / lacks music/) ----
def test_real_counts_and_swap_resolution():
    root = real_music_root()
    em = load_emomusic(os.path.join(root, "emomusic"))
    deam = load_deam(os.path.join(root, "deam"))
    pm, _ = load_pmemo(os.path.join(root, "pmemo"))
    st = load_soundtracks110(os.path.join(root, "soundtracks110"))
    assert (len(em.static), len(deam), len(pm), len(st.static)) == (744, 1802, 767, 110)
    assert len(em.dynamic) == 744
    pos = {int(i): k for k, i in enumerate(deam.song_ids)}
    common = [k for k, i in enumerate(em.static.song_ids) if int(i) in pos]
    dv = deam.valence[[pos[int(em.static.song_ids[k])] for k in common]]
    assert np.corrcoef(dv, em.static.valence[common])[0, 1] > 0.999  # names agree after the fix
