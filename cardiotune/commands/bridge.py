"""``cardiotune bridge serial-to-lsl``: republish a serial ECG board as an LSL outlet."""

from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser("bridge", help="bridges between sensor links (serial board -> LSL outlet)")
    bsub = p.add_subparsers(dest="bridge_command", metavar="ACTION")
    bsub.required = True
    s = bsub.add_parser(
        "serial-to-lsl", help="publish a serial ECG board as an LSL stream (type ECG, mV)"
    )
    s.add_argument("port", help="serial port, e.g. /dev/ttyACM0 or a simulator's link")
    s.add_argument("--name", help="LSL stream name (default: 'cardiotune ECG <serial number>')")
    s.add_argument(
        "--source-id", help="LSL source_id (default: 'cardiotune-serial-<serial number>')"
    )
    s.add_argument("--baud", type=int, default=115200)
    s.add_argument("--text", action="store_true", help="the board prints one number per line")
    s.add_argument(
        "--rate", type=float, default=250.0, help="sample rate hint for --text boards, Hz"
    )
    s.add_argument(
        "--duration", type=float, help="stop after this many seconds (default: run until Ctrl-C)"
    )
    s.set_defaults(func=_serial_to_lsl)


def _serial_to_lsl(args) -> int:
    import asyncio

    from cardiotune.edge.tasks import cancel_and_wait
    from cardiotune.firmware_bridge.lsl_bridge import BridgeStats, serial_to_lsl

    stats = BridgeStats()

    def ready(st):
        print(f"lsl outlet: name={st.name!r} source_id={st.source_id!r}", flush=True)

    async def main():
        task = asyncio.ensure_future(
            serial_to_lsl(
                args.port,
                args.name,
                args.source_id,
                "text" if args.text else "binary",
                args.baud,
                args.rate,
                stats,
                ready,
            )
        )
        try:
            await asyncio.wait_for(asyncio.shield(task), args.duration)
        except asyncio.TimeoutError:
            await cancel_and_wait([task])

    asyncio.run(main())
    print(
        f"bridged {stats.samples} samples in {stats.chunks} chunks; "
        f"{stats.gaps} gaps ({stats.missing_samples} samples missing)",
        flush=True,
    )
    return 0
