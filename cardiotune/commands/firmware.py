"""``cardiotune firmware simulate``: a virtual ECG board on a pty (see firmware_bridge)."""

from __future__ import annotations

import argparse


def _pair(text: str):
    try:
        a, b = text.split(":")
        return float(a), float(b)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r}: expected START:DURATION in seconds, e.g. 30:5"
        ) from None


def register(sub) -> None:
    p = sub.add_parser(
        "firmware", help="sensor firmware tools: a simulated ECG board on a virtual serial port"
    )
    fsub = p.add_subparsers(dest="firmware_command", metavar="ACTION")
    fsub.required = True
    s = fsub.add_parser(
        "simulate", help="stream synthetic (or replayed) ECG on a pty; prints the port path"
    )
    s.add_argument(
        "--link",
        help="stable symlink to the port, kept across unplug/replug (like /dev/serial/by-id)",
    )
    s.add_argument("--rate", type=float, default=250.0, help="sample rate, Hz (default 250)")
    s.add_argument("--samples-per-frame", type=int, default=10)
    s.add_argument("--noise", type=float, default=0.0, help="extra white noise, mV")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument(
        "--lead-off",
        type=_pair,
        action="append",
        default=[],
        metavar="START:DUR",
        help="a lead-off episode (repeatable)",
    )
    s.add_argument("--drop-bytes", type=float, default=0.0, help="probability a byte is lost")
    s.add_argument(
        "--corrupt-bytes", type=float, default=0.0, help="probability a byte is corrupted"
    )
    s.add_argument(
        "--unplug",
        type=_pair,
        action="append",
        default=[],
        metavar="AT:DOWN",
        help="pull the cable at AT s for DOWN s (repeatable)",
    )
    s.add_argument(
        "--unplug-resets", action="store_true", help="the board reboots when plugged back in"
    )
    s.add_argument("--clock-ppm", type=float, default=0.0, help="device crystal error, ppm")
    s.add_argument(
        "--replay", help="replay a file of millivolts (.npy, or text one value per line)"
    )
    s.add_argument("--text", action="store_true", help="legacy 'one number per line' output")
    s.add_argument("--serial", default="SIM-0001", help="serial number in the INFO frame")
    s.add_argument(
        "--duration", type=float, help="stop after this many seconds (default: run until Ctrl-C)"
    )
    s.set_defaults(func=_simulate)


def _simulate(args) -> int:
    import asyncio

    import numpy as np

    from cardiotune.errors import ConfigError
    from cardiotune.firmware_bridge.simulator import LinkFaults, PtySimulator, SimConfig

    replay = None
    if args.replay:
        try:
            replay = (
                np.load(args.replay) if args.replay.endswith(".npy") else np.loadtxt(args.replay)
            )
        except (OSError, ValueError) as exc:
            raise ConfigError(
                "--replay", args.replay, f"a readable .npy or text file of millivolts ({exc})"
            ) from exc
        replay = np.asarray(replay, dtype=np.float32).reshape(-1)
    try:
        cfg = SimConfig(
            rate_hz=args.rate,
            samples_per_frame=args.samples_per_frame,
            noise_mv=args.noise,
            seed=args.seed,
            lead_off=args.lead_off,
            clock_ppm=args.clock_ppm,
            text=args.text,
            serial=args.serial,
            replay_mv=replay,
        )
        cfg.validate()
    except ValueError as exc:
        field, _, rest = str(exc).partition("=")
        value, _, expected = rest.partition(": expected ")
        raise ConfigError(f"simulator {field}", value, expected or str(exc)) from exc
    faults = LinkFaults(args.drop_bytes, args.corrupt_bytes, args.unplug, args.unplug_resets)

    async def main():
        async with PtySimulator(cfg, link=args.link, faults=faults) as sim:
            print(f"port: {sim.port}", flush=True)
            if args.link:
                print(f"link: {args.link}", flush=True)
            if args.duration is None:
                await asyncio.Event().wait()
            await asyncio.sleep(args.duration)
            print(f"sent {sim.stats.bytes_written} bytes, {sim.stats.unplugs} unplugs", flush=True)

    asyncio.run(main())
    return 0
