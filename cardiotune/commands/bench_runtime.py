"""``cardiotune bench runtime``."""
from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser("runtime", help="runtime throughput, CPU per stream at 1x, publish latencies, RSS",
                       description="Replays the demo session through the whole runtime: as fast as possible, "
                                   "at 1x for the CPU share of one core, and paced for latency percentiles "
                                   "(picks with and without the SQLite outbox); then ECG + a synthetic voice "
                                   "through the fused chain and the speech model, as fast as possible. "
                                   "Prints a table, writes JSON.")
    p.add_argument("--broker", metavar="URL", help="mqtt://host:port (default: Mosquitto on 127.0.0.1:1883 if it "
                                                  "listens, else an in-process embedded broker)")
    p.add_argument("--out", default="bench/results/runtime.json", help="JSON output (default: %(default)s)")
    p.add_argument("--cpu-seconds", type=float, default=60.0, help="ECG seconds replayed at 1x for the CPU share")
    p.add_argument("--latency-speed", type=float, default=10.0, help="replay speed of the latency runs")
    p.add_argument("--latency-duration", type=float, default=600.0, help="ECG seconds of each latency run")
    p.add_argument("--max-duration", type=float, default=None,
                   help="ECG seconds of the as-fast-as-possible runs (default: the whole 12-minute session)")
    p.add_argument("--voice-duration", type=float, default=120.0,
                   help="ECG seconds of the ECG + voice run (synthetic voice; default: %(default)s)")
    p.add_argument("--voice-model", default="builtin:speech", help="speech model manifest (default: %(default)s)")
    p.set_defaults(func=_run)


def _run(args) -> int:
    from pathlib import Path

    from cardiotune.edge.benchmarks import bench_runtime

    bench_runtime(Path(args.out), args.broker, args.cpu_seconds, args.latency_speed, args.latency_duration,
                  max_duration=args.max_duration, voice_duration=args.voice_duration, voice_manifest=args.voice_model)
    return 0
