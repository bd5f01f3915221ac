"""``cardiotune train <task>``: train a model (needs the ``train`` extra)."""
from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser("train", help="train a model (needs the train extra)")
    tsub = p.add_subparsers(dest="task", metavar="TASK")
    tsub.required = True
    hv = tsub.add_parser("hrv-va", help="the walking-skeleton HRV->VA model on synthetic subjects")
    hv.add_argument("--out", default=None, help="output folder (default: the shipped edge/models/hrv_va)")
    hv.add_argument("--subjects", type=int, default=30, help="number of synthetic subjects")
    hv.set_defaults(func=_hrv_va)


def _hrv_va(args) -> int:
    from cardiotune._imports import import_optional

    import_optional("torch", "train", "Training")
    from cardiotune.export import skeleton_va

    argv = ["--subjects", str(args.subjects)] + (["--out", args.out] if args.out else [])
    return skeleton_va.main(argv)
