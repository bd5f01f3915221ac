"""``cardiotune bench models``: torch vs onnxruntime fp32/fp16/int8 latency, load time, RSS."""
from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser("models", help="batch-1 latency (1 thread / default) of every shipped model, torch vs ORT")
    p.add_argument("--dir", help="a folder of <name>/manifest.json (default: the package's edge/models)")
    p.add_argument("--out", default="bench/results/models.json", help="JSON output (default: %(default)s)")
    p.add_argument("-n", type=int, default=1000, help="timed runs per measurement (default: %(default)s)")
    p.add_argument("--no-torch", action="store_true", help="onnxruntime only (no torch installed)")
    p.set_defaults(func=_run)


def _run(args) -> int:
    from pathlib import Path

    from cardiotune._imports import import_optional
    from cardiotune.edge.model_registry import shipped_manifests

    if not args.no_torch:
        import_optional("torch", "train", "the torch side of cardiotune bench models")
    from cardiotune.export.onnx_export.bench import bench_models, format_table

    result = bench_models(shipped_manifests(args.dir), Path(args.out), n=args.n, with_torch=not args.no_torch)
    print(format_table(result))
    print(f"wrote {args.out}")
    return 0
