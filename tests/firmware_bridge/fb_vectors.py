"""The shared table of test vectors: frame fields <-> wire bytes.

The table lives in firmware_bridge/protocol/vectors.json (for anyone porting the
firmware). These helpers turn its entries into Python frames and into input lines for
the C harness (tests/firmware_bridge/c/harness.c).
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

from cardiotune.firmware_bridge import protocol as p

VECTORS_PATH = Path(p.__file__).with_name("vectors.json")


def load_vectors():
    return json.loads(VECTORS_PATH.read_text())["vectors"]


def frame_from_dict(d):
    d = dict(d)
    kind = d.pop("type")
    if kind == "data":
        d["samples"] = tuple(d["samples"])
        return p.DataFrame(**d)
    if kind == "info":
        d["firmware"] = tuple(d["firmware"])
        d["channels"] = tuple(p.ChannelInfo(**c) for c in d["channels"])
        return p.InfoFrame(**d)
    return {"control": p.ControlFrame, "ack": p.AckFrame, "log": p.LogFrame}[kind](**d)


def _hex(text: str) -> str:
    return text.encode("utf-8").hex() or "-"


def _f32_bits(x: float) -> int:
    return struct.unpack("<I", struct.pack("<f", x))[0]


def c_line(d) -> str:
    kind = d["type"]
    head = f"{d.get('stream', 0)} {d.get('seq', 0)} {d.get('flags', 0)}"
    if kind == "data":
        return (
            f"D {head} {d.get('status', 0)} {d.get('fmt', 1)} {d.get('channels', 1)} "
            f"{len(d['samples']) // d.get('channels', 1)} {d['rate_mhz']} {d['sample_index']} "
            f"{d['t_us']} " + " ".join(str(s) for s in d["samples"])
        )
    if kind == "info":
        chans = " ".join(
            f"{_f32_bits(c['scale_uv'])} {c.get('offset', 0)} {_hex(c['label'])}"
            for c in d["channels"]
        )
        return (
            f"I {head} {' '.join(str(x) for x in d['firmware'])} {d['rate_mhz']} {d['adc_bits']} "
            f"{_hex(d['model'])} {_hex(d['serial'])} {len(d['channels'])} {chans}"
        ).rstrip()
    if kind == "control":
        return f"C {head} {d['command']} {d.get('arg', 0)}"
    if kind == "ack":
        return f"A {head} {d['command']} {d['command_seq']} {d['result']} {d.get('value', 0)}"
    if kind == "log":
        return f"L {head} {d['level']} {_hex(d['text'])}"
    raise ValueError(f"unknown vector type {kind!r}")
