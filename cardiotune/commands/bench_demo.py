"""``cardiotune bench demo``."""
from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser("demo", help="whole-chain throughput, CPU, RSS and sample->publish latency")
    p.add_argument("--broker", metavar="URL", help="mqtt://host:port (default: embedded broker)")
    p.add_argument("--out", default="bench/results/demo.json", help="JSON output (default: %(default)s)")
    p.add_argument("--latency-speed", type=float, default=1.0, help="replay speed for the latency run (default 1)")
    p.add_argument("--latency-duration", type=float, default=60.0, help="ECG seconds for the latency run")
    p.set_defaults(func=_run)


def _run(args) -> int:
    from pathlib import Path

    from cardiotune.edge.benchmarks import bench_demo

    bench_demo(Path(args.out), args.broker, args.latency_speed, args.latency_duration)
    return 0
