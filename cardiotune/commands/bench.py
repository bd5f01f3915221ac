"""``cardiotune bench <what>``: benchmarks print a table and write JSON.

Each benchmark is a module ``cardiotune.commands.bench_<name>`` with ``register(subparsers)``.
"""
import importlib

BENCH_MODULES = ["demo", "runtime", "models", "catalog", "player"]


def register(sub):
    p = sub.add_parser("bench", help="benchmarks (print a table, write JSON)")
    bsub = p.add_subparsers(dest="bench_command", metavar="WHAT")
    bsub.required = True
    for name in BENCH_MODULES:
        importlib.import_module(f"cardiotune.commands.bench_{name}").register(bsub)
