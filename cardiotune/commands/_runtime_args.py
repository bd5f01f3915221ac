"""Argument helpers shared by ``demo`` and ``run``."""
from __future__ import annotations

import argparse


def speed_arg(text: str):
    if text == "max":
        return "max"
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"speed {text!r}: expected a number > 0 (1 = real time) or 'max'") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"speed {text!r}: expected a number > 0 (1 = real time) or 'max'")
    return value


def add_override_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--broker", metavar="URL", help="mqtt://host:port of a broker (default: an embedded broker)")
    p.add_argument("--speed", type=speed_arg, metavar="N|max", help="replay speed: 1 = real time, N, or max")
    p.add_argument("--duration", type=float, metavar="S",
                   help="seconds of the session to play (a live source: seconds to run)")
    p.add_argument("--device-id", metavar="ID", help="device id in the MQTT topic tree")
    p.add_argument("--summary", metavar="PATH", help="write the run summary (JSON) here")
    p.add_argument("--record", metavar="PATH", help="record ECG, states and picks to this XDF file")
    p.add_argument("--plain", action="store_true", help="plain log lines instead of the live view")
    p.add_argument("--catalog", metavar="INDEX", help="recommend from this catalog index (.npz from `cardiotune "
                   "catalog build --index` / `catalog export`) instead of the demo catalog")


def apply_overrides(data: dict, args) -> dict:
    """Command-line values win over the profile; the result is validated like a file."""
    def put(section, key, value):
        if value is not None:
            data.setdefault(section, {})[key] = value

    put("mqtt", "broker", args.broker)
    put("source", "speed", args.speed)
    put("source", "duration_s", args.duration)
    put("device", "id", args.device_id)
    return data


def run_with(data: dict, args, source_name: str) -> int:
    import asyncio
    import json
    from pathlib import Path

    from cardiotune.edge.app import run_app
    from cardiotune.edge.config import config_from_dict

    cfg = config_from_dict(apply_overrides(data, args), source_name)
    summary_path = Path(args.summary) if args.summary else None
    record = Path(args.record) if args.record else None
    catalog = None
    if getattr(args, "catalog", None):
        from cardiotune.edge.catalog_index import load_catalog_index

        index = load_catalog_index(args.catalog)
        catalog = index.tracks
        print(f"catalog {args.catalog}: {len(index)} tracks ({', '.join(index.meta.get('models', []))})")
    from cardiotune.edge.diagnostics import install_task_dump

    async def main():
        install_task_dump(asyncio.get_running_loop())  # kill -USR1 <pid>: where is it waiting?
        return await run_app(cfg, summary_path=summary_path, live_ui=False if args.plain else None,
                             record_path=record, catalog=catalog)

    result = asyncio.run(main())
    print(json.dumps(result.summary, indent=2))
    return 0
