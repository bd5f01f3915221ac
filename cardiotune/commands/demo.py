"""``cardiotune demo``: the whole chain on embedded defaults - offline, no hardware, no broker to install."""
from __future__ import annotations

from ._runtime_args import add_override_args, run_with


def register(sub) -> None:
    p = sub.add_parser(
        "demo", help="replay the bundled session through the real chain and publish picks over MQTT",
        description="Replays a bundled 12-minute synthetic session (rest -> stress -> recovery) through the ECG "
                    "front-end, the ONNX VA model, smoothing and the recommender, publishing state and picks on "
                    "MQTT. With no --broker an embedded broker is started in-process.")
    add_override_args(p)
    p.set_defaults(func=_run)


def _run(args) -> int:
    return run_with({}, args, "demo defaults")
