"""``cardiotune eval <what>`` (alias ``evaluate``): every reported number comes from here.

Each evaluation lives in its own module ``cardiotune.commands.eval_<name>`` with
``register(subparsers)``.
"""
import importlib

EVAL_MODULES = ["rpeaks", "speech", "ecg", "music", "retrieval"]


def register(sub):
    p = sub.add_parser("eval", aliases=["evaluate"], help="evaluate detectors and models on real data")
    evsub = p.add_subparsers(dest="eval_command", metavar="WHAT")
    evsub.required = True
    for name in EVAL_MODULES:
        importlib.import_module(f"cardiotune.commands.eval_{name}").register(evsub)
