"""`catalog import`: each annotation format on small fixtures in its published layout (with
bad rows, which are reported and not imported), the one VA scale, and - when
CARDIOTUNE_DATA is set - the real DEAM, emoMusic, PMEmo and Soundtracks110 files."""
from __future__ import annotations

import json
import sqlite3

import numpy as np
import pytest
from cardiotune.server.catalog.imports import import_annotations, read_annotations

from cardiotune.errors import DataError


def _rows(res):
    return {r.id: r for r in res.rows}


def test_deam_swaps_2013_part_and_reports_bad_rows(tmp_path):
    d = tmp_path / "deam"
    d.mkdir()
    (d / "static_annotations_averaged_songs_1_2000.csv").write_text(
        "song_id, valence_mean, valence_std, arousal_mean, arousal_std\n"
        "2,3.0,0.8,7.0,0.4\n"       # 2013 part: columns swapped back
        "1500,9.0,1.0,1.0,2.0\n"    # 2014 part: as released
        "1501,,1.0,5.0,1.0\n"       # missing valence
        "1502,9.5,1.0,5.0,1.0\n"    # out of the 1-9 range
        "1503,abc,1.0,5.0,1.0\n")   # not a number
    res = read_annotations("deam", d)
    r = _rows(res)
    assert set(r) == {"deam-2", "deam-1500"}
    assert (r["deam-2"].valence, r["deam-2"].arousal) == (0.5, -0.5)  # V=7, A=3 on 1-9
    assert (r["deam-2"].valence_sd, r["deam-2"].arousal_sd) == (0.1, 0.2)
    assert (r["deam-1500"].valence, r["deam-1500"].arousal) == (1.0, -1.0)
    why = [w for _where, w in res.problems]
    assert why == ["valence_mean is missing", "valence_mean = 9.5 is outside the published range [1, 9]",
                   "valence_mean is 'abc', not a number"]
    assert res.problems[0][0].endswith("static_annotations_averaged_songs_1_2000.csv:4")


def test_emomusic_pmemo_soundtracks_spotify_and_generic_csv(tmp_path):
    em = tmp_path / "em"
    (em / "clips").mkdir(parents=True)
    (em / "static_annotations.csv").write_text("song_id,mean_arousal,std_arousal,mean_valence,std_valence\n"
                                               "2,3,1,9,2\n7,5,1,NaN,1\n")
    (em / "songs_info.csv").write_text('"song_id","file_name","Artist","Song title"\n2,"\t2.mp3","A\t","\tT\t"\n')
    (em / "clips" / "2.mp3").write_bytes(b"x")
    res = read_annotations("emomusic", em)
    r = _rows(res)["emomusic-2"]
    assert (r.valence, r.arousal, r.title, r.artist) == (1.0, -0.5, "T", "A")
    assert r.uri.startswith("file://") and r.uri.endswith("/clips/2.mp3")
    assert res.problems[0][1] == "mean_valence is 'NaN', not finite"

    (tmp_path / "scatter.json").write_text(json.dumps(
        [{"id": 1, "title": "S", "artist": "B", "v": 0.75, "a": 0.25}, {"id": 2, "v": 1.2, "a": 0.5},
         {"id": 3, "v": 0.5}]))
    res = read_annotations("pmemo", tmp_path / "scatter.json")
    assert [(x.id, x.valence, x.arousal) for x in res.rows] == [("pmemo-1", 0.5, -0.5)]
    assert [w for _w, w in res.problems] == ["v = 1.2 is outside the published range [0, 1]", "a is missing"]

    (tmp_path / "soundtrack.csv").write_text("Number,Valence,Energy,Tension,soundtrack\n1,1,9,5,Film A\n2,5,,5,B\n")
    res = read_annotations("soundtracks110", tmp_path / "soundtrack.csv")
    assert [(x.id, x.valence, x.arousal, x.title) for x in res.rows] == [
        ("soundtracks110-001", -1.0, 1.0, "Film A (excerpt 001)")]
    assert res.problems[0][1] == "Energy is missing"

    (tmp_path / "spotify.csv").write_text(
        "Track URI,Track Name,Artist Name(s),Duration (ms),Danceability,Energy,Valence\n"
        "spotify:track:abc,Song,Art,200000,0.5,0.9,0.1\n"
        "spotify:track:def,Other,Art,180000,0.5,,0.4\n")
    res = read_annotations("spotify", tmp_path / "spotify.csv")
    r = _rows(res)["spotify-abc"]
    assert (round(r.valence, 6), round(r.arousal, 6), r.duration_s, r.uri) == (-0.8, 0.8, 200.0, "spotify:track:abc")
    assert res.problems[0][1] == "energy is missing"

    (tmp_path / "song.flac").write_bytes(b"x")
    (tmp_path / "mine.csv").write_text("id,uri,valence,arousal,title,artist\n"
                                       "a,song.flac,3,7,Mine,Me\nb,,5,5,,\nc,x.mp3,11,5,,\n")
    res = read_annotations("csv", tmp_path / "mine.csv", scale=(1, 9))
    r = _rows(res)["a"]
    assert (r.valence, r.arousal, r.title, r.path) == (-0.5, 0.5, "Mine", str((tmp_path / "song.flac").resolve()))
    assert [w for _w, w in res.problems] == ["uri is missing", "valence = 11 is outside the published range [1, 9]"]


