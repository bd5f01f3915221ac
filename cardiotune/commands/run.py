"""``cardiotune run --config configs/<profile>.toml``: the runtime driven by a config profile."""
from __future__ import annotations

from ._runtime_args import add_override_args, run_with


def register(sub) -> None:
    p = sub.add_parser("run", help="run the device runtime from a TOML profile",
                       description="Run the runtime from a TOML profile; the profile is validated before "
                                   "anything starts. Command-line options override the profile. A live source "
                                   "(source.kind = \"serial\" or \"lsl\", see configs/serial.toml, configs/lsl.toml) "
                                   "runs until Ctrl-C / SIGTERM or --duration seconds.")
    p.add_argument("--config", required=True, metavar="PATH",
                   help="TOML profile, e.g. configs/demo.toml or configs/serial.toml")
    add_override_args(p)
    p.set_defaults(func=_run)


def _run(args) -> int:
    import sys

    from cardiotune.edge.config import load_config

    if sys.version_info >= (3, 11):
        import tomllib
    else:
        import tomli as tomllib
    load_config(args.config)  # validate the file as written, so errors name the file's own keys
    with open(args.config, "rb") as fh:
        data = tomllib.load(fh)
    return run_with(data, args, args.config)
