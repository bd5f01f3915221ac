"""``cardiotune bench player``: pick published -> "started" event, median and p99, per backend."""
from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser("player", help="closed loop: pick published -> 'started' player event (null + MPD)")
    p.add_argument("--broker", default="mqtt://127.0.0.1:1883", help="broker URL (default: %(default)s)")
    p.add_argument("--picks", type=int, default=50, help="picks per backend (default: %(default)s)")
    p.add_argument("--gap", type=float, default=0.3, help="seconds between picks (default: %(default)s)")
    p.add_argument("--backends", default="null,mpd", help="comma-separated: null, mpd (default: %(default)s)")
    p.add_argument("--out", default="bench/results/player.json", help="JSON output (default: %(default)s)")
    p.set_defaults(func=_run)


def _run(args) -> int:
    from pathlib import Path

    from cardiotune.edge.bench_player import bench_player

    bench_player(Path(args.out), args.broker, args.picks, args.gap, args.backends.split(","))
    print(f"wrote {args.out}")
    return 0
