"""The player's pure logic: payload validation, staleness, de-duplication, backoff, fades."""
from __future__ import annotations

import json
import random

import numpy as np
import pytest
from cardiotune.edge.player import Backoff, Crossfader, PickFilter, parse_pick

NOW = 1_700_000_000.0


def pick(pick_id="p1", ts=NOW, ttl_s=25.0, device="dev1", **track):
    tr = {"id": "proc-024", "title": "Bright Major Dance 155 bpm", "valence": 0.8,
          "arousal": 0.8, "uri": "file:///nowhere/proc-024.wav", "duration_s": 20.0}
    tr.update(track)
    return json.dumps({
        "schema": "cardiotune.pick/1", "device": device, "seq": 3, "ts": ts, "ttl_s": ttl_s,
        "pick_id": pick_id, "track": tr, "reason": {"text": "nearest"},
        "data_time": {"start": ts - 30, "end": ts},
    }).encode()


def test_valid_pick_is_played():
    d = PickFilter("dev1").decide(pick(), now=NOW + 1.0)
    assert d.action == "play" and d.age_s == pytest.approx(1.0)
    assert d.pick.track.title == "Bright Major Dance 155 bpm" and d.pick.seq == 3


def test_stale_pick_is_ignored_with_its_age():
    d = PickFilter("dev1").decide(pick(ttl_s=10.0), now=NOW + 12.5)
    assert d.action == "stale"
    assert "stale pick ignored: age 12.5 s > ttl 10.0 s" in d.message


def test_pick_at_exactly_its_ttl_still_plays():
    assert PickFilter().decide(pick(ttl_s=10.0), now=NOW + 10.0).action == "play"


def test_duplicates_are_ignored_and_memory_is_bounded():
    f = PickFilter("dev1", remember=2)
    assert f.decide(pick("a"), NOW).action == "play"
    assert f.decide(pick("a"), NOW).action == "duplicate"
    f.decide(pick("b"), NOW)
    f.decide(pick("c"), NOW)  # "a" is now forgotten (LRU of 2)
    assert f.decide(pick("a"), NOW).action == "play"


def test_future_pick_plays_with_a_clock_note():
    d = PickFilter().decide(pick(ts=NOW + 5), now=NOW)
    assert d.action == "play" and "clocks differ" in d.message


def test_other_devices_pick_is_invalid():
    d = PickFilter("dev1").decide(pick(device="dev2"), NOW)
    assert d.action == "invalid" and "'dev2'" in d.message


@pytest.mark.parametrize("payload, names", [
    (b"not json", "not valid JSON"),
    (b"\xff\xfe", "not valid JSON"),
    (b"[1, 2]", "expected a JSON object"),
    (b"", "not valid JSON"),
])
def test_garbage_is_invalid(payload, names):
    d = PickFilter().decide(payload, NOW)
    assert d.action == "invalid" and names in d.message


def _mutate(path, value):
    doc = json.loads(pick())
    target = doc
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return json.dumps(doc).encode()


@pytest.mark.parametrize("path, value, field", [
    (("schema",), "cardiotune.pick/2", "schema"),
    (("ts",), KeyError, "ts"),
    (("ts",), "yesterday", "ts"),
    (("ttl_s",), 0, "ttl_s"),
    (("ttl_s",), -5, "ttl_s"),
    (("seq",), True, "seq"),
    (("seq",), -1, "seq"),
    (("pick_id",), "", "pick_id"),
    (("device",), "a/b", "device"),
    (("track",), "proc-001", "track"),
    (("track", "valence"), 3.0, "track.valence"),
    (("track", "arousal"), None, "track.arousal"),
    (("track", "uri"), KeyError, "track.uri"),
    (("track", "duration_s"), 0, "track.duration_s"),
    (("reason",), "because", "reason"),
])
def test_each_bad_field_is_named(path, value, field):
    payload = _mutate(path, value)
    d = PickFilter().decide(payload, NOW)
    assert d.action == "invalid"
    assert f"invalid pick ignored: {field}:" in d.message


def test_nan_is_rejected():
    payload = pick().replace(b'"ts": 1700000000.0', b'"ts": NaN')
    assert b"NaN" in payload
    assert PickFilter().decide(payload, NOW).action == "invalid"


def test_parse_accepts_str_and_keeps_reason():
    p = parse_pick(pick().decode())
    assert p.reason == {"text": "nearest"} and p.describe().startswith("Bright Major Dance")


def test_backoff_is_capped_exponential_with_jitter():
    b = Backoff(initial=0.5, cap=8.0, jitter=0.5, rng=random.Random(1))
    delays = [b.next() for _ in range(10)]
    bases = [0.5, 1, 2, 4, 8, 8, 8, 8, 8, 8]
    for d, base in zip(delays, bases):
        assert base * 0.5 <= d <= base
    assert len(set(delays)) == 10  # jittered
    b.reset()
    assert b.next() <= 0.5
    with pytest.raises(ValueError, match="expected 0 < initial <= cap"):
        Backoff(initial=5, cap=1)


def test_crossfader_plays_then_fades_to_the_next_clip():
    x = Crossfader(fade_frames=4)
    assert not np.any(x.render(3))  # silence before anything plays
    x.start(np.ones(10))
    assert np.all(x.render(3) == 1.0) and x.playing
    x.start(np.full(10, 2.0))  # the old clip fades out over 4 frames under the new one
    out = x.render(6)
    assert out[0] == pytest.approx(3.0)  # 1.0 (fade start) + 2.0
    assert np.all(np.diff(out[:4]) < 0) and np.all(out[4:] == 2.0)
    x.render(10)
    assert not x.playing and not np.any(x.render(5))
    x.start(np.ones(10))
    x.stop()
    assert x.render(8)[4:].sum() == 0 and not x.playing
