"""The one ``cardiotune`` command. Each subcommand lives in ``cardiotune.commands.<name>``.

A command module defines ``register(subparsers)`` which adds its parser and sets
``func``; it parses arguments, loads config and calls one library function. Heavy imports
happen inside the function, so ``cardiotune --help`` stays fast and the edge never
imports the training stack.
"""
from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys

# One BLAS thread unless the user says otherwise, set before numpy loads OpenBLAS: the
# runtime's matrices are tiny, and a second thread only contends for the core the event
# loop needs (bench/voice_fusion.py, 120 s, ECG + voice: 131x real time with the default
# threads, 373x with one, per CPU-second).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
from typing import List, Optional

from . import __version__
from .errors import CardiotuneError

# Order is the order shown in --help.
COMMAND_MODULES = [
    "demo",
    "run",
    "calibrate",
    "player",
    "catalog",
    "bench",
    "train",
    "eval",
    "export",
    "models",
    "firmware",
    "bridge",
    "status",
    "recording",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cardiotune",
        description="Wearable ECG (and voice) to live music recommendations over MQTT.",
    )
    parser.add_argument("--version", action="version", version=f"cardiotune {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv: debug)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMAND_MODULES:
        importlib.import_module(f"cardiotune.commands.{name}").register(sub)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)-7s %(name)s: %(message)s")
    try:
        return int(args.func(args) or 0)
    except CardiotuneError as exc:
        print(f"cardiotune: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("cardiotune: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