def test_import_errors_name_the_problem(tmp_path):
    with pytest.raises(DataError, match="not found"):
        read_annotations("deam", tmp_path / "nope")
    (tmp_path / "x.csv").write_text("id,valence\n1,0.5\n")
    with pytest.raises(DataError, match=r"missing column\(s\) \['uri', 'arousal'\]"):
        read_annotations("csv", tmp_path / "x.csv")
    with pytest.raises(DataError, match="expected Spotify-style columns valence, energy"):
        read_annotations("spotify", tmp_path / "x.csv")
    with pytest.raises(ValueError, match="expected one of deam, emomusic"):
        read_annotations("itunes", tmp_path / "x.csv")


def test_import_into_db_stores_rows_and_problems(tmp_path):
    (tmp_path / "mine.csv").write_text("id,uri,valence,arousal\na,spotify:track:1,0.2,-0.4\nb,u,2,0\n")
    db = tmp_path / "c.db"
    import_annotations(db, "csv", tmp_path / "mine.csv")
    import_annotations(db, "csv", tmp_path / "mine.csv")  # idempotent
    con = sqlite3.connect(db)
    assert con.execute("SELECT id, valence, arousal, source FROM tracks").fetchall() == [
        ("a", 0.2, -0.4, "import:csv")]
    assert con.execute("SELECT reason FROM problems").fetchall() == [
        ("valence = 2 is outside the published range [-1, 1]",)]


def test_real_annotation_sets(data_dir, tmp_path):
    music = data_dir / "music"
    db = tmp_path / "real.db"
    got = {k: import_annotations(db, k, music / k) for k in ("deam", "emomusic", "pmemo", "soundtracks110")}
    assert {k: len(v.rows) for k, v in got.items()} == {"deam": 1802, "emomusic": 744, "pmemo": 767,
                                                        "soundtracks110": 110}
    assert all(not v.problems for v in got.values())
    for v in got.values():
        va = np.array([[r.valence, r.arousal] for r in v.rows])
        assert va.min() >= -1 and va.max() <= 1
    # after DEAM's swap fix, the songs both releases share agree dimension by dimension
    deam = _rows(got["deam"])
    pairs = [(deam[f"deam-{r.id.split('-')[1]}"], r) for r in got["emomusic"].rows
             if f"deam-{r.id.split('-')[1]}" in deam]
    assert len(pairs) == 744
    for dim in ("valence", "arousal"):
        a = np.array([getattr(p[0], dim) for p in pairs])
        b = np.array([getattr(p[1], dim) for p in pairs])
        assert np.corrcoef(a, b)[0, 1] > 0.99
    # the five emoMusic clips are real files the player can play
    clips = [r for r in got["emomusic"].rows if r.path]
    assert sorted(r.id for r in clips) == ["emomusic-2", "emomusic-3", "emomusic-4", "emomusic-5", "emomusic-7"]
