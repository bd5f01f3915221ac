"""JSON payloads of the topic tree (pure functions; schemas in ``schemas/*.schema.json``).

Every payload has ``schema`` (name/version), ``device``, ``ts`` (UNIX seconds at
publication, wall clock) and, where it describes data, ``data_time`` (the source-clock
span of the data it was computed from) so a consumer can tell fresh from stale.
Missing numbers are ``null``, never NaN (NaN is not JSON).
"""
from __future__ import annotations

import json
import math
from typing import Any, Dict, Optional

from ..ecg.hrv import HrvWindow
from ..recommender import Pick
from ..smoothing import SmoothedVa

__all__ = ["STATUS_SCHEMA", "STATE_SCHEMA", "PICK_SCHEMA", "status_payload", "state_payload",
           "pick_payload", "encode"]

STATUS_SCHEMA = "cardiotune.status/1"
STATE_SCHEMA = "cardiotune.state/1"
PICK_SCHEMA = "cardiotune.pick/1"


def _num(x: Optional[float], ndigits: int = 4) -> Optional[float]:
    if x is None or not math.isfinite(x):
        return None
    return round(float(x), ndigits)


def encode(payload: Dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), allow_nan=False).encode("utf-8")


def status_payload(device: str, state: str, ts: Optional[float], **extra: Any) -> Dict[str, Any]:
    return {"schema": STATUS_SCHEMA, "device": device, "state": state, "ts": _num(ts, 3), **extra}


def state_payload(device: str, seq: int, ts: float, ttl_s: float, va: SmoothedVa,
                  window: HrvWindow, calibrated: bool) -> Dict[str, Any]:
    return {
        "schema": STATE_SCHEMA,
        "device": device,
        "seq": seq,
        "ts": _num(ts, 3),
        "ttl_s": ttl_s,
        "data_time": {"start": _num(window.t_start, 3), "end": _num(window.t_end, 3)},
        "status": va.status,
        "valence": _num(va.valence),
        "arousal": _num(va.arousal),
        "valence_sd": _num(va.valence_sd),
        "arousal_sd": _num(va.arousal_sd),
        "hr_bpm": _num(window.hr_bpm, 2),
        "rmssd_ms": _num(window.rmssd_ms, 2),
        "signal_quality": window.quality,
        "quality_reason": window.reason,
        "calibrated": calibrated,
    }


def pick_payload(device: str, seq: int, ts: float, pick: Pick, window_start: float) -> Dict[str, Any]:
    tr = pick.track
    ttl = float(tr.duration_s) + 5.0  # a pick is worth playing until its track would have ended
    return {
        "schema": PICK_SCHEMA,
        "device": device,
        "seq": seq,
        "ts": _num(ts, 3),
        "ttl_s": ttl,
        "pick_id": f"{device}-{pick.t:.3f}-{tr.id}",
        "data_time": {"start": _num(window_start, 3), "end": _num(pick.t, 3)},
        "track": {"id": tr.id, "title": tr.title, "valence": _num(tr.valence), "arousal": _num(tr.arousal),
                  "uri": tr.uri, "duration_s": _num(tr.duration_s, 3)},
        "reason": {
            "trigger": pick.trigger,
            "policy": (pick.policy or {"name": "match"})["name"],
            "policy_detail": pick.policy or {"name": "match"},
            "target": {"valence": _num(pick.target[0]), "arousal": _num(pick.target[1])},
            "state": {"valence": _num(pick.state.valence), "arousal": _num(pick.state.arousal),
                      "status": pick.state.status},
            "distance": _num(pick.distance),
            "runners_up": [{"id": i, "distance": _num(d)} for i, d in pick.runners_up],
            "similarity": getattr(pick, "similarity", "va-distance"),
            "adjustment": _num(getattr(pick, "adjustment", 0.0)),
            "text": (f"nearest track to target V={pick.target[0]:+.2f} A={pick.target[1]:+.2f} "
                     f"(state V={pick.state.valence:+.2f} A={pick.state.arousal:+.2f}, "
                     f"{(pick.policy or {'name': 'match'})['name']}, {pick.trigger}); distance {pick.distance:.2f}"),
        },
    }
