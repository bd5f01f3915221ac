"""Commands arriving on ``cardiotune/v1/<device>/cmd``: parse, validate, apply, acknowledge.

Pure logic. Every command is answered (on ``.../ack``) with ``accepted`` or ``rejected``
and a reason; a malformed payload (invalid UTF-8, not JSON, wrong types, oversized)
is rejected, never raised. Command ids make commands idempotent: a repeated id gets the
original answer again and is not applied twice.

    {"schema": "cardiotune.cmd/1", "id": "c-42", "cmd": "set_policy",
     "args": {"policy": "steer", "goal": "calm", "ramp_s": 600}}
"""
from __future__ import annotations

import json
from collections import OrderedDict
from typing import Any, Callable, Dict, Optional

from .policy import make_policy

__all__ = ["CMD_SCHEMA", "ACK_SCHEMA", "CommandHandler", "MAX_PAYLOAD_BYTES"]

CMD_SCHEMA = "cardiotune.cmd/1"
ACK_SCHEMA = "cardiotune.ack/1"
MAX_PAYLOAD_BYTES = 4096
_ID_MAX = 128


def _reject_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")  # Python's json accepts NaN/Infinity; the schema does not


class CommandHandler:
    """``handle(raw_bytes, now) -> ack payload``. ``recommender`` gets ``set_policy``."""

    def __init__(self, device_id: str, recommender, remember: int = 256):
        self.device_id, self.recommender = device_id, recommender
        self._seen: OrderedDict[str, Dict[str, Any]] = OrderedDict()
        self._remember = remember
        self._commands: Dict[str, Callable[[Dict[str, Any]], str]] = {"set_policy": self._set_policy,
                                                                      "ping": lambda args: "pong",
                                                                      "feedback": self._feedback}
        self.accepted = self.rejected = 0

    def _ack(self, cmd_id: Optional[str], result: str, reason: str, now: float) -> Dict[str, Any]:
        if result == "accepted":
            self.accepted += 1
        else:
            self.rejected += 1
        return {"schema": ACK_SCHEMA, "device": self.device_id, "id": cmd_id, "ts": round(now, 3),
                "result": result, "reason": reason}

    def handle(self, raw: bytes, now: float) -> Dict[str, Any]:
        if len(raw) > MAX_PAYLOAD_BYTES:
            return self._ack(None, "rejected", f"payload of {len(raw)} bytes exceeds {MAX_PAYLOAD_BYTES}", now)
        try:
            msg = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
        except UnicodeDecodeError:
            return self._ack(None, "rejected", "payload is not valid UTF-8", now)
        except ValueError as exc:
            return self._ack(None, "rejected", f"payload is not JSON: {exc}", now)
        if not isinstance(msg, dict):
            return self._ack(None, "rejected", f"payload is a JSON {type(msg).__name__}, expected an object", now)
        cmd_id = msg.get("id")
        if not isinstance(cmd_id, str) or not 0 < len(cmd_id) <= _ID_MAX:
            return self._ack(None, "rejected", f"'id' must be a string of 1-{_ID_MAX} characters", now)
        if cmd_id in self._seen:
            return dict(self._seen[cmd_id], duplicate=True)
        ack = self._apply(msg, cmd_id, now)
        self._seen[cmd_id] = ack
        while len(self._seen) > self._remember:
            self._seen.popitem(last=False)
        return ack

    def _apply(self, msg: Dict[str, Any], cmd_id: str, now: float) -> Dict[str, Any]:
        if msg.get("schema") != CMD_SCHEMA:
            return self._ack(cmd_id, "rejected", f"'schema' must be {CMD_SCHEMA!r}", now)
        name, args = msg.get("cmd"), msg.get("args", {})
        if name not in self._commands:
            return self._ack(cmd_id, "rejected", f"unknown cmd {str(name)[:40]!r}; expected one of "
                                                 f"{sorted(self._commands)}", now)
        if not isinstance(args, dict):
            return self._ack(cmd_id, "rejected", "'args' must be an object", now)
        try:
            detail = self._commands[name](args)
        except (ValueError, TypeError) as exc:
            return self._ack(cmd_id, "rejected", str(exc)[:300], now)
        return self._ack(cmd_id, "accepted", detail, now)

    def _set_policy(self, args: Dict[str, Any]) -> str:
        unknown = set(args) - {"policy", "goal", "ramp_s"}
        if unknown:
            raise ValueError(f"unknown args {sorted(unknown)}; expected policy, goal, ramp_s")
        ramp = args.get("ramp_s", 600.0)
        if isinstance(ramp, bool) or not isinstance(ramp, (int, float)):
            raise ValueError(f"ramp_s {ramp!r}: expected a number of seconds > 0")
        policy = make_policy(str(args.get("policy", "")), args.get("goal"), float(ramp))
        self.recommender.set_policy(policy)
        return f"policy set to {policy.describe()}"

    def _feedback(self, args: Dict[str, Any]) -> str:
        unknown = set(args) - {"kind", "track_id"}
        if unknown:
            raise ValueError(f"unknown args {sorted(unknown)}; expected kind, track_id")
        track = args.get("track_id")
        if track is not None and not isinstance(track, str):
            raise ValueError(f"track_id {track!r}: expected a track id string")
        return self.recommender.feedback(str(args.get("kind", "")), track)
