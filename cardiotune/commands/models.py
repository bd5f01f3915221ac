"""``cardiotune models list|verify``: the models shipped in the package and their integrity."""
from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser("models", help="list the shipped ONNX models, or verify their hashes and contracts")
    msub = p.add_subparsers(dest="models_command", metavar="ACTION")
    msub.required = True
    for name, helptext, func in (("list", "name, version, size, metrics, sha256 of every shipped model", _list),
                                 ("verify", "re-check every model's size, sha256 and input/output contract",
                                  _verify)):
        q = msub.add_parser(name, help=helptext)
        q.add_argument("--dir", help="a folder of <name>/manifest.json (default: the package's edge/models)")
        q.add_argument("--json", action="store_true", help="print JSON instead of a table")
        if name == "verify":
            q.add_argument("--providers", help="also run each model on these providers (e.g. tensorrt,cuda,cpu) "
                                               "and compare with CPU results; reports what was really used")
        q.set_defaults(func=func)


def _list(args) -> int:
    import json

    from cardiotune.edge.model_registry import list_models

    rows = list_models(args.dir)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(f"{'name':14s} {'version':8s} {'size':>9s} {'all files':>10s} {'sha256':17s} variants / metrics")
    for r in rows:
        metrics = ", ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in
                            list(r["metrics"].items())[:4])
        print(f"{r['name']:14s} {r['version']:8s} {r['size_bytes']:>9d} {r['total_bytes']:>10d} "
              f"{r['sha256'][:16]}… {'/'.join(r['variants'])}  {metrics}")
    print(f"total {sum(r['total_bytes'] for r in rows) / 1e6:.2f} MB in {len(rows)} models")
    return 0


def _verify(args) -> int:
    import json

    from cardiotune.edge.model_registry import verify_models
    from cardiotune.edge.providers import validate_provider_names

    providers = validate_provider_names(args.providers.split(","), "--providers") if args.providers else None
    results = verify_models(args.dir, providers)
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        for r in results:
            if r["ok"]:
                print(f"OK    {r['name']:14s} " + ", ".join(f"{v} on {d['providers'][0]}" for v, d in
                                                           r["variants"].items()))
                if "device_parity" in r:
                    p = r["device_parity"]
                    print(f"      parity on {p['providers'][0]} vs CPU (asked for {p['requested'][0]}"
                          f"{', FELL BACK' if p['fell_back'] else ''}): max abs error "
                          + ", ".join(f"{k} {v:.2g}" for k, v in p["max_abs_error_vs_cpu"].items()))
            else:
                print(f"FAIL  {r['manifest']}: {r['error']}")
    return 0 if all(r["ok"] for r in results) else 1
