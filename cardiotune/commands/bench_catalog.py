"""``cardiotune bench catalog``: top-10 retrieval latency, exact vs HNSW index, 10k-1M tracks."""
from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser("catalog", help="catalog retrieval: top-10 latency exact vs HNSW, recall@10")
    p.add_argument("--sizes", default="10000,100000,1000000", help="catalog sizes (default: %(default)s)")
    p.add_argument("--dim", type=int, default=8, help="vector dimension (CMER embedding: 8) (default: %(default)s)")
    p.add_argument("--queries", type=int, default=200, help="queries per size (default: %(default)s)")
    p.add_argument("--ef", type=int, default=64, help="HNSW expansion_search (default: %(default)s)")
    p.add_argument("--out", default="bench/results/catalog_retrieval.json", help="JSON output (default: %(default)s)")
    p.set_defaults(func=_run)


def _run(args) -> int:
    import os

    # one core for the queries: pin BLAS threads before numpy starts them
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    from pathlib import Path

    from cardiotune.errors import ConfigError
    from cardiotune.server.bench_retrieval import bench_retrieval

    try:
        sizes = [int(s) for s in args.sizes.split(",")]
    except ValueError:
        raise ConfigError("--sizes", args.sizes, "comma-separated integers") from None
    bench_retrieval(Path(args.out), sizes, dim=args.dim, n_queries=args.queries, expansion_search=args.ef)
    print(f"wrote {args.out}")
    return 0
