"""``cardiotune recording repair <file.xdf>``: recover a truncated or damaged recording."""
from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser("recording", help="work with session recordings (XDF)")
    rsub = p.add_subparsers(dest="recording_command", metavar="WHAT")
    rsub.required = True
    r = rsub.add_parser("repair", help="recover a truncated XDF file (power loss, kill, full disk)",
                        description="Keep every complete, well-formed chunk, drop the damaged tail (and any "
                                    "damaged region up to the next boundary chunk), add stream footers. "
                                    "The input file is never modified.")
    r.add_argument("path", metavar="FILE.xdf")
    r.add_argument("-o", "--output", metavar="PATH", help="where to write (default: FILE.repaired.xdf)")
    r.set_defaults(func=_repair)


def _repair(args) -> int:
    import json

    from cardiotune.edge.recording.repair import XdfRepairError, repair_file
    from cardiotune.errors import CardiotuneError

    try:
        out, report = repair_file(args.path, args.output)
    except (FileNotFoundError, XdfRepairError, ValueError) as exc:
        raise CardiotuneError(str(exc)) from None
    print(json.dumps({"output": str(out), "input_bytes": report.input_bytes, "kept_bytes": report.kept_bytes,
                      "dropped_bytes": report.dropped_bytes, "chunks_kept": report.chunks_kept,
                      "chunks_dropped": report.chunks_dropped, "notes": report.notes,
                      "streams": {str(k): v for k, v in report.streams.items()}}, indent=2))
    return 0
