"""``cardiotune train <task> --config configs/train/<task>.toml [--resume]``.

Each task is ``"module:function"``; the function takes ``(config_path, resume=...)``,
trains, writes its checkpoint + metrics JSON and returns the metrics dict. Adding a task
is one line in ``TASKS``.
"""

import importlib
import json

TASKS = {
    "speech": "cardiotune.export.speech.train:train_task",
    "ecg": "cardiotune.export.ecg.train:train_task",
    "music": "cardiotune.export.music.train:run",
    "cmer": "cardiotune.export.cmer.train:run",
    "hrv-va": "cardiotune.export.skeleton_va:train_task",
}


def register(sub):
    p = sub.add_parser(
        "train", help="train a model from a TOML config (progress, checkpoints, early stopping)"
    )
    p.add_argument("task", choices=sorted(TASKS), help="what to train")
    p.add_argument("--config", required=True, help="TOML file, e.g. configs/train/<task>.toml")
    p.add_argument("--resume", action="store_true", help="continue from the task's last checkpoint")
    p.set_defaults(func=run)


def run(args) -> int:
    module, func = TASKS[args.task].split(":")
    metrics = getattr(importlib.import_module(module), func)(args.config, resume=args.resume)
    summary = {k: v for k, v in metrics.items() if k not in ("history", "config")}
    print(json.dumps(summary, indent=2, default=str))
    return 0
