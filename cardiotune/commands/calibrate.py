"""``cardiotune calibrate --user NAME``: measure a resting baseline and store it for that user."""
from __future__ import annotations

import argparse


def _user(text: str) -> str:
    from cardiotune.edge.calibration import validate_user

    try:
        return validate_user(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def register(sub) -> None:
    p = sub.add_parser("calibrate", help="measure and store a user's resting ECG baseline",
                       description="Measure a resting baseline (median HR, RMSSD, SDNN of the valid HRV windows) "
                                   "from the first --duration seconds of a recording and store it for --user; "
                                   "`run`/`demo` with [calibration] user = NAME reuse it from the first window.")
    p.add_argument("--user", required=True, type=_user, help="who is being calibrated (letters, digits, '_' or '-')")
    p.add_argument("--source", default="builtin:demo", metavar="PATH",
                   help="recording to measure (.npz, .xdf, .hea/.dat, .edf, .csv); default: the bundled demo")
    p.add_argument("--duration", type=float, default=120.0, metavar="S", help="resting seconds to use (default 120)")
    p.add_argument("--ecg-channel", metavar="LABEL", help="ECG channel label when the file has several")
    p.add_argument("--fs", type=float, metavar="HZ", help="sample rate of a CSV without a time column")
    p.add_argument("--data-dir", metavar="DIR", help="where per-user data lives (default: $CARDIOTUNE_DATA_DIR "
                                                     "or the platform's user data folder)")
    p.set_defaults(func=_run)


def _run(args) -> int:
    import json

    from cardiotune.edge.calibration import CalibrationStore, baseline_from_session
    from cardiotune.edge.sources.files import load_recording

    session = load_recording(args.source, ecg_channel=args.ecg_channel, fs=args.fs)
    baseline = baseline_from_session(session, args.duration)
    path = CalibrationStore(args.data_dir).save(args.user, baseline, f"first {args.duration:g} s of {args.source}",
                                                args.duration)
    print(json.dumps({"user": args.user, "baseline": baseline.to_dict(), "stored": str(path)}, indent=2))
    return 0
