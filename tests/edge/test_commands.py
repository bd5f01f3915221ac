import json

from cardiotune.edge.commands import MAX_PAYLOAD_BYTES, CommandHandler
from hypothesis import given, settings
from hypothesis import strategies as st


class Rec:
    def __init__(self):
        self.policies = []

    def set_policy(self, p):
        self.policies.append(p)


def cmd(**kw):
    base = {"schema": "cardiotune.cmd/1", "id": "c1", "cmd": "set_policy", "args": {"policy": "steer", "goal": "calm"}}
    base.update(kw)
    return json.dumps(base).encode()


def test_valid_command_is_applied_once_and_acknowledged():
    rec = Rec()
    h = CommandHandler("dev", rec)
    ack = h.handle(cmd(), 1.0)
    assert ack["result"] == "accepted" and ack["id"] == "c1" and "calm" in ack["reason"]
    again = h.handle(cmd(), 2.0)
    assert again["result"] == "accepted" and again["duplicate"] is True
    assert len(rec.policies) == 1  # idempotent by id


def test_each_malformed_payload_is_rejected_with_a_reason():
    h = CommandHandler("dev", Rec())
    cases = {
        b"\xff\xfe": "UTF-8",
        b"{not json": "not JSON",
        b"[1,2]": "JSON list",
        json.dumps({"id": 5}).encode(): "'id'",
        cmd(schema="x"): "'schema'",
        cmd(cmd="reboot"): "unknown cmd",
        cmd(args=[1]): "'args'",
        cmd(args={"policy": "steer", "goal": "sleepy"}): "goal 'sleepy'",
        cmd(args={"policy": "match", "volume": 3}): "unknown args",
        cmd(args={"policy": "steer", "goal": "calm", "ramp_s": "soon"}): "ramp_s",
        b"x" * (MAX_PAYLOAD_BYTES + 1): "exceeds",
    }
    for k, (raw, fragment) in enumerate(cases.items()):
        if raw.startswith(b"{") and b'"id": "c1"' in raw:
            raw = raw.replace(b'"id": "c1"', f'"id": "c{k + 10}"'.encode())
        ack = h.handle(raw, 0.0)
        assert ack["result"] == "rejected" and fragment in ack["reason"], (raw[:60], ack)


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.binary(max_size=600), st.text(max_size=300).map(str.encode),
                 st.recursive(st.none() | st.booleans() | st.floats() | st.text(max_size=20),
                              lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c, max_size=4),
                              max_leaves=20).map(lambda x: json.dumps(x).encode())))
def test_fuzzed_payloads_never_raise(raw):
    ack = CommandHandler("dev", Rec()).handle(raw, 0.0)
    assert ack["result"] in ("accepted", "rejected") and isinstance(ack["reason"], str)
